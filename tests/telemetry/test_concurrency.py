"""Parallel uploads of the same signatures on PostgreSQL never lose a count."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection
from django.db.models import Count, F, Sum

from telemetry.models import ContributorDay, Error, Fix, Learning, Pattern
from telemetry.services.learnings import LearningInput, learnings_upload
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.factories import contributors, sha

THREADS = 8
UPLOADS_PER_THREAD = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_of_the_same_pairs_keep_every_count():
    # given: 40 pairs over 10 errors; each upload reports every pair once, in its own order
    errors = [sha() for _ in range(10)]
    pairs = [(errors[number % 10], sha()) for number in range(40)]
    accounts = contributors(THREADS)  # each thread a confirmed account
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS + 1)

    def client(thread_number: int) -> None:
        generator = random.Random(thread_number)
        try:
            start.wait()
            for upload_number in range(UPLOADS_PER_THREAD):
                batch = [
                    LearningInput(error, fix, (thread_number + index) % 2 == 0, 5, 5, "react", None)
                    for index, (error, fix) in enumerate(pairs)
                ]
                generator.shuffle(batch)
                learnings_upload(
                    user_id=f"anon-thread{thread_number}",
                    session_id=f"s-{upload_number}",
                    team_id=None,
                    contributor_id=accounts[thread_number],
                    learnings=batch,
                )
                if thread_number == 0:
                    pattern_set_rebuild()  # rebuilds race the uploads too
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    # when: all start at once
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    # then
    assert not failures, failures
    uploads = THREADS * UPLOADS_PER_THREAD
    assert Learning.objects.count() == uploads * len(pairs)
    assert sorted(Error.objects.values_list("occurrence_count", flat=True)) == [uploads * 4] * 10
    for fix in Fix.objects.all():
        assert fix.success_count + fix.fail_count == uploads, fix
    assert sum(Fix.objects.values_list("success_count", flat=True)) == uploads * len(pairs) // 2
    # and every account's contributor-day holds all its reports of each pair
    days = ContributorDay.objects.values_list("fix_id").annotate(
        reports=Sum(F("successes") + F("failures")), accounts=Count("account_id")
    )
    assert {fix_id: (reports, count) for fix_id, reports, count in days} == {
        fix.pk: (uploads, THREADS) for fix in Fix.objects.all()
    }
    # and the published set counts one day per account: half of them mostly successful
    pattern_set_rebuild()
    published = {p.pk: (p.success_count, p.fail_count, p.contributors) for p in Pattern.objects.all()}
    assert published == {fix.pk: (THREADS // 2, THREADS // 2, THREADS) for fix in Fix.objects.all()}
