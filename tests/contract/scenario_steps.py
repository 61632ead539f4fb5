"""The step runner the dtlpy scenario scripts share: each step's value or error, printed as JSON.

The scripts run as `python <script>` in the dtlpy venv, so this module is imported from the
scripts' own folder.
"""

import json
import sys

report: dict[str, dict] = {}


def step(name, action):
    try:
        report[name] = {"ok": True, "value": action()}
    except Exception as exc:  # noqa: BLE001 - the report carries every failure to the test
        report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def print_report() -> None:
    json.dump(report, sys.stdout)
