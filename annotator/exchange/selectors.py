"""Reads of exports: the dataset's export commands, newest first, for the dataset page."""

from django.db.models import QuerySet

from annotator.accounts.models import User
from annotator.core.models import Command
from annotator.datasets.services import dataset_require

EXPORTS_LISTED = 50


def export_list(*, user: User, dataset_id: str) -> QuerySet[Command]:
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="dataset.view")
    return Command.objects.filter(
        project_id=dataset.project_id, type="dataset.export", spec__datasetId=dataset.id
    ).order_by("-id")[:EXPORTS_LISTED]
