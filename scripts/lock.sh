#!/usr/bin/env bash
# Writes requirements/runtime.txt and requirements/dev.txt: every package, pinned
# with its hashes, resolved from pyproject.toml's direct dependencies. Existing
# pins are kept; to upgrade one package: scripts/lock.sh --upgrade-package NAME
# (or --upgrade for all). Uses the pip-tools pinned in requirements/dev.txt
# (./test's bootstrap installs it into .venv).
#   runtime.txt: the product and its sandbox (what ./run installs)
#   dev.txt:     also the benchmarks' extra and the test and lint tools (./test)
# pip-compile resolves for the Python it runs under: run it under the oldest
# Python we support (Debian 12's 3.11.2), since some packages need more on older
# patch releases (redis needs async-timeout below 3.11.3); extra pins are
# harmless on newer ones.
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {
    local out="$1"
    shift
    CUSTOM_COMPILE_COMMAND="scripts/lock.sh" .venv/bin/pip-compile --quiet \
        --generate-hashes --allow-unsafe --all-build-deps --strip-extras \
        --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
        --output-file "$out" "$@" pyproject.toml
}
compile requirements/runtime.txt --extra sandbox "$@"
compile requirements/dev.txt --extra sandbox --extra bench --extra dev "$@"
