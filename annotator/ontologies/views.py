"""The recipe editor page: a TypeScript module over the ontology and recipe API."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.core.permissions import role_allows
from annotator.datasets.selectors import dataset_list
from annotator.ontologies.selectors import recipe_get


@login_required
def recipe_editor(request: HttpRequest, recipe_id: str) -> HttpResponse:
    recipe = recipe_get(user=request.user, recipe_id=recipe_id)
    project = recipe.project  # set by the access check, with the viewer's role
    role = project.viewer_role
    # The datasets that name this recipe, for the way back; a project has few datasets.
    datasets = [
        dataset
        for dataset in dataset_list(user=request.user, project_ids=[project.id])
        if recipe.id in ((dataset.metadata or {}).get("system") or {}).get("recipes", [])
    ]
    context = {
        "recipe": recipe,
        "project": project,
        "role": role,
        "datasets": datasets,
        # The page hides what the role may not do; the services refuse it anyway.
        "can_edit_ontology": role_allows(role, "ontology.update"),
        "can_edit_recipe": role_allows(role, "recipe.update"),
        "nav": "projects",
    }
    return render(request, "ontologies/recipe_editor.html", context)
