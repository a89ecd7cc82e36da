"""The Xero adapter: OAuth link, API client, mapping, posting, payments, import files.

Everything Xero-shaped (field names, dates, statuses, error bodies) lives here.
"""
