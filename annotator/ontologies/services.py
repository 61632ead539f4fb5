"""Every write to ontologies (labels, attributes) and recipes.

Each service checks the caller by operation name: `ontology.update` for any change to an
ontology, `recipe.create` / `recipe.update` / `recipe.delete` for recipes. The ontology or
recipe row is locked for the read-modify-write of its JSON, so that concurrent label
edits queue instead of losing one another.
"""

import re
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from annotator.accounts.models import Project, User
from annotator.core.errors import BadRequest, Conflict
from annotator.core.events import broadcast, project_group
from annotator.core.ids import is_valid_id, new_id
from annotator.ontologies import attributes as attribute_defs
from annotator.ontologies import labels as label_tree
from annotator.ontologies.access import ontology_require, project_require_as, recipe_require
from annotator.ontologies.models import Ontology, Recipe, RecipeOntology
from annotator.ontologies.serializers import LABEL_TOOLS, ontology_json, recipe_json

TITLE_MAX = 200
INSTRUCTIONS_MAX = 100_000
RECIPE_ONTOLOGIES_MAX = 20
DEFAULT_ONTOLOGY_TITLE = "Default Ontology"
DEFAULT_RECIPE_TITLE = "Default Recipe"
DEFAULT_UI_SETTINGS = {"allowObjectIdAutoAssign": True, "studioV2App": True}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _clean_title(title: str | None, *, default: str | None) -> str:
    title = (title or "").strip()
    if not title:
        if default is None:
            raise BadRequest("A title is required.", details={"field": "title"})
        return default
    if len(title) > TITLE_MAX or _CONTROL.search(title):
        raise BadRequest(
            f"A title has at most {TITLE_MAX} characters and no control characters.", details={"field": "title"}
        )
    return title


def _project_for_create(*, user: User, project_ids: list[str], operation: str) -> Project:
    """The project named first in `projectIds` (we keep each entity in one project)."""
    if not project_ids:
        raise BadRequest("projectIds must name the project.", details={"field": "projectIds"})
    return project_require_as(user=user, project_id=project_ids[0], operation=operation, missing="Project not found.")


# --- ontologies ------------------------------------------------------------------------------------
def _build_roots(*, entries: list[Any] | None, field_name: str) -> list[dict[str, Any]]:
    tree = label_tree.Node(tag="")
    label_tree.tree_apply(tree, entries or [], mode=label_tree.UPSERT, field_name=field_name)
    return label_tree.tree_dump(tree)


def _tags(roots: list[dict[str, Any]]) -> set[str]:
    return {tag for tag, _value in label_tree.flatten(roots)}


def _save_ontology(ontology: Ontology, *, user: User, fields: list[str], event: str) -> Ontology:
    ontology.updated_by = user
    ontology.save(update_fields=[*fields, "updated_by", "updated_at"])
    broadcast(project_group(ontology.project_id), event, ontology_json(ontology))
    return ontology


def _ontology_create(
    *,
    user: User,
    project: Project,
    title: str | None,
    roots: list[Any] | None,
    attributes: list[Any] | None,
    roots_field: str = "roots",
) -> Ontology:
    clean_roots = _build_roots(entries=roots, field_name=roots_field)
    clean_attributes = attribute_defs.clean_attributes(
        attributes or [], field="attributes", known_tags=_tags(clean_roots)
    )
    ontology = Ontology.objects.create(
        id=new_id(),
        project=project,
        title=_clean_title(title, default=DEFAULT_ONTOLOGY_TITLE),
        roots=clean_roots,
        attributes=clean_attributes,
        creator=user,
        updated_by=user,
    )
    broadcast(project_group(project.id), "ontology.created", ontology_json(ontology))
    return ontology


@transaction.atomic
def ontology_create(
    *,
    user: User,
    project_ids: list[str],
    title: str | None = None,
    roots: list[Any] | None = None,
    attributes: list[Any] | None = None,
) -> Ontology:
    """A new ontology in the project `project_ids[0]`, from `roots` nodes (dotted tags allowed)."""
    project = _project_for_create(user=user, project_ids=project_ids, operation="ontology.update")
    return _ontology_create(user=user, project=project, title=title, roots=roots, attributes=attributes)


