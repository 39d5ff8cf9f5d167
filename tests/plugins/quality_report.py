"""What the quality gates measured (fuzz cases per API, the load smoke's figures), shown at the end.

Tests add a line through the session fixture ``quality_report``. The process that prints the
summary shows every line under "quality gates" and appends them to ``QUALITY_REPORT_FILE`` when it
is set (.ci/run prints that file at its end). In a serial run that is the one pytest process.
Under pytest-xdist each worker hands its lines to the controller when it finishes (xdist's
``workeroutput``), and only the controller prints and writes them, once, so the lines of two
workers can never interleave in the file. Lines are sorted, so the report reads the same however
the tests were spread over workers.

Registered from tests/conftest.py, which the xdist controller loads too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

WORKER_OUTPUT_KEY = "quality_report_lines"


@dataclass
class QualityReport:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


_REPORT = QualityReport()


@pytest.fixture(scope="session")
def quality_report() -> QualityReport:
    return _REPORT


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_xdist_worker(session.config):
        session.config.workeroutput[WORKER_OUTPUT_KEY] = list(_REPORT.lines)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist's controller: a worker finished (or crashed); keep the lines it measured."""
    _REPORT.lines.extend(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY, []))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _is_xdist_worker(config) or not _REPORT.lines:
        return
    lines = sorted(_REPORT.lines)
    terminalreporter.section("quality gates")
    for line in lines:
        terminalreporter.write_line(line)
    if os.environ.get("QUALITY_REPORT_FILE"):
        with open(os.environ["QUALITY_REPORT_FILE"], "a") as handle:
            handle.write("\n".join(lines) + "\n")
