"""The layers hold (the same check `make lint` and CI run), and a wrong-way import breaks them:
the check is run on a copy of the project with one import pointing up."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("missionos", "orgs", "okrs", "sync", "health", "demo", "devtools", "tests")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed here")
    return subprocess.run(
        [str(linter), "--no-cache"], cwd=project, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.json")
        )
    return copy


def test_the_layers_hold(project_copy):
    result = lint_imports(project_copy)
    assert result.returncode == 0, result.stdout
    assert "BROKEN" not in result.stdout


def test_a_wrong_way_import_fails_the_check(project_copy):
    models = project_copy / "okrs" / "models.py"
    original = models.read_text()
    models.write_text(original + "\nfrom sync import selectors as _wrong_way  # noqa: E402\n")
    try:
        result = lint_imports(project_copy)
    finally:
        models.write_text(original)
    assert result.returncode == 1
    assert "okrs is not allowed to import sync" in result.stdout
    assert "okrs.models -> sync.selectors" in result.stdout
