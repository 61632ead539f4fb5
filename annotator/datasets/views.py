"""Dataset pages: the browser is a TypeScript module over the same API the SDK uses."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotator.core.errors import ApiError
from annotator.core.permissions import role_allows
from annotator.datasets import selectors, services


@login_required
@require_POST
def dataset_create(request: HttpRequest, project_id: str) -> HttpResponse:
    try:
        dataset = services.dataset_create(user=request.user, project_id=project_id, name=request.POST.get("name", ""))
    except ApiError as exc:
        messages.error(request, str(exc.detail))
        return redirect("project-detail", project_id=project_id)
    messages.success(request, f"Dataset {dataset.name} created.")
    return redirect("dataset-detail", dataset_id=dataset.id)


@login_required
def dataset_detail(request: HttpRequest, dataset_id: str) -> HttpResponse:
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    role = dataset.project.viewer_role
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "can_upload": role_allows(role, "item.create"),
        "can_clone": role_allows(role, "dataset.create"),
        "can_create_task": role_allows(role, "task.create"),
        "can_export": role_allows(role, "export.create"),
        "can_import": role_allows(role, "import.create"),
        "recipe_id": next(iter((dataset.metadata or {}).get("system", {}).get("recipes", [])), None),
        "nav": "projects",
    }
    return render(request, "datasets/dataset_detail.html", context)
