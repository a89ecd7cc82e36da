"""LedgerBridge: the finance-integration part of a multi-company transport management system."""