@transaction.atomic
def ontology_update(
    *,
    user: User,
    ontology_id: str,
    title: str | None = None,
    roots: list[Any] | None = None,
    attributes: list[Any] | None = None,
) -> Ontology:
    """PUT: replace what is given. `roots` replaces the whole tree; colours and hotkeys a label
    does not state are kept from the label of the same full tag. Attribute scopes lose the
    labels the new tree drops."""
    ontology = ontology_require(user=user, ontology_id=ontology_id, operation="ontology.update", for_update=True)
    fields: list[str] = []
    removed: set[str] = set()
    if roots is not None:
        previous = dict(label_tree.flatten(ontology.roots))
        tree = label_tree.Node(tag="")
        label_tree.tree_apply(tree, roots, mode=label_tree.UPSERT, field_name="roots")
        label_tree.tree_attach_previous(tree, previous)
        ontology.roots = label_tree.tree_dump(tree)
        removed = set(previous) - _tags(ontology.roots)
        fields.append("roots")
    tags = _tags(ontology.roots)
    if attributes is not None:
        ontology.attributes = attribute_defs.clean_attributes(
            attributes, field="metadata.attributes", known_tags=tags, dropped_tags=removed
        )
        fields.append("attributes")
    elif removed:
        ontology.attributes = attribute_defs.prune_scopes(ontology.attributes, removed)
        fields.append("attributes")
    if title is not None:
        ontology.title = _clean_title(title, default=ontology.title)
        fields.append("title")
    return _save_ontology(ontology, user=user, fields=fields, event="ontology.updated")


@transaction.atomic
def ontology_labels_upsert(*, user: User, ontology_id: str, labels: list[dict[str, Any]], upsert: bool) -> Ontology:
    """PATCH /ontologies/{id}/labels: `upsert` adds new labels and updates existing ones;
    without it only existing labels are updated (dtlpy's update_label sends upsert false)
    and an unknown tag is a 400. Dotted tags create missing parents."""
    mode = label_tree.UPSERT if upsert else label_tree.UPDATE
    return _labels_change(user=user, ontology_id=ontology_id, labels=labels, mode=mode)


@transaction.atomic
def ontology_labels_add(*, user: User, ontology_id: str, labels: list[dict[str, Any]]) -> Ontology:
    """Add labels only: a tag that already exists is a 409."""
    return _labels_change(user=user, ontology_id=ontology_id, labels=labels, mode=label_tree.ADD)


def _labels_change(*, user: User, ontology_id: str, labels: list[dict[str, Any]], mode: str) -> Ontology:
    ontology = ontology_require(user=user, ontology_id=ontology_id, operation="ontology.update", for_update=True)
    tree = label_tree.tree_load(ontology.roots)
    label_tree.tree_apply(tree, labels, mode=mode, field_name="labelsNode")
    ontology.roots = label_tree.tree_dump(tree)
    return _save_ontology(ontology, user=user, fields=["roots"], event="ontology.updated")


@transaction.atomic
def ontology_attributes_upsert(*, user: User, ontology_id: str, items: list[Any], upsert: bool) -> Ontology:
    """PATCH /ontologies/{id}/attributes: definitions by key. `upsert` adds new keys and
    replaces existing ones; without it only existing keys are replaced (unknown key: 400)."""
    ontology = ontology_require(user=user, ontology_id=ontology_id, operation="ontology.update", for_update=True)
    cleaned = attribute_defs.clean_attributes(items, field="items", known_tags=_tags(ontology.roots))
    by_key = {attribute["key"]: attribute for attribute in ontology.attributes}
    if not upsert and (unknown := [a["key"] for a in cleaned if a["key"] not in by_key]):
        raise BadRequest(
            f"No attribute with key {', '.join(map(repr, unknown))}; send upsert: true to add it.",
            details={"field": "items", "keys": unknown},
        )
    for attribute in cleaned:
        by_key[attribute["key"]] = attribute  # replaces in place, or appends in order
    if len(by_key) > attribute_defs.ATTRIBUTES_MAX:
        raise BadRequest(f"An ontology has at most {attribute_defs.ATTRIBUTES_MAX} attributes.")
    ontology.attributes = list(by_key.values())
    return _save_ontology(ontology, user=user, fields=["attributes"], event="ontology.updated")


