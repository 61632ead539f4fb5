"""Reads of ontologies and recipes, already limited to what the user may see.

Also the read helpers other apps build on: the flat labels of an ontology or recipe
(datasets, annotation validation) and the attributes that apply to a label.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet

from annotator.accounts.models import Membership, User
from annotator.core.errors import NotFound
from annotator.core.permissions import ROLES, role_allows
from annotator.ontologies import labels as label_tree
from annotator.ontologies.access import ontology_require, recipe_require
from annotator.ontologies.attributes import attribute_applies_to
from annotator.ontologies.models import Ontology, Recipe, RecipeOntology

VIEW = "recipe.view"


def _viewable_project_ids(*, user: User, project_ids: list[str] | None) -> QuerySet | list[str]:
    """Projects whose ontologies and recipes `user` may read: those asked for, or all of theirs.

    A project asked for by id that the user may not read is a 404, as it would be on its own.
    """
    roles = [role for role in ROLES if role_allows(role, VIEW)]
    memberships = Membership.objects.filter(user=user, role__in=roles)
    if project_ids is None:
        return memberships.values("project_id")
    visible = set(memberships.filter(project_id__in=project_ids).values_list("project_id", flat=True))
    if missing := [pid for pid in project_ids if pid not in visible]:
        raise NotFound("Project not found.", details={"projectIds": missing})
    return list(visible)


def ontology_get(*, user: User, ontology_id: str) -> Ontology:
    return ontology_require(user=user, ontology_id=ontology_id, operation=VIEW)


def ontology_list(*, user: User, project_ids: list[str] | None = None, ids: list[str] | None = None) -> QuerySet:
    queryset = Ontology.objects.filter(project_id__in=_viewable_project_ids(user=user, project_ids=project_ids))
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.select_related("creator", "updated_by").order_by("id")


def _with_links(queryset: QuerySet[Recipe]) -> QuerySet[Recipe]:
    return queryset.select_related("creator", "updated_by").prefetch_related(
        Prefetch("ontology_links", queryset=RecipeOntology.objects.order_by("position"))
    )


def recipe_get(*, user: User, recipe_id: str) -> Recipe:
    return recipe_require(user=user, recipe_id=recipe_id, operation=VIEW)


def recipe_list(*, user: User, project_ids: list[str] | None = None, ids: list[str] | None = None) -> QuerySet:
    queryset = Recipe.objects.filter(project_id__in=_viewable_project_ids(user=user, project_ids=project_ids))
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return _with_links(queryset).order_by("id")


# --- helpers over already-fetched rows (no permission checks: the caller has the row) --------------
def ontology_labels_flat(ontology: Ontology) -> list[tuple[str, dict[str, Any]]]:
    """(full dotted tag, label value) for every label, in tree order."""
    return label_tree.flatten(ontology.roots)


def ontology_label_tags(ontology: Ontology) -> set[str]:
    return {tag for tag, _value in ontology_labels_flat(ontology)}


def attributes_for(ontology: Ontology, dotted_tag: str) -> list[dict[str, Any]]:
    """The attribute definitions whose scope includes the label `dotted_tag`."""
    return [attribute for attribute in ontology.attributes if attribute_applies_to(attribute, dotted_tag)]


def mandatory_attributes_for(ontology: Ontology, dotted_tag: str) -> list[dict[str, Any]]:
    """The definitions an annotation with label `dotted_tag` must give a value for (optional: false)."""
    return [attribute for attribute in attributes_for(ontology, dotted_tag) if not attribute.get("optional", True)]


def recipe_ontologies(recipe: Recipe) -> list[Ontology]:
    """The recipe's ontologies in `ontologyIds` order (one query)."""
    links = RecipeOntology.objects.filter(recipe=recipe).select_related("ontology").order_by("position")
    return [link.ontology for link in links]


def recipe_labels(recipe: Recipe, ontologies: list[Ontology] | None = None) -> list[dict[str, Any]]:
    """Every label of the recipe as `{**value, "tag": full dotted tag}`, in ontology then tree order.

    A tag defined in two of the recipe's ontologies is listed once, from the first. Pass the
    recipe's `ontologies` when you have them (recipe_ontologies) to save the query.
    """
    labels: dict[str, dict[str, Any]] = {}
    for ontology in recipe_ontologies(recipe) if ontologies is None else ontologies:
        for tag, value in ontology_labels_flat(ontology):
            labels.setdefault(tag, {**value, "tag": tag})
    return list(labels.values())
