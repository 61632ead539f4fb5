"""python manage.py seed_demo: an idempotent demo.

Three users, a demo project, and in it a dataset of generated street-scene images in two
folders whose recipe has four labels and an attribute of every type, with a few annotations
of every type (and a reviewer's note) on the first images, a pulling annotation task over the
train folder and a QA task on it.
"""

import io
import os
import random

from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from annotator.accounts import services
from annotator.accounts.models import Membership, Project, User
from annotator.core.permissions import Role

DEMO_PROJECT = "Demo project"
DEMO_DATASET = "Street scenes"
DEMO_IMAGES = 20
DEMO_LABELS = [
    {"tag": "car", "color": "#e03131"},
    {"tag": "pedestrian", "color": "#2f9e44"},
    {"tag": "bicycle", "color": "#1971c2"},
    {"tag": "traffic light", "color": "#f08c00"},
]
DEMO_ATTRIBUTES = [
    {
        "key": "color",
        "title": "Colour",
        "type": "options",
        "values": ["red", "blue", "white", "black"],
        "multi": False,
        "scope": ["car", "bicycle"],
        "optional": False,
    },
    {"key": "occluded", "title": "Occluded", "type": "boolean", "scope": ["*"], "optional": True},
    {"key": "note", "title": "Note", "type": "freeText", "scope": ["*"], "optional": True},
    {
        "key": "visibility",
        "title": "Visibility",
        "type": "range",
        "range": {"min": 0, "max": 100, "step": 10},
        "scope": ["pedestrian"],
        "optional": True,
    },
]
DEMO_USERS = [
    ("owner@example.com", "Olivia", "Owner", Role.OWNER),
    ("annotator@example.com", "Arun", "Annotator", Role.ANNOTATOR),
    ("reviewer@example.com", "Rosa", "Reviewer", Role.REVIEWER),
]


class Command(BaseCommand):
    help = "Create the demo users and project if they are missing; print the logins."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD", "annotate-demo")
        with transaction.atomic():
            users = {}
            for email, first, last, role in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = services.user_create(email=email, password=password, first_name=first, last_name=last)
                users[role] = user
            owner = users[Role.OWNER]
            project = Project.objects.filter(name=DEMO_PROJECT, memberships__user=owner).first()
            if project is None:
                project = services.project_create(user=owner, name=DEMO_PROJECT)
            for role, user in users.items():
                if not Membership.objects.filter(project=project, user=user).exists():
                    services.member_add(user=owner, project_id=project.id, email=user.email, role=role)
        dataset = seed_dataset(owner=owner, project=project)
        seed_annotations(owner=owner, reviewer=users[Role.REVIEWER], dataset=dataset)
        seed_tasks(owner=owner, annotator=users[Role.ANNOTATOR], reviewer=users[Role.REVIEWER], dataset=dataset)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for new demo users: {password}):"))
        for email, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10} {email}")