@transaction.atomic
def ontology_attributes_delete(*, user: User, ontology_id: str, keys: list[str]) -> Ontology:
    ontology = ontology_require(user=user, ontology_id=ontology_id, operation="ontology.update", for_update=True)
    existing = {attribute["key"] for attribute in ontology.attributes}
    if unknown := [key for key in keys if key not in existing]:
        raise BadRequest(
            f"No attribute with key {', '.join(map(repr, unknown))}.", details={"field": "keys", "keys": unknown}
        )
    ontology.attributes = [attribute for attribute in ontology.attributes if attribute["key"] not in set(keys)]
    return _save_ontology(ontology, user=user, fields=["attributes"], event="ontology.updated")


@transaction.atomic
def ontology_delete(*, user: User, ontology_id: str) -> None:
    """Delete an ontology no recipe uses; one still in a recipe is a 409 naming the recipes."""
    ontology = ontology_require(user=user, ontology_id=ontology_id, operation="ontology.update", for_update=True)
    recipe_ids = list(RecipeOntology.objects.filter(ontology=ontology).values_list("recipe_id", flat=True))
    if recipe_ids:
        raise Conflict(
            "The ontology is used by a recipe; remove it from the recipe first.", details={"recipeIds": recipe_ids}
        )
    data = ontology_json(ontology)
    try:
        ontology.delete()
    except (ProtectedError, RestrictedError) as exc:  # a recipe took it up meanwhile
        raise Conflict("The ontology is used by a recipe; remove it from the recipe first.") from exc
    broadcast(project_group(ontology.project_id), "ontology.deleted", data)


# --- recipes ---------------------------------------------------------------------------------------
def _clean_ontology_ids(ontology_ids: list[str], *, project: Project) -> list[Ontology]:
    """The recipe's ontologies, in order; each must be an ontology of the recipe's project."""
    if not ontology_ids:
        raise BadRequest("A recipe needs at least one ontology.", details={"field": "ontologyIds"})
    if len(ontology_ids) > RECIPE_ONTOLOGIES_MAX:
        raise BadRequest(f"A recipe has at most {RECIPE_ONTOLOGIES_MAX} ontologies.", details={"field": "ontologyIds"})
    if len(set(ontology_ids)) != len(ontology_ids):
        raise BadRequest("ontologyIds names an ontology twice.", details={"field": "ontologyIds"})
    valid = [oid for oid in ontology_ids if is_valid_id(oid)]
    found = {o.id: o for o in Ontology.objects.filter(pk__in=valid, project=project)}
    if missing := [oid for oid in ontology_ids if oid not in found]:
        raise BadRequest(
            f"No ontology {', '.join(map(repr, missing))} in this project.",
            details={"field": "ontologyIds", "ontologyIds": missing},
        )
    return [found[oid] for oid in ontology_ids]


def _clean_ui_settings(ui_settings: Any) -> dict[str, Any]:
    if not isinstance(ui_settings, dict):
        raise BadRequest("uiSettings must be an object.", details={"field": "uiSettings"})
    return ui_settings


def _clean_instructions(instructions: Any) -> str:
    if not isinstance(instructions, str) or len(instructions) > INSTRUCTIONS_MAX:
        raise BadRequest(
            f"instructions is text of at most {INSTRUCTIONS_MAX} characters.", details={"field": "instructions"}
        )
    return instructions


