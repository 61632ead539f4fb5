"""The recipe editor page: a TypeScript module over the ontology and recipe API."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.ontologies.selectors import recipe_get


@login_required
def recipe_editor(request: HttpRequest, recipe_id: str) -> HttpResponse:
    recipe = recipe_get(user=request.user, recipe_id=recipe_id)
    return render(request, "ontologies/recipe_editor.html", {"recipe": recipe, "nav": "projects"})
