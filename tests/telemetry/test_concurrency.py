"""Parallel uploads of the same signatures on PostgreSQL never lose a count."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from telemetry.models import Error, Fix, Learning, Pattern
from telemetry.services.learnings import LearningInput, learnings_upload
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.factories import sha

THREADS = 8
UPLOADS_PER_THREAD = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_of_the_same_pairs_keep_every_count():
    # given: 40 pairs over 10 errors; each upload reports every pair once, in its own order
    errors = [sha() for _ in range(10)]
    pairs = [(errors[number % 10], sha()) for number in range(40)]
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
    # and every pair's final counts reach the published set
    pattern_set_rebuild()
    published = {pattern.pk: (pattern.success_count, pattern.fail_count) for pattern in Pattern.objects.all()}
    assert published == {fix.pk: (fix.success_count, fix.fail_count) for fix in Fix.objects.all()}