def _clean_label_tools(
    label_tools: Any, *, tags: set[str], stored: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """{full tag: [tool, ...]}. Tools come from LABEL_TOOLS; tags must exist in the recipe's
    ontologies, except that a stored entry sent back unchanged for a label deleted since is
    dropped quietly (so a client may send back what it read)."""
    if not isinstance(label_tools, dict):
        raise BadRequest("labelTools must map label tags to lists of tools.", details={"field": "labelTools"})
    stored = stored or {}
    cleaned: dict[str, list[str]] = {}
    for tag, tools in label_tools.items():
        if not isinstance(tools, list) or not all(isinstance(tool, str) for tool in tools):
            raise BadRequest(
                f"labelTools[{tag!r}] must be a list of tool names.", details={"field": "labelTools", "label": tag}
            )
        if unknown := [tool for tool in tools if tool not in LABEL_TOOLS]:
            raise BadRequest(
                f"labelTools[{tag!r}]: unknown tool {', '.join(map(repr, unknown))}; use {', '.join(LABEL_TOOLS)}.",
                details={"field": "labelTools", "label": tag, "tools": unknown},
            )
        tools = list(dict.fromkeys(tools))
        if tag not in tags:
            if stored.get(tag) == tools:
                continue
            raise BadRequest(
                f"labelTools names label {tag!r}, which is in none of the recipe's ontologies.",
                details={"field": "labelTools", "label": tag},
            )
        cleaned[tag] = tools
    return cleaned


def _recipe_tags(ontologies: list[Ontology]) -> set[str]:
    return set().union(*(_tags(ontology.roots) for ontology in ontologies))


def _link_ontologies(recipe: Recipe, ontologies: list[Ontology]) -> None:
    RecipeOntology.objects.filter(recipe=recipe).delete()
    RecipeOntology.objects.bulk_create(
        [RecipeOntology(recipe=recipe, ontology=ontology, position=i) for i, ontology in enumerate(ontologies)]
    )


def _recipe_fresh(recipe: Recipe) -> Recipe:
    """Forget cached links, so that recipe_json reads the ontology ids just written."""
    recipe._prefetched_objects_cache = {}
    return recipe


def _recipe_create(
    *,
    user: User,
    project: Project,
    title: str | None,
    ontologies: list[Ontology],
    instructions: str = "",
    ui_settings: dict[str, Any] | None = None,
    label_tools: dict[str, Any] | None = None,
) -> Recipe:
    recipe = Recipe.objects.create(
        id=new_id(),
        project=project,
        title=_clean_title(title, default=DEFAULT_RECIPE_TITLE),
        instructions=_clean_instructions(instructions),
        ui_settings=_clean_ui_settings(dict(DEFAULT_UI_SETTINGS) if ui_settings is None else ui_settings),
        label_tools=_clean_label_tools(label_tools or {}, tags=_recipe_tags(ontologies)),
        creator=user,
        updated_by=user,
    )
    _link_ontologies(recipe, ontologies)
    broadcast(project_group(project.id), "recipe.created", recipe_json(_recipe_fresh(recipe)))
    return recipe


@transaction.atomic
def recipe_create(
    *,
    user: User,
    project_ids: list[str],
    title: str | None = None,
    ontology_ids: list[str] | None = None,
    instructions: str | None = None,
    ui_settings: dict[str, Any] | None = None,
    label_tools: dict[str, Any] | None = None,
) -> Recipe:
    """A recipe in the project `project_ids[0]`. Without `ontology_ids`, a new empty ontology
    is made for it (that also needs `ontology.update`)."""
    project = _project_for_create(user=user, project_ids=project_ids, operation="recipe.create")
    if ontology_ids:
        ontologies = _clean_ontology_ids(ontology_ids, project=project)
    else:
        project_require_as(user=user, project_id=project.id, operation="ontology.update", missing="Project not found.")
        ontologies = [_ontology_create(user=user, project=project, title=title, roots=None, attributes=None)]
    return _recipe_create(
        user=user,
        project=project,
        title=title,
        ontologies=ontologies,
        instructions=instructions or "",
        ui_settings=ui_settings,
        label_tools=label_tools,
    )


@transaction.atomic
def recipe_create_default(*, user: User, project: Project, title: str, labels: list[dict] | None = None) -> Recipe:
    """A dataset's default recipe: a new ontology holding `labels` (labelsNode items or roots
    nodes; dotted tags allowed) and a recipe pointing at it. Needs `recipe.create`."""
    project = project_require_as(
        user=user, project_id=project.id, operation="recipe.create", missing="Project not found."
    )
    ontology = _ontology_create(
        user=user, project=project, title=title, roots=labels, attributes=None, roots_field="labels"
    )
    return _recipe_create(user=user, project=project, title=title, ontologies=[ontology])


@transaction.atomic
def recipe_update(
    *,
    user: User,
    recipe_id: str,
    title: str | None = None,
    ontology_ids: list[str] | None = None,
    instructions: str | None = None,
    ui_settings: dict[str, Any] | None = None,
    label_tools: dict[str, Any] | None = None,
) -> Recipe:
    """Change what is given (None: unchanged). New ontologies must be in the recipe's project;
    tool entries for labels they lack are dropped when labelTools is not given."""
    recipe = recipe_require(user=user, recipe_id=recipe_id, operation="recipe.update", for_update=True)
    fields: list[str] = []
    if title is not None:
        recipe.title = _clean_title(title, default=None)
        fields.append("title")
    if instructions is not None:
        recipe.instructions = _clean_instructions(instructions)
        fields.append("instructions")
    if ui_settings is not None:
        recipe.ui_settings = _clean_ui_settings(ui_settings)
        fields.append("ui_settings")
    current_ids = list(
        RecipeOntology.objects.filter(recipe=recipe).order_by("position").values_list("ontology_id", flat=True)
    )
    relink = ontology_ids is not None and list(ontology_ids) != current_ids
    if relink or label_tools is not None:
        ontologies = _clean_ontology_ids(ontology_ids if relink else current_ids, project=recipe.project)
        tags = _recipe_tags(ontologies)
        if label_tools is not None:
            recipe.label_tools = _clean_label_tools(label_tools, tags=tags, stored=recipe.label_tools)
        else:
            recipe.label_tools = {tag: tools for tag, tools in recipe.label_tools.items() if tag in tags}
        fields.append("label_tools")
        if relink:
            _link_ontologies(recipe, ontologies)
    recipe.updated_by = user
    recipe.save(update_fields=[*fields, "updated_by", "updated_at"])
    broadcast(project_group(recipe.project_id), "recipe.updated", recipe_json(_recipe_fresh(recipe)))
    return recipe


@transaction.atomic
def recipe_instructions_document_set(*, user: User, recipe_id: str, blob_sha256: str | None) -> Recipe:
    """Attach (or with None, detach) the instructions PDF, a stored blob named by its sha256.
    The caller (the binary store) has checked the blob exists and is a PDF."""
    recipe = recipe_require(user=user, recipe_id=recipe_id, operation="recipe.update", for_update=True)
    if blob_sha256 is not None and not _SHA256.match(blob_sha256):
        raise BadRequest("The instructions document is named by a lower-case sha256.", details={"field": "sha256"})
    recipe.instructions_blob_sha256 = blob_sha256
    recipe.updated_by = user
    recipe.save(update_fields=["instructions_blob_sha256", "updated_by", "updated_at"])
    broadcast(project_group(recipe.project_id), "recipe.updated", recipe_json(_recipe_fresh(recipe)))
    return recipe


@transaction.atomic
def recipe_delete(*, user: User, recipe_id: str) -> None:
    """Delete the recipe; its ontologies stay. A recipe still referenced (RESTRICT/PROTECT) is a 409."""
    recipe = recipe_require(user=user, recipe_id=recipe_id, operation="recipe.delete", for_update=True)
    data = recipe_json(recipe)
    try:
        with transaction.atomic():
            recipe.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict("The recipe is still in use.") from exc
    broadcast(project_group(data["projectIds"][0]), "recipe.deleted", data)
