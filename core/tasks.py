"""The platform's own periodic job: the watchdog of every app's jobs (core/jobs.py)."""

from __future__ import annotations

from core.jobs import job_task, jobs_watchdog_sweep


@job_task(soft_time_limit=120)
def jobs_watchdog_sweep_task() -> dict[str, int]:
    """Send again lost jobs and remove dead runs' work folders (beat: every JOBS_WATCHDOG_SECONDS)."""
    return jobs_watchdog_sweep()
