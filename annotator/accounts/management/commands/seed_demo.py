"""python manage.py seed_demo: an idempotent demo: three users and a demo project.

Later features fill the demo project with a dataset, an ontology and a task.
"""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from annotator.accounts import services
from annotator.accounts.models import Membership, Project, User
from annotator.core.permissions import Role

DEMO_PROJECT = "Demo project"
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
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for new demo users: {password}):"))
        for email, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10} {email}")
