import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DTLPY_PYTHON = ROOT / ".venv-dtlpy" / "bin" / "python"


@pytest.fixture(scope="session")
def dtlpy_python():
    """The Python of the separate venv that holds the pinned, unmodified dtlpy."""
    if not DTLPY_PYTHON.exists():
        pytest.fail(
            f"{DTLPY_PYTHON} is missing. Create it with `make test` (or: python3 -m venv .venv-dtlpy && "
            ".venv-dtlpy/bin/pip install -r tests/contract/requirements.txt)."
        )
    return DTLPY_PYTHON


def run_scenarios(python: Path, script: Path, *, work_dir: Path, env: dict[str, str]) -> dict:
    """Run a dtlpy scenario script in a clean environment; the value of every step, or fail
    naming the steps that raised. The SDK keeps state in DATALOOP_PATH and the working folder."""
    (work_dir / "dataloop").mkdir(exist_ok=True)
    result = subprocess.run(
        [str(python), str(script)],
        cwd=work_dir,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work_dir),
            "NO_PROXY": "127.0.0.1,localhost",
            "DATALOOP_PATH": str(work_dir / "dataloop"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    failed = {name: outcome["error"] for name, outcome in report.items() if not outcome["ok"]}
    assert not failed, failed
    return {name: outcome["value"] for name, outcome in report.items()}
