"""Helpers of the engine tests: schemas in a line, requests, and the rows an engine run wrote."""

from __future__ import annotations

import pyarrow as pa
import pytest
from celery import current_app

from marketplace.engine import GenerationRequest, generate
from marketplace.engine.rows import batches, plan_for
from marketplace.engine.verification import read_batches
from marketplace.tasks import (
    GENERATION_JOB_RUN_TASK,
    TRAINING_JOB_RUN_TASK,
    generation_job_run_task,
    training_job_run_task,
)
from tests.marketplace.conftest import client_for
from tests.marketplace.factories import WalletProfileFactory


def field(name: str, field_type: str, **constraints) -> dict:
    return {"id": name, "name": name, "type": field_type, "description": "", "constraints": constraints}


def request_for(schema: list[dict], rows: int, **config) -> GenerationRequest:
    return GenerationRequest.from_config({"schema": schema, "rows": rows, **config}, default_seed=config.get("seed", 1))


def rows_of(request: GenerationRequest) -> pa.Table:
    """All generated rows in memory (small requests only)."""
    plan = plan_for(request)
    return pa.Table.from_batches(list(batches(plan)), schema=plan.schema)


def written_rows(request: GenerationRequest, tmp_path) -> tuple[pa.Table, object]:
    """Run the engine to a file and read the file back."""
    outcome = generate(request, directory=tmp_path)
    plan = plan_for(request)
    table = pa.Table.from_batches(list(read_batches(outcome.path, plan.schema, request.format)))
    return table, outcome


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# The registered task objects themselves (the module attributes are proxies that look them up).
ENGINE_TASKS = {
    GENERATION_JOB_RUN_TASK: generation_job_run_task._get_current_object(),
    TRAINING_JOB_RUN_TASK: training_job_run_task._get_current_object(),
}


@pytest.fixture
def engine_registered():
    """The engine tasks under their reserved names (another test may have popped them)."""
    for name, task in ENGINE_TASKS.items():
        current_app.tasks.setdefault(name, task)
    return current_app


SCHEMA_OF_EVERY_TYPE = [
    field("id", "uuid", required=True, unique=True),
    field("label", "string", required=True),
    field("notes", "text"),
    field("count", "integer", min=-5, max=5, required=True),
    field("ratio", "float", min=0.25, max=0.75),
    field("amount", "number", min=10, max=2000),
    field("flag", "boolean", required=True),
    field("day", "date"),
    field("moment", "datetime", required=True),
    field("email", "email", unique=True),
    field("person", "name", required=True),
    field("phone", "phone"),
    field("home", "address"),
    field("site", "url"),
    field("tier", "enum", enum=["bronze", "silver", "gold"], required=True),
    field("code", "string", pattern=r"^[A-Z]{2}-\d{3}$", required=True),
    field("meta", "json"),
]


# The marketplace vocabulary (tests/marketplace/conftest.py; docs/testing.md): clients are named
# after their users, and the engine's tests act as a dataset creator.


@pytest.fixture
def creator(db):
    """A marketplace user with a wallet, who creates datasets and previews."""
    return WalletProfileFactory().user


@pytest.fixture
def creator_client(creator):
    return client_for(creator)