def street_scene(seed: int) -> bytes:
    """A small synthetic street scene: sky, road, and a few coloured boxes and discs."""
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), (135, 180, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(70, 70, 75))
    for lane in range(0, 640, 80):
        draw.rectangle((lane + 20, 388, lane + 60, 394), fill=(235, 235, 235))
    for _ in range(rng.randint(2, 5)):
        x, y = rng.randint(10, 540), rng.randint(250, 400)
        w, h = rng.randint(60, 120), rng.randint(30, 60)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    for _ in range(rng.randint(1, 3)):
        x, y = rng.randint(20, 600), rng.randint(200, 330)
        draw.ellipse((x, y, x + 18, y + 50), fill=(rng.randint(150, 255), 120, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def seed_dataset(*, owner, project):
    from annotator.datasets.models import Dataset
    from annotator.datasets.services import dataset_create, item_upload
    from annotator.ontologies.selectors import recipe_get, recipe_ontologies
    from annotator.ontologies.services import ontology_attributes_upsert

    existing = Dataset.objects.filter(project=project, name=DEMO_DATASET).first()
    if existing is not None:
        return existing
    dataset = dataset_create(user=owner, project_id=project.id, name=DEMO_DATASET, labels=DEMO_LABELS)
    recipe = recipe_get(user=owner, recipe_id=dataset.metadata["system"]["recipes"][0])
    ontology = recipe_ontologies(recipe)[0]
    ontology_attributes_upsert(user=owner, ontology_id=ontology.id, items=DEMO_ATTRIBUTES, upsert=True)
    for n in range(DEMO_IMAGES):
        folder = "train" if n < DEMO_IMAGES * 3 // 4 else "val"
        item_upload(
            user=owner,
            dataset_id=dataset.id,
            path=f"/{folder}/street_{n:02d}.jpg",
            fileobj=io.BytesIO(street_scene(n)),
            metadata={"user": {"split": folder, "scene": n}},
        )
    return dataset


def _mask_data_url(width: int, height: int, box: tuple[int, int, int, int]) -> str:
    import base64

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse(box, fill=(240, 140, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seed_annotations(*, owner, reviewer, dataset) -> None:
    """Annotations of every type on the first three train images, once."""
    from annotator.annotations.models import Annotation
    from annotator.annotations.services import annotation_status_set, annotations_create
    from annotator.datasets.models import Item

    if Annotation.objects.filter(dataset=dataset).exists():
        return
    items = list(Item.objects.filter(dataset=dataset, type="file", dir="/train").order_by("filename")[:3])

    def point(x, y):
        return {"x": x, "y": y, "z": 0}

    for n, item in enumerate(items):
        width, height = item.metadata["system"]["width"], item.metadata["system"]["height"]
        made, _rules = annotations_create(
            user=owner,
            item_id=item.id,
            annotations=[
                {
                    "type": "box",
                    "label": "car",
                    "coordinates": [point(60 + 20 * n, 320), point(190 + 20 * n, 380)],
                    "metadata": {"system": {"attributes": {"color": "red", "occluded": False}}},
                },
                {
                    "type": "box",
                    "label": "car",
                    "coordinates": [point(400, 330), point(520, 390), 12],
                    "metadata": {"system": {"attributes": {"color": "blue"}}},
                },
                {
                    "type": "segment",
                    "label": "pedestrian",
                    "coordinates": [[point(300, 220), point(330, 215), point(340, 300), point(305, 305)]],
                    "metadata": {"system": {"attributes": {"visibility": 80}, "objectId": "1"}},
                },
                {
                    "type": "ellipse",
                    "label": "bicycle",
                    "coordinates": {"center": point(250, 360), "rx": 40, "ry": 22, "angle": 0},
                    "metadata": {"system": {"attributes": {"color": "black"}}},
                },
                {
                    "type": "polyline",
                    "label": "bicycle",
                    "coordinates": [[point(210, 360), point(250, 340), point(290, 360)]],
                    "metadata": {"system": {"attributes": {"color": "white"}}},
                },
                {
                    "type": "binary",
                    "label": "traffic light",
                    "coordinates": _mask_data_url(width, height, (560, 60, 590, 150)),
                },
                {"type": "class", "label": "car", "metadata": {"system": {"attributes": {"note": "busy street"}}}},
            ],
        )
        pedestrian = made[2]
        annotations_create(
            user=owner,
            item_id=item.id,
            annotations=[
                {
                    "type": "point",
                    "label": "pedestrian",
                    "coordinates": point(318, 225),
                    "metadata": {"system": {"parentId": pedestrian.id, "objectId": "1"}},
                }
            ],
        )
        if n == 0:
            annotation_status_set(
                user=reviewer, annotation_id=made[0].id, status="issue", message="The box misses the bumper."
            )
        else:
            annotation_status_set(user=reviewer, annotation_id=made[0].id, status="approved")


def seed_tasks(*, owner, annotator, reviewer, dataset) -> None:
    """A pulling annotation task over /train for the annotator, and its QA task for the reviewer."""
    from annotator.core.commands import command_execute
    from annotator.tasks.models import Task
    from annotator.tasks.services import task_create_start

    if Task.objects.filter(dataset=dataset).exists():
        return
    pulling = {"batchSize": 2, "maxBatchWorkload": 4}
    steps = [
        {
            "name": "Label the street scenes",
            "query": {"filter": {"$and": [{"type": "file"}, {"dir": "/train"}]}},
            "metadata": {"system": {**pulling, "allowedAssignees": [annotator.email]}},
        },
        {
            "name": "Review the street scenes",
            "spec": {"type": "qa"},
            "metadata": {"system": {**pulling, "allowedAssignees": [reviewer.email]}},
        },
    ]
    parent = None
    for body in steps:
        if parent is not None:
            body["spec"]["parentTaskId"] = parent
        command = task_create_start(user=owner, body={"datasetId": dataset.id, "priority": 2, **body})
        command_execute(command_id=command.id)  # fill it now: no worker runs during the seed
        parent = command.spec["createdTaskId"]
