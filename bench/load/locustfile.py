"""The load test's simulated people (locust user classes); `python -m bench.load.run` drives it.

LOAD_FACTS names the JSON the runner wrote after seeding (task ids, API keys, the manager's
login); LOAD_RECORD is where this file writes, when the test stops, what the clients did (the
items each annotator pulled and completed, the annotations they created, the reviews) and
locust's figures, for the runner to check against the database.

Pace: LOAD_PACE (default 10) divides a person's human pace. An annotator spends 20-60 s on an
item at human pace (2-6 s at tenfold) and saves LOAD_SAVES_PER_ITEM times while on it; a
reviewer spends 10-30 s per item; the manager refreshes the dashboard every 20-40 s.
"""

import json
import os
import random
import uuid
from pathlib import Path

import gevent
from locust import FastHttpUser, HttpUser, between, events, task

from bench.annotations import box

FACTS = json.loads(Path(os.environ["LOAD_FACTS"]).read_text())
PACE = float(os.environ.get("LOAD_PACE", "10"))
SAVES_PER_ITEM = int(os.environ.get("LOAD_SAVES_PER_ITEM", "3"))
ISSUE_SHARE = float(os.environ.get("LOAD_ISSUE_SHARE", "0.1"))  # the reviewed items a reviewer sends back

# What the clients did, written out when the test stops (gevent: one thread, no locks needed).
RECORD: dict[str, list] = {"pulled": [], "completed": [], "sent": [], "created": [], "approved": [], "issues": []}
_seats = {role: iter(FACTS[role]) for role in ("annotators", "reviewers")}


def human_seconds(low: float, high: float) -> float:
    return random.uniform(low, high) / PACE


class Person(FastHttpUser):
    """Annotators and reviewers use locust's geventhttpclient session: the clients share the
    server's two cores, and it spends a fraction of python-requests' CPU per request."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        seat = next(_seats[self.role])
        self.email = seat["email"]
        self.client.auth_header = f"Bearer {seat['key']}"

    def load_item(self, item_id: str) -> list:
        """What the studio fetches to show an item: the item, its bytes, its annotations."""
        self.client.get(f"/api/v1/items/{item_id}", name="item")
        # Manifest items live on a CDN: the stream answers 302 to it, which a browser would follow.
        self.client.get(f"/api/v1/items/{item_id}/stream", name="item stream", allow_redirects=False)
        response = self.client.get(f"/api/v1/items/{item_id}/annotations", name="item annotations")
        return response.json() if response.ok else []


class Annotator(Person):
    """Pulls an item, loads it, saves a few times while working on it, completes it; again.
    An item a reviewer sent back comes first (`next`) once the annotator's hands are full."""

    fixed_count = int(os.environ.get("LOAD_ANNOTATORS", "50"))
    role = "annotators"
    wait_time = between(0, 0)
    task_id = FACTS["annotation_task"]

    @task
    def work_on_an_item(self) -> None:
        response = self.client.post(f"/api/v1/annotationtasks/{self.task_id}/pull", name="pull")
        if not response.ok:
            gevent.sleep(1)
            return
        items = response.json()["items"]
        if items:
            item_id = items[0]["item"]["id"]
            RECORD["pulled"].append((self.email, item_id))
        else:  # holding an item already (one sent back by a reviewer), or the queue is empty
            response = self.client.get(f"/api/v1/annotationtasks/{self.task_id}/next", name="next (held item)")
            held = response.json().get("next") if response.ok else None
            if held is None:
                gevent.sleep(human_seconds(20, 60))
                return
            item_id = held["item"]["id"]
        self.load_item(item_id)
        seconds = human_seconds(20, 60)
        rng = random.Random()
        for _ in range(SAVES_PER_ITEM):
            gevent.sleep(seconds / (SAVES_PER_ITEM + 1))
            # The mark tells the database check a save the client sent but never heard back about
            # (in flight when the run stopped) from one stored twice or one nobody sent.
            mark = uuid.uuid4().hex
            annotation = box(rng)
            annotation["metadata"]["user"] = {"loadMark": mark}
            RECORD["sent"].append(mark)
            response = self.client.post(
                f"/api/v1/items/{item_id}/annotations/batch", json={"create": [annotation]}, name="save"
            )
            if response.ok:
                RECORD["created"] += [(self.email, a["id"]) for a in response.json()["created"]]
        gevent.sleep(seconds / (SAVES_PER_ITEM + 1))
        response = self.client.post(
            f"/api/v1/assignments/items/tasks/{self.task_id}/status",
            json={"itemIds": [item_id], "statusPayload": {"operation": "create", "status": "completed"}},
            name="complete",
        )
        if response.ok:
            RECORD["completed"].append((self.email, item_id))


