"""The serving benchmark's view: one user by username, mounted only by bench/settings.py (bench/root_urls.py)."""

import pytest
from django.urls import NoReverseMatch, reverse


@pytest.mark.urls("bench.root_urls")
def test_bench_view_answers_the_user_row(api_client, user, django_assert_num_queries):
    # When the view is asked for an existing user
    with django_assert_num_queries(1):
        r = api_client.get(f"/bench/users/{user.username}")

    # Then it answers with the one row it read
    assert r.status_code == 200, r.json()
    assert r.json() == {"id": str(user.id), "username": user.username, "display_name": user.display_name}


@pytest.mark.urls("bench.root_urls")
def test_bench_view_answers_404_for_an_unknown_user(api_client, db):
    r = api_client.get("/bench/users/nobody-here")

    assert r.status_code == 404, r.json()


def test_bench_view_is_not_mounted_by_default():
    with pytest.raises(NoReverseMatch):
        reverse("bench-user", args=["someone"])


def test_the_project_urls_do_not_import_the_bench_harness():
    # When a fresh process loads the project's URLs
    import subprocess
    import sys

    probe = (
        "import django, sys; django.setup(); import config.urls; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'bench'))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)

    # Then no module of bench/ came with them
    assert completed.stdout.strip() == "[]"
