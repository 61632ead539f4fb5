"""The studio page: a canvas app (frontend/studio/) over the annotation API; this only opens it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.core.permissions import role_allows
from annotator.datasets.selectors import item_get


@login_required
def studio(request: HttpRequest, item_id: str) -> HttpResponse:
    item = item_get(user=request.user, item_id=item_id)  # 404 for items the user may not see
    dataset = item.dataset
    role = dataset.project.viewer_role
    context = {
        "item": item,
        "dataset": dataset,
        # The page offers what the role may do; the services refuse the rest anyway.
        "can_edit": role_allows(role, "annotation.create") and role_allows(role, "annotation.update"),
    }
    return render(request, "studio.html", context)
