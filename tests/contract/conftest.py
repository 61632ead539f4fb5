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
