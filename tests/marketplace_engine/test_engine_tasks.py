"""The engine's Celery tasks hand the runner the message's id (the job's run id) and its retry count."""

from types import SimpleNamespace

from marketplace import tasks


def fake_task(task_id: str, retries: int) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(id=task_id, retries=retries, is_eager=False), max_retries=3)


def test_a_redelivery_and_a_retry_run_under_the_same_run_id_and_the_retry_says_so():
    seen: list[tuple[str, int]] = []

    def runner(*, job_id: str, run_id: str, retries: int) -> str:
        seen.append((run_id, retries))
        return "completed"

    tasks._run(fake_task("task-1", 0), runner, fail=None, job_id="job")
    tasks._run(fake_task("task-1", 0), runner, fail=None, job_id="job")  # re-delivered
    tasks._run(fake_task("task-1", 1), runner, fail=None, job_id="job")  # retried

    assert seen == [("task-1", 0), ("task-1", 0), ("task-1", 1)]
