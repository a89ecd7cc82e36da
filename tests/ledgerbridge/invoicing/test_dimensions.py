import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing import configuration as config
from ledgerbridge.invoicing.models import Dimension
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return make_actor(make_company(), Role.SUPER_ADMIN)


def test_first_matching_rule_wins(admin):
    unit = Dimension.objects.get(company=admin.company, name="Business unit")
    warehousing = unit.values.get(code="WHS")
    config.dimension_rule_save(
        actor=admin,
        dimension_id=unit.pk,
        position=0,
        value_id=warehousing.pk,
        conditions=[{"field": "line.charge_type", "op": "in", "value": "waiting_time, other"}],
    )
    document = make_document(admin, lines=[line("waiting_time"), line("freight")])
    values = [
        ld.value.code for ln in document.lines.all() for ld in ln.dimensions.filter(dimension=unit)
    ]
    assert values == ["WHS", "DOM"]


def test_no_rule_and_no_default_is_a_clear_error(admin):
    vehicle = Dimension.objects.get(company=admin.company, name="Vehicle type")
    config.dimension_save(actor=admin, pk=vehicle.pk, name=vehicle.name, default_value_id=None)
    with pytest.raises(ApplicationError, match="no rule of dimension “Vehicle type” matches"):
        make_document(admin, lines=[line("freight", description="Artic Leeds - Hull")])


def test_rules_with_unknown_fields_are_refused(admin):
    unit = Dimension.objects.get(company=admin.company, name="Business unit")
    with pytest.raises(ApplicationError, match=r"unknown field 'line\.colour'"):
        config.dimension_rule_save(
            actor=admin,
            dimension_id=unit.pk,
            position=3,
            value_id=unit.values.first().pk,
            conditions=[{"field": "line.colour", "op": "equals", "value": "red"}],
        )


def test_configuration_changes_are_audited(admin):
    config.nominal_code_save(actor=admin, code="203", name="Storage income", type="revenue")
    entry = admin.company.audit_entries.first()
    assert entry.action == "nominal code created"
    assert entry.actor == admin.user
    assert entry.changes["code"] == "203"


def test_finance_cannot_change_configuration():
    finance = make_actor(make_company(), Role.FINANCE)
    with pytest.raises(ApplicationError, match="may not change the company's configuration"):
        config.nominal_code_save(actor=finance, code="203", name="Storage", type="revenue")
