"""What reconciliation must know of Xero beyond reading it: which contacts are our
partners', and whether a voided or deleted document's number can be posted again.

- Contacts: the link table posting keeps (``XeroContactLink``, for the organisation
  linked now) and the contacts going live matched to our partners
  (``GoLiveContact``: by contact number, VAT number, exact name, or chosen by a
  Super Admin; never the ambiguous ones). A document typed in Xero for one of
  them belongs to us, so reconciliation lists it as *only in Xero*.
- Numbers: Xero refuses a sales invoice's or sales credit note's number that any
  document of the organisation holds, voided and deleted ones included ("Invoice #
  must be unique"; the sandbox does the same). A bill's number is the supplier's
  and need not be unique, so a voided or deleted bill can be posted again.
"""

from __future__ import annotations

from ledgerbridge.accounting.models import AccountingPackage, ContactMatchMethod, GoLiveContact
from ledgerbridge.accounting.reconcile import contact_links_register, number_reuse_register
from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import DocumentType

from .models import XeroConnection, XeroContactLink

MATCHED = (
    ContactMatchMethod.CONTACT_NUMBER,
    ContactMatchMethod.TAX_NUMBER,
    ContactMatchMethod.NAME,
    ContactMatchMethod.CHOSEN,
)


def partner_contact_links(company: Company) -> dict[str, int]:
    """Xero contact id -> our partner, for the organisation the company is linked to."""
    links: dict[str, int] = dict(
        GoLiveContact.objects.filter(company=company, method__in=MATCHED)
        .exclude(external_id="")
        .values_list("external_id", "partner_id")
    )
    tenant_id = (
        XeroConnection.objects.filter(company=company).values_list("tenant_id", flat=True).first()
    )
    if tenant_id:
        # What posting found or created wins over what going live matched.
        links.update(
            XeroContactLink.objects.filter(
                tenant_id=tenant_id, partner__company=company
            ).values_list("contact_id", "partner_id")
        )
    return links


def number_reuse(document_type: str) -> str:
    """ "" when Xero takes a voided or deleted document's number again, else why not."""
    if document_type == DocumentType.SALES_INVOICE:
        return (
            "Xero keeps the number of a voided or deleted sales invoice and refuses it a "
            "second time (“Invoice # must be unique”)."
        )
    if document_type == DocumentType.SALES_CREDIT_NOTE:
        return (
            "Xero keeps the number of a voided or deleted credit note and refuses it a "
            "second time (“Credit Note # must be unique”)."
        )
    return ""


def register() -> None:
    contact_links_register(AccountingPackage.XERO_API, partner_contact_links)
    number_reuse_register(AccountingPackage.XERO_API, number_reuse)
