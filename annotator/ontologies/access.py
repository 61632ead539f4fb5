"""Access to ontologies and recipes: through the project they belong to.

An ontology or recipe in a project the user is not a member of gives the same 404 as
one that does not exist; a member whose role lacks the operation gets 403.
"""

from annotator.accounts.access import project_require
from annotator.accounts.models import Project, User
from annotator.core.errors import NotFound
from annotator.core.ids import is_valid_id
from annotator.ontologies.models import Ontology, Recipe

ONTOLOGY_NOT_FOUND = "Ontology not found."
RECIPE_NOT_FOUND = "Recipe not found."


def project_require_as(*, user: User, project_id: str, operation: str, missing: str) -> Project:
    """project_require, with the 404 worded for the entity that was asked for."""
    try:
        return project_require(user=user, project_id=project_id, operation=operation)
    except NotFound:
        raise NotFound(missing) from None


def ontology_require(*, user: User, ontology_id: str, operation: str, for_update: bool = False) -> Ontology:
    """The ontology, if `user` may perform `operation` in its project; locked if `for_update`."""
    project_id = None
    if is_valid_id(ontology_id):
        project_id = Ontology.objects.filter(pk=ontology_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(ONTOLOGY_NOT_FOUND)
    project = project_require_as(user=user, project_id=project_id, operation=operation, missing=ONTOLOGY_NOT_FOUND)
    queryset = Ontology.objects.select_related("creator", "updated_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    ontology = queryset.filter(pk=ontology_id).first()
    if ontology is None:  # deleted since the first look
        raise NotFound(ONTOLOGY_NOT_FOUND)
    ontology.project = project
    return ontology


def recipe_require(*, user: User, recipe_id: str, operation: str, for_update: bool = False) -> Recipe:
    """The recipe, if `user` may perform `operation` in its project; locked if `for_update`."""
    project_id = None
    if is_valid_id(recipe_id):
        project_id = Recipe.objects.filter(pk=recipe_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(RECIPE_NOT_FOUND)
    project = project_require_as(user=user, project_id=project_id, operation=operation, missing=RECIPE_NOT_FOUND)
    queryset = Recipe.objects.select_related("creator", "updated_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    recipe = queryset.filter(pk=recipe_id).first()
    if recipe is None:
        raise NotFound(RECIPE_NOT_FOUND)
    recipe.project = project
    return recipe
