"""The engine's Celery tasks tell a retry apart from a worker crash."""

from types import SimpleNamespace

from marketplace import engine_tasks


def fake_task(task_id: str, retries: int) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(id=task_id, retries=retries, is_eager=False), max_retries=3)


def test_each_retry_is_a_delivery_of_its_own_while_a_redelivery_is_the_same():
    seen: list[str] = []

    def runner(*, job_id: str, message_id: str) -> str:
        seen.append(message_id)
        return "completed"

    engine_tasks._run(fake_task("task-1", 0), runner, fail=None, job_id="job", limit=60)
    engine_tasks._run(fake_task("task-1", 0), runner, fail=None, job_id="job", limit=60)  # re-delivered
    engine_tasks._run(fake_task("task-1", 1), runner, fail=None, job_id="job", limit=60)  # retried

    assert seen[0] == seen[1]
    assert seen[2] != seen[0]