class Reviewer(Person):
    """Works through their QA queue: loads each item, approves it or raises an issue on an annotation."""

    fixed_count = int(os.environ.get("LOAD_REVIEWERS", "5"))
    role = "reviewers"
    wait_time = between(0, 0)
    qa_task_id = FACTS["qa_task"]

    def on_start(self) -> None:
        super().on_start()
        response = self.client.get(
            f"/api/v1/assignments?projects={FACTS['project']}&taskId={self.qa_task_id}&annotator={self.email}",
            name="assignments (own)",
        )
        self.assignment_id = response.json()["items"][0]["id"]

    @task
    def review_an_item(self) -> None:
        response = self.client.get(f"/api/v1/assignments/{self.assignment_id}/queue", name="review queue")
        items = response.json()["items"] if response.ok else []
        if not items:
            gevent.sleep(human_seconds(10, 30))
            return
        item_id = items[0]["item"]["id"]
        annotations = [a for a in self.load_item(item_id) if a["type"] != "note"]
        gevent.sleep(human_seconds(10, 30))
        if annotations and random.random() < ISSUE_SHARE:
            response = self.client.post(
                f"/api/v1/annotations/{annotations[0]['id']}/status",
                json={"status": "issue", "message": "Please look again"},
                name="raise issue",
            )
            if response.ok:
                RECORD["issues"].append((self.email, item_id))
            return
        response = self.client.post(
            f"/api/v1/assignments/items/tasks/{self.qa_task_id}/status",
            json={"itemIds": [item_id], "statusPayload": {"operation": "create", "status": "approved"}},
            name="approve",
        )
        if response.ok:
            RECORD["approved"].append((self.email, item_id))


class Manager(HttpUser):
    """Keeps the task's dashboard open: the page (logged in) and what it reads from the API."""

    fixed_count = 1
    wait_time = between(20 / PACE, 40 / PACE)

    def on_start(self) -> None:
        self.client.get("/login/", name="login page")
        self.client.post(
            "/login/",
            data={"username": FACTS["manager"]["email"], "password": FACTS["manager"]["password"]},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + "/login/"},
            name="log in",
        )

    @task
    def dashboard(self) -> None:
        for task_id, kind in ((FACTS["annotation_task"], "task"), (FACTS["qa_task"], "qa task")):
            self.client.get(f"/tasks/{task_id}/", name=f"dashboard page ({kind})")
            self.client.get(f"/api/v1/annotationtasks/{task_id}", name=f"dashboard {kind}")
            self.client.get(f"/api/v1/annotationtasks/{task_id}/stats", name=f"dashboard {kind} stats")
            assignments = f"/api/v1/assignments?projects={FACTS['project']}&taskId={task_id}"
            self.client.get(assignments, name=f"dashboard {kind} assignments")


@events.test_stop.add_listener
def write_record(environment, **_kwargs) -> None:
    stats = environment.stats
    requests = {}
    for (name, method), entry in sorted(stats.entries.items()):
        requests[f"{method} {name}"] = {
            "n": entry.num_requests,
            "failures": entry.num_failures,
            "median_ms": entry.median_response_time,
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "max_ms": round(entry.max_response_time or 0, 1),
        }
    errors = [
        {"request": f"{e.method} {e.name}", "error": str(e.error)[:300], "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]
    Path(os.environ["LOAD_RECORD"]).write_text(json.dumps({**RECORD, "requests": requests, "errors": errors}))
