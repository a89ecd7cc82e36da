import sys

from ledgerbridge.bench import main

sys.exit(main())
