"""Configuration > Accounting > Going live: what the package already held, matched with
ours, for a Super Admin to check and confirm before the backlog is posted.

Thin: each action is one service of ``ledgerbridge.accounting.golive``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.golive import (
    Summary,
    confirmed_words,
    golive_confirm,
    golive_contact_choose,
    golive_start,
    golive_summary,
)
from ledgerbridge.accounting.models import (
    ContactMatchMethod,
    GoLive,
    GoLiveDocumentClass,
    GoLiveState,
)
from ledgerbridge.accounting.reconcile_read import bytes_text
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError
from ledgerbridge.words import counted

from .common import actor_view

configure = actor_view(Permission.CONFIGURE)
# Rows shown per list; the counts say how many there are in all.
LIST_LIMIT = 500


# How each contact class reads in the summary.
CONTACT_CLASS_WORDS = {
    ContactMatchMethod.CONTACT_NUMBER: "Matched by contact number",
    ContactMatchMethod.TAX_NUMBER: "Matched by VAT number",
    ContactMatchMethod.NAME: "Matched by exact name",
    ContactMatchMethod.CHOSEN: "Chosen by a Super Admin",
    ContactMatchMethod.NONE: "No match: a new contact is created when first posted",
}


def go_live_state_label(go_live: GoLive, package: str) -> str:
    """Where going live stands, the package named: "Matching what Xero holds"."""
    return _words(go_live.get_state_display(), package)


def to_post_words(summary: Summary, package: str) -> str:
    """What confirming does with the documents to post, as the settings say: "305
    posted automatically, 61 wait for Finance to post them (Post to Xero task)"."""
    parts = []
    if summary.to_post_by_itself:
        parts.append(f"{summary.to_post_by_itself:,} posted automatically")
    by_hand = summary.to_post_by_hand
    if by_hand:
        wait, them = ("waits", "it") if by_hand == 1 else ("wait", "them")
        parts.append(f"{by_hand:,} {wait} for Finance to post {them} (Post to {package} task)")
    return ", ".join(parts)


def _back() -> HttpResponse:
    return redirect("config_go_live")


def _words(label: str, package: str) -> str:
    return label.replace("the package", package)


@configure
def config_go_live(request: HttpRequest, actor: Actor) -> HttpResponse:
    summary = golive_summary(company=actor.company)
    package = company_package_name(actor.company.pk)
    contact_classes = []
    document_classes = []
    if summary is not None:
        # Stored in the port's words; shown with the package's name.
        for docs in summary.documents.values():
            for doc in docs:
                doc.note = _words(doc.note, package)
        for row in summary.review:
            for candidate in row.candidates:
                candidate["why"] = _words(candidate["why"], package)
        contact_classes = [
            {
                "key": method,
                "label": CONTACT_CLASS_WORDS[ContactMatchMethod(method)],
                "rows": summary.contacts.get(method, [])[:LIST_LIMIT],
                "count": len(summary.contacts.get(method, [])),
            }
            for method in ContactMatchMethod.values
            if method != ContactMatchMethod.AMBIGUOUS
        ]
        document_classes = [
            {
                "key": kind,
                "label": _words(label, package),
                "rows": summary.documents.get(kind, [])[:LIST_LIMIT],
                "count": len(summary.documents.get(kind, [])),
            }
            for kind, label in GoLiveDocumentClass.choices
        ]
    return render(
        request,
        "web/config/go_live.html",
        {
            "section": "config_go_live",
            "summary": summary,
            "go_live": summary.go_live if summary else None,
            "state_label": go_live_state_label(summary.go_live, package) if summary else "",
            "confirmed": confirmed_words(summary.go_live, package) if summary else "",
            "to_post": to_post_words(summary, package) if summary else "",
            # Written as reconciliation writes what it read: "651 bytes", "3.3 kB".
            "go_live_bytes": bytes_text(summary.go_live.bytes_read) if summary else "",
            "awaiting": summary is not None and summary.go_live.state == GoLiveState.AWAITING,
            "package": package,
            "contact_classes": contact_classes,
            "document_classes": document_classes,
            "review": summary.review if summary else [],
            "review_count": counted(len(summary.review), "contact") if summary else "",
            "newcomers": counted(summary.newcomers, "document") if summary else "",
        },
    )


@require_POST
@configure
def go_live_match(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        golive_start(actor=actor)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Matching started. Nothing is posted until you confirm the summary."
        )
    return _back()


@require_POST
@configure
def go_live_confirm(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        golive_confirm(actor=actor)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Confirmed: matched documents are linked, the backlog is posting."
        )
    return _back()


@require_POST
@configure
def go_live_choose(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        row = golive_contact_choose(
            actor=actor,
            partner_id=int(request.POST.get("partner", "0") or 0),
            external_id=request.POST.get("contact", ""),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    except ValueError:
        messages.error(request, "Choose a partner and one of its contacts.")
    else:
        messages.success(request, f"{row.partner.name} is {row.external_name} from now on.")
    return _back()
