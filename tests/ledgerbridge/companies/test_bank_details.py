"""The company's bank details: checked the way a bank would read them, audited when changed."""

from __future__ import annotations

import pytest

from ledgerbridge import validation
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.companies.services import company_update
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from tests.ledgerbridge.factories import make_actor, make_company


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12-34-56", "12-34-56"), ("123456", "12-34-56"), (" 12 34 56 ", "12-34-56"), ("", "")],
)
def test_a_sort_code_is_kept_as_three_pairs(text, expected):
    assert validation.sort_code(text) == expected


@pytest.mark.parametrize("text", ["12-34-5", "1234567", "12-34-5A", "١٢٣٤٥٦"])
def test_a_sort_code_that_is_not_six_digits_is_refused(text):
    with pytest.raises(ApplicationError, match="A sort code has 6 digits") as error:
        validation.sort_code(text)
    assert error.value.field == "bank_sort_code"


def test_an_account_number_has_eight_digits():
    assert validation.account_number("4155 5555") == "41555555"
    with pytest.raises(ApplicationError, match=r"8 digits \(this has 7\).*put a 0 in front"):
        validation.account_number("4155555")
    with pytest.raises(ApplicationError, match="digits only"):
        validation.account_number("4155555X")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GB33 BUKB 2020 1555 5555 55", "GB33BUKB20201555555555"),
        ("gb33bukb20201555555555", "GB33BUKB20201555555555"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_a_valid_iban_is_kept_without_spaces(text, expected):
    assert validation.iban(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GB34 BUKB 2020 1555 5555 55", "check digits do not match"),
        ("GB33 BUKB 2020 1555 5555 5", r"An IBAN from GB has 22 characters \(this has 21\)"),
        ("33GB BUKB 2020 1555 5555 55", "starts with a 2-letter country code"),
        ("GB33 BUKB 2020 1555 5555 5!", "starts with a 2-letter country code"),
    ],
)
def test_an_iban_with_a_mistake_is_refused_saying_which(text, message):
    with pytest.raises(ApplicationError, match=message) as error:
        validation.iban(text)
    assert error.value.field == "bank_iban"


@pytest.mark.parametrize("text", ["BUKBGB22", "bukb gb 22", "NWBKGB2LXXX"])
def test_a_bic_of_8_or_11_characters_is_accepted(text):
    assert validation.bic(text) == text.replace(" ", "").upper()


@pytest.mark.parametrize("text", ["BUKBGB2", "BUKB1122", "BUKBGB22XX", "NWBKGB2LXXXX"])
def test_a_bic_of_another_shape_is_refused(text):
    with pytest.raises(ApplicationError, match="A BIC has 8 or 11 letters and digits"):
        validation.bic(text)


@pytest.mark.django_db
def test_bank_details_are_saved_normalised_and_audited():
    admin = make_actor(make_company("North Ltd"), Role.SUPER_ADMIN)
    company_update(
        actor=admin,
        bank_account_name="North Ltd",
        bank_sort_code="202015",
        bank_account_number="55555555",
        bank_iban="gb33 bukb 2020 1555 5555 55",
        bank_bic="bukbgb22",
        payment_terms="Interest at 8% over base on late payments.",
    )
    company = admin.company
    company.refresh_from_db()
    assert company.bank_sort_code == "20-20-15"
    assert company.bank_iban_display == "GB33 BUKB 2020 1555 5555 55"
    entry = AuditEntry.objects.get(company=company, action="company details changed")
    assert entry.changes["bank_sort_code"] == ["", "20-20-15"]
    assert entry.changes["bank_bic"] == ["", "BUKBGB22"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"bank_sort_code": "202015"}, "bank_account_number", "go together"),
        ({"bank_account_number": "55555555"}, "bank_sort_code", "go together"),
        ({"bank_bic": "BUKBGB22"}, "bank_iban", "A BIC goes with an IBAN"),
        (
            {"bank_sort_code": "202015", "bank_account_number": "55555555"},
            "bank_account_name",
            "name the bank account is held in",
        ),
    ],
)
def test_incomplete_bank_details_are_refused_and_nothing_is_saved(fields, field, message):
    admin = make_actor(make_company(), Role.SUPER_ADMIN)
    with pytest.raises(ApplicationError, match=message) as error:
        company_update(actor=admin, **fields)
    assert error.value.field == field
    admin.company.refresh_from_db()
    assert admin.company.bank_sort_code == admin.company.bank_account_number == ""
    assert not AuditEntry.objects.filter(action="company details changed").exists()


@pytest.mark.django_db
def test_only_a_super_admin_changes_bank_details():
    finance = make_actor(make_company(), Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        company_update(actor=finance, bank_iban="GB33BUKB20201555555555")
