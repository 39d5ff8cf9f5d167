"""pytest plugins of the suite: loaded with ``-p`` (pyproject's addopts) or from tests/conftest.py."""
