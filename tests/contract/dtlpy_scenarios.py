"""Runs the unmodified dtlpy SDK against a live Annotator server; prints one JSON report.

Started by tests/contract/test_dtlpy.py with .venv-dtlpy's Python. Input comes from the
environment: ANNOTATOR_URL, API_KEY, EMAIL, PASSWORD, PROJECT_NAME, DATALOOP_PATH.
Each step records its value or the exception, so the pytest side can assert on all of them.
"""

import os
import time

import dtlpy as dl  # DATALOOP_PATH must be set before this import
import jwt
from scenario_steps import print_report, report, step  # beside this script

BASE = os.environ["ANNOTATOR_URL"]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)
    return True


def expect_not_found(action):
    try:
        action()
    except dl.exceptions.NotFound:
        return "NotFound"
    return "no error"


dl.verbose.logging_level = "error"
dl.add_environment(environment=f"{BASE}/api/v1", gate_url=BASE, alias="local", verify_ssl=False, url=f"{BASE}/")
dl.setenv("local")

# --- API key login ------------------------------------------------------------------------
step("login_token", lambda: dl.login_token(os.environ["API_KEY"]) or dl.info()["user_email"])
name = os.environ["PROJECT_NAME"]
step(
    "projects.create",
    lambda: (lambda p: {"id": p.id, "name": p.name, "creator": p.creator})(dl.projects.create(project_name=name)),
)
step("projects.list", lambda: sorted(p.name for p in dl.projects.list()))
step("projects.get by name", lambda: dl.projects.get(project_name=name).id)
created_id = report["projects.create"].get("value", {}).get("id")
step("projects.get by id", lambda: dl.projects.get(project_id=created_id).name)
step("projects.get missing name", lambda: expect_not_found(lambda: dl.projects.get(project_name="no such project")))
step("projects.get missing id", lambda: expect_not_found(lambda: dl.projects.get(project_id="f" * 24)))

# --- password login (m2m) and refresh -------------------------------------------------------------
dl.logout()
step("login_m2m", lambda: dl.login_m2m(email=os.environ["EMAIL"], password=os.environ["PASSWORD"]))
step("login_m2m user", lambda: dl.info()["user_email"])
step("refresh forced", lambda: dl.client_api.renew_token())
# The server issues id tokens that live 61 s here, so they soon fall within the 60 s
# the SDK refreshes ahead of expiry: the next call must refresh on its own and succeed.
token_before = dl.token()
due_at = jwt.decode(token_before, options={"verify_signature": False})["exp"] - 60
step("refresh due", lambda: wait_for(lambda: time.time() >= due_at))
step("call after auto refresh", lambda: sorted(p.name for p in dl.projects.list()))
step("token replaced", lambda: dl.token() != token_before)
step("bad password", lambda: (dl.logout(), dl.login_m2m(email=os.environ["EMAIL"], password="wrong"))[1])

print_report()
