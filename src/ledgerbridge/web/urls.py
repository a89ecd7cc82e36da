from django.contrib.auth import views as auth_views
from django.urls import path

from .views import (
    account,
    accounting,
    configuration,
    documents,
    exports,
    golive,
    operations,
    partners,
    payments,
    platform,
    reconciliation,
)

urlpatterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("company/switch", account.company_switch, name="company_switch"),
    path("", documents.home, name="home"),
    # Platform staff: every company at a glance
    path("platform/operations", operations.platform_operations, name="platform_operations"),
    path("platform/companies/new", platform.company_new, name="platform_company_new"),
    # Invoices and credit notes
    path("invoices/", documents.invoice_list, name="invoice_list"),
    path("invoices/new", documents.document_new, name="document_new"),
    path("invoices/<int:pk>/", documents.document_detail, name="document_detail"),
    path("invoices/<int:pk>/edit", documents.document_edit, name="document_edit"),
    path("invoices/<int:pk>/pdf", documents.document_pdf, name="document_pdf"),
    path("invoices/post-to-xero", documents.documents_post_bulk, name="documents_post_bulk"),
    path("invoices/xero-progress", documents.xero_progress, name="xero_progress"),
    path("invoices/check-payments", payments.payments_check_now, name="payments_check_now"),
    path("invoices/outstanding", payments.outstanding, name="payments_outstanding"),
    path("webhooks/xero", payments.xero_webhook, name="xero_webhook"),
    path("invoices/<int:pk>/xero/retry", documents.document_sync_retry, name="document_sync_retry"),
    path("invoices/<int:pk>/finalise", documents.document_finalise_view, name="document_finalise"),
    path("invoices/<int:pk>/delete", documents.document_delete, name="document_delete"),
    path("invoices/<int:pk>/credit", documents.document_credit, name="document_credit"),
    path(
        "invoices/<int:pk>/gone-in-package",
        reconciliation.document_gone_act_view,
        name="document_gone_act",
    ),
    path(
        "invoices/<int:pk>/tasks/<int:task_id>/complete",
        documents.task_complete_view,
        name="task_complete",
    ),
    # Invoices > Reconciliation (ours and the package's books compared)
    path(
        "invoices/reconciliation/", reconciliation.reconciliation_page, name="reconciliation_page"
    ),
    path(
        "invoices/reconciliation/start",
        reconciliation.reconciliation_start,
        name="reconciliation_start",
    ),
    path(
        "invoices/reconciliation/progress",
        reconciliation.reconciliation_progress,
        name="reconciliation_progress",
    ),
    path(
        "invoices/reconciliation/rows/<int:pk>/",
        reconciliation.reconciliation_row,
        name="reconciliation_row",
    ),
    path(
        "invoices/reconciliation/rows/<int:pk>/acknowledge",
        reconciliation.reconciliation_acknowledge_view,
        name="reconciliation_acknowledge",
    ),
    path(
        "invoices/reconciliation/rows/<int:pk>/act",
        reconciliation.reconciliation_act_view,
        name="reconciliation_act",
    ),
    # Invoices Exports (Xero import files)
    path("invoices/exports/", exports.exports_page, name="exports_page"),
    path("invoices/exports/batches", exports.exports_batches, name="exports_batches"),
    path("invoices/exports/new", exports.exports_create, name="exports_create"),
    path("invoices/exports/<int:pk>/", exports.exports_batch, name="exports_batch"),
    path("invoices/exports/<int:pk>/download", exports.exports_download, name="exports_download"),
    path("invoices/exports/<int:pk>/reexport", exports.exports_reexport, name="exports_reexport"),
    # Partners
    path("partners/", partners.partner_list_view, name="partner_list"),
    path("partners/new", partners.partner_new, name="partner_new"),
    path("partners/options", partners.partner_options, name="partner_options"),
    path("partners/<int:pk>/", partners.partner_detail, name="partner_detail"),
    # Configuration (Super Admin, platform staff)
    path("configuration/", configuration.config_home, name="config_home"),
    path("configuration/company", configuration.config_company, name="config_company"),
    path(
        "configuration/nominal-codes/",
        configuration.config_nominal_codes,
        name="config_nominal_codes",
    ),
    path(
        "configuration/nominal-codes/<int:pk>/",
        configuration.config_nominal_code_edit,
        name="config_nominal_code_edit",
    ),
    path("configuration/tax-rates/", configuration.config_tax_rates, name="config_tax_rates"),
    path(
        "configuration/tax-rates/<int:pk>/",
        configuration.config_tax_rate_edit,
        name="config_tax_rate_edit",
    ),
    path(
        "configuration/number-series/",
        configuration.config_number_series,
        name="config_number_series",
    ),
    path(
        "configuration/number-series/<int:pk>/",
        configuration.config_number_series_edit,
        name="config_number_series_edit",
    ),
    path("configuration/dimensions/", configuration.config_dimensions, name="config_dimensions"),
    path(
        "configuration/dimensions/<int:pk>/",
        configuration.config_dimension,
        name="config_dimension",
    ),
    path(
        "configuration/dimensions/<int:pk>/values/new",
        configuration.config_dimension_value,
        name="config_dimension_value_new",
    ),
    path(
        "configuration/dimensions/<int:pk>/values/<int:value_id>/",
        configuration.config_dimension_value,
        name="config_dimension_value",
    ),
    path(
        "configuration/dimensions/<int:pk>/rules/new",
        configuration.config_dimension_rule,
        name="config_dimension_rule_new",
    ),
    path(
        "configuration/dimensions/<int:pk>/rules/<int:rule_id>/",
        configuration.config_dimension_rule,
        name="config_dimension_rule",
    ),
    path(
        "configuration/dimensions/<int:pk>/rules/<int:rule_id>/delete",
        configuration.config_dimension_rule_delete,
        name="config_dimension_rule_delete",
    ),
    path("configuration/audit/", configuration.config_audit, name="config_audit"),
    # Configuration > Accounting (the accounting package and the Xero link)
    path("configuration/accounting/", accounting.config_accounting, name="config_accounting"),
    path("configuration/accounting/go-live", golive.config_go_live, name="config_go_live"),
    path("configuration/accounting/go-live/match", golive.go_live_match, name="go_live_match"),
    path(
        "configuration/accounting/go-live/confirm", golive.go_live_confirm, name="go_live_confirm"
    ),
    path("configuration/accounting/go-live/choose", golive.go_live_choose, name="go_live_choose"),
    path(
        "configuration/accounting/package", accounting.accounting_package, name="accounting_package"
    ),
    path(
        "configuration/accounting/posting", accounting.accounting_posting, name="accounting_posting"
    ),
    path(
        "configuration/accounting/xero/authorise", accounting.xero_authorise, name="xero_authorise"
    ),
    path("configuration/accounting/xero/callback", accounting.xero_callback, name="xero_callback"),
    path("configuration/accounting/xero/choose", accounting.xero_choose, name="xero_choose"),
    path("configuration/accounting/xero/reset", accounting.xero_reset, name="xero_reset"),
    path("configuration/accounting/xero/check", accounting.xero_check, name="xero_check"),
    path(
        "configuration/accounting/xero/tracking-options",
        accounting.xero_tracking_options,
        name="xero_tracking_options",
    ),
    path("configuration/accounting/xero/mapping", accounting.xero_mapping, name="xero_mapping"),
    path("configuration/api-tokens/", configuration.config_api_tokens, name="config_api_tokens"),
    path(
        "configuration/api-tokens/<int:pk>/revoke",
        configuration.config_api_token_revoke,
        name="config_api_token_revoke",
    ),
]
