"""What the production image holds: the build context the Dockerfile copies (`COPY . .`, minus
.dockerignore) carries no fake server and no tests, and the app runs from it.

No Docker engine runs here, so the context is rebuilt the way Docker reads .dockerignore (one
pattern per line, matched against each path and its parent folders) and the app is started
from a copy of it.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys

import pytest

from tests.test_deploy import PROJECT_ROOT, production_env


def ignore_patterns() -> list[str]:
    lines = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def build_context() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    patterns = ignore_patterns()
    # As the working tree has them: a file deleted but not yet committed is not in the context.
    return [
        path
        for path in tracked
        if not is_ignored(path, patterns) and (PROJECT_ROOT / path).is_file()
    ]


@pytest.fixture(scope="module")
def context() -> list[str]:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the build context")
    return build_context()


def test_the_image_holds_no_tooling(context):
    assert context, "the build context is empty"
    for folder in ("devtools/", "tests/", "bench/"):
        assert not [path for path in context if path.startswith(folder)], folder
    assert "manage.py" in context and "missionos/settings.py" in context


def test_the_app_starts_from_the_image_files_and_seed_demo_says_what_it_needs(context, tmp_path):
    image = tmp_path / "app"
    for path in context:
        (image / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / path, image / path)
    env = production_env(tmp_path)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=image,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    seeded = manage("seed_demo")
    assert seeded.returncode != 0
    assert "devtools" in seeded.stderr and "Traceback" not in seeded.stderr, seeded.stderr
