"""``bench reconcile`` in small: every change a Xero user made is found, nothing else is.

Two organisations of 500 posted documents each (the benchmark's size per
organisation); six changes of every kind, six payments, four voids, six documents
typed in Xero for our customers (three of them duplicates of ours) and four for a
stranger (which must not be listed); a tenth of each kind made after the full run.
Speed is the benchmark's to measure at 10,000 documents; here it is correctness,
and the calls per 1,000 documents against the goal, which an organisation this size
allows: a page of invoices and one of credit notes, with their lines, and nothing
read again by id.
"""

import pytest

from ledgerbridge.bench.reconcile import CALLS_GOAL, CLASSES, bench, report
from tests.sandbox_server import point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(settings, sandbox_servers):
    running = sandbox_servers.get(webhooks_enabled=False)
    point_settings_at(settings, running)
    return running


def test_reconciliation_finds_every_planted_change_and_raises_no_false_alarm(running):
    result = bench(
        running, organisations=2, documents=1000, changes=6, hand_typed=6, voids=4, strangers=4
    )

    text = report(result)
    for figures in (result.full, result.incremental):
        score = figures.score
        assert sum(score.missed.values()) == 0, text
        assert sum(score.false_alarms.values()) == 0, text
        assert score.found == score.planted, text
        assert set(score.planted) <= set(CLASSES)
    assert result.full.score.planted["differs"] == 7 * 6 - 7  # the late ones come later
    assert result.incremental.score.planted["differs"] == 7 * 6
    assert result.incremental.score.planted["only_in_package"] == 6
    assert result.full.calls_per_1000 <= CALLS_GOAL, text
    assert result.full.calls_by_kind == {
        "invoice pages (with lines)": 2,
        "credit-note pages (with lines)": 2,
    }, text
    # Only the changes, with their lines: a page of each per organisation.
    assert result.incremental.calls_by_kind == result.full.calls_by_kind, text
    assert result.incremental.bytes_read < result.full.bytes_read / 5, text
