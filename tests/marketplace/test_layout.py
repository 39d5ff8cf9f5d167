"""The marketplace keeps the layout of the other apps: layers that import downwards only, no
imports of its own modules hidden inside functions to dodge a cycle, and the Celery task names the wire knows."""

from __future__ import annotations

import ast
from pathlib import Path

from celery import current_app
from importlinter.cli import lint_imports

APP = Path(__file__).resolve().parents[2] / "marketplace"
PYPROJECT = APP.parent / "pyproject.toml"

# Deferred on purpose: scikit-learn is loaded when a training is asked for or runs, not whenever a
# web process starts. No other module of the app is imported inside a function (a deferred import
# of an outside library, for load time, is not a cycle and is not counted).
DEFERRED_FOR_LOAD_TIME = {
    "marketplace.training",
    "marketplace.training.estimators",
    "marketplace.services.training_runner",
}


def _app_module(node: ast.Import | ast.ImportFrom) -> str | None:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
    return next((name for name in names if name.split(".")[0] == "marketplace"), None)


def app_imports_inside_functions() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                module = _app_module(node)
                if module is not None and module not in DEFERRED_FOR_LOAD_TIME:
                    found.append(f"{path.relative_to(APP.parent)}:{node.lineno} {module}")
    return found


def test_each_layer_imports_only_the_layers_below_it():
    # Given the layers contract in pyproject.toml (urls > views > tasks > services > events >
    # serializers, selectors > models > training > engine > integrations > conf, errors)
    # When import-linter checks the app's import graph, function-level imports included
    status = lint_imports(
        config_filename=str(PYPROJECT), limit_to_contracts=("marketplace-layers",), no_cache=True, no_logo=True
    )
    # Then no import goes upwards
    assert status == 0


def test_no_module_of_the_app_is_imported_inside_a_function():
    assert app_imports_inside_functions() == []


def test_the_tasks_keep_their_wire_names():
    current_app.loader.import_default_modules()
    names = sorted(name for name in current_app.tasks if name.startswith("marketplace."))
    assert names == [
        "marketplace.dataset_file_pin_task",
        "marketplace.generation_job_run_task",
        "marketplace.marketplace_upkeep_task",
        "marketplace.purchase_verify_task",
        "marketplace.training_job_run_task",
        "marketplace.webhook_delivery_send_task",
    ]
