"""``bench reconcile`` in small: every change a Xero user made is found, nothing else is.

Two organisations of 150 posted documents each; six changes of every kind, six
payments, four voids, six documents typed in Xero for our customers (three of them
duplicates of ours) and four for a stranger (which must not be listed); a tenth of
each kind made after the full run. Speed and the per-1,000 figures are the
benchmark's to measure at 10,000 documents; here it is correctness, and the calls
a full read costs for an organisation this size.
"""

import pytest

from ledgerbridge.bench.reconcile import CLASSES, bench, report
from tests.sandbox_server import point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(settings, sandbox_servers):
    running = sandbox_servers.get(webhooks_enabled=False)
    point_settings_at(settings, running)
    return running


def test_reconciliation_finds_every_planted_change_and_raises_no_false_alarm(running):
    result = bench(
        running, organisations=2, documents=300, changes=6, hand_typed=6, voids=4, strangers=4
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
    # A full read of 150 documents is a page or two per organisation, plus the
    # changed ones in detail: at most the goal for 1,000 documents.
    assert result.full.calls <= 5 * 2, text
    assert result.incremental.calls <= result.full.calls, text
