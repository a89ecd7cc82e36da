"""Names that something outside our Python reads or calls, for scripts/dead_code.py.

Each is named the way vulture counts a use; the comment says who uses it.
"""
# ruff: noqa: B018, F821

# Django: each app's AppConfig, found in its apps.py.
AccountingConfig, CompaniesConfig, InvoicingConfig, WebConfig, XeroConfig

# Django calls Field.from_db_value(value, expression, connection) and the
# django-axes lockout callable (request, original_response, credentials).
expression, original_response

# django-ninja: the cookie an APIKeyCookie auth reads.
_.param_name

# django-axes' middleware reads request.axes_locked_out to answer the lockout page.
_.axes_locked_out

# The charge types are stored values and form choices (TextChoices members).
ChargeType.FUEL_SURCHARGE, ChargeType.WAITING_TIME, ChargeType.TOLLS
ChargeType.SUBCONTRACTING, ChargeType.FUEL

# Standard library and uvicorn read these attributes: zipfile's ZipInfo, sqlite3's
# connection, http.server's handler hook, uvicorn's Server loop.
_.compress_type, _.external_attr, _.row_factory, _.log_message, _.should_exit

# Scripting API of test doubles that tests may call (the fake connector; the
# sandbox's control client, owned with its test fixtures).
_.resume, _.reset_rate_limits

# prometheus-client: a registry calls each collector's collect(); its metrics
# read values.ValueClass when they are made (set for the multiprocess files).
_.collect, _.ValueClass

# Django's ChoiceField calls valid_value() to accept a submitted choice (the partner
# picker overrides it to accept any of the company's partners, listed or not).
_.valid_value

# django-ninja's @paginate reads a pagination class's Output schema and calls its
# paginate_queryset() (the REST document list's cursor pages).
_.Output, _.paginate_queryset

# django-ninja calls its API's validation_error_from_error_contexts() to build a 422
# (ours answers in the services' shape: api/errors.py).
_.validation_error_from_error_contexts
