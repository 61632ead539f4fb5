"""The studio page: a canvas app (frontend/studio/) over the annotation API; this only opens it.

With `?task=<id>` it opens in task mode: a bar with the task's actions that set the item's
status and move on to the next item in place (frontend/studio/taskmode.ts).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.core.permissions import role_allows
from annotator.datasets.selectors import item_get
from annotator.tasks.selectors import task_get


def _task_mode(request: HttpRequest, task_id: str) -> dict:
    task = task_get(user=request.user, task_id=task_id)  # 404 for tasks the user may not see
    assignment = task.assignments.filter(annotator=request.user, active=True).only("id").first()
    return {
        "id": task.id,
        "name": task.name,
        "type": task.type,
        "allocation": task.allocation,
        "actions": list(task.available_actions or []),
        "assignmentId": assignment.id if assignment else None,
    }


@login_required
def studio(request: HttpRequest, item_id: str) -> HttpResponse:
    item = item_get(user=request.user, item_id=item_id)  # 404 for items the user may not see
    dataset = item.dataset
    role = dataset.project.viewer_role
    task_id = request.GET.get("task")
    context = {
        "item": item,
        "dataset": dataset,
        # The page offers what the role may do; the services refuse the rest anyway.
        "can_edit": role_allows(role, "annotation.create") and role_allows(role, "annotation.update"),
        "can_review": role_allows(role, "item.review"),
        "task": _task_mode(request, task_id) if task_id else None,
    }
    return render(request, "studio.html", context)
