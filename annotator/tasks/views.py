"""Task pages: "My work", the creation form and the task dashboard.

The pages are thin shells: the TypeScript modules in frontend/pages/ fill them from the same
API the SDK uses and keep them live over the websocket.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.accounts import selectors as accounts
from annotator.core.permissions import role_allows
from annotator.datasets.selectors import dataset_list
from annotator.ontologies.selectors import recipe_list
from annotator.tasks import selectors


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    return render(request, "tasks/my_work.html", {"nav": "work"})


@login_required
def task_create(request: HttpRequest, project_id: str) -> HttpResponse:
    project = accounts.project_get(user=request.user, project_id=project_id)
    if not role_allows(project.viewer_role, "task.create"):
        raise PermissionDenied
    datasets = [
        {
            "id": d.id,
            "name": d.name,
            "itemsCount": d.items_count,
            "recipeId": next(iter(((d.metadata or {}).get("system") or {}).get("recipes") or []), None),
        }
        for d in dataset_list(user=request.user, project_ids=[project.id])
    ]
    workers = [
        {"email": m.user.email, "name": m.user.full_name or m.user.email, "role": m.role}
        for m in accounts.member_list(user=request.user, project_id=project.id)
        if role_allows(m.role, "assignment.work")
    ]
    recipes = [{"id": r.id, "title": r.title} for r in recipe_list(user=request.user, project_ids=[project.id])]
    annotation_tasks = [
        {"id": t.id, "name": t.name, "datasetId": t.dataset_id}
        for t in project.tasks.filter(type="annotation").order_by("-id")
    ]
    context = {
        "project": project,
        "form_data": {
            "projectId": project.id,
            "datasets": datasets,
            "workers": workers,
            "recipes": recipes,
            "annotationTasks": annotation_tasks,
            "datasetId": request.GET.get("dataset") or "",
        },
        "nav": "projects",
    }
    return render(request, "tasks/task_create.html", context)


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    task = selectors.task_get(user=request.user, task_id=task_id)
    role = task.project.viewer_role
    context = {
        "task": task,
        "project": task.project,
        "dataset": task.dataset,
        "can_manage": role_allows(role, "task.update"),
        "can_work": task.assignments.filter(annotator=request.user, active=True).exists(),
        "nav": "projects",
    }
    return render(request, "tasks/task_detail.html", context)
