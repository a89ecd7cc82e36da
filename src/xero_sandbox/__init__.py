"""A faithful local imitation of Xero (identity, Accounting API, limits, webhooks)
for LedgerBridge's demo, tests and benchmarks. Imports nothing from ledgerbridge.
"""

from .app import create_app
from .state import Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxConfig", "create_app"]
