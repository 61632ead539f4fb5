"""The one table of named operations per project role.

Every service checks the caller by operation name (`require(...)`), whatever the
transport: REST, websocket or a Celery job. Roles follow Dataloop's project roles,
plus `reviewer`: an annotator who may also review.
"""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ENGINEER = "engineer"
    ANNOTATION_MANAGER = "annotationManager"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)

_MEMBER = {
    "project.view",
    "member.view",
    "dataset.view",
    "item.view",
    "recipe.view",
    "annotation.view",
    "task.view",
}
_ANNOTATOR = _MEMBER | {
    "annotation.create",
    "annotation.update",
    "annotation.delete",
    "assignment.work",
    "item.status.set",
}
_REVIEWER = _ANNOTATOR | {"item.review"}
_ANNOTATION_MANAGER = _REVIEWER | {
    "member.manage_annotators",
    "task.create",
    "task.update",
    "task.delete",
    "task.assign",
    "assignment.reassign",
    "assignment.redistribute",
}
_ENGINEER = _ANNOTATION_MANAGER | {
    "dataset.create",
    "dataset.update",
    "dataset.delete",
    "item.create",
    "item.update",
    "item.delete",
    "item.update_system",
    "recipe.create",
    "recipe.update",
    "recipe.delete",
    "ontology.update",
    "export.create",
    "import.create",
}
_OWNER = _ENGINEER | {
    "project.update",
    "project.delete",
    "member.manage",
}

ROLE_OPERATIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ENGINEER: frozenset(_ENGINEER),
    Role.ANNOTATION_MANAGER: frozenset(_ANNOTATION_MANAGER),
    Role.ANNOTATOR: frozenset(_ANNOTATOR),
    Role.REVIEWER: frozenset(_REVIEWER),
}

OPERATIONS: frozenset[str] = frozenset().union(*ROLE_OPERATIONS.values())

# Roles an annotationManager may grant, change or remove with `member.manage_annotators`.
ANNOTATOR_ROLES: frozenset[str] = frozenset({Role.ANNOTATOR, Role.REVIEWER})


def role_allows(role: str | None, operation: str) -> bool:
    if operation not in OPERATIONS:
        raise KeyError(f"unknown operation {operation!r}: add it to ROLE_OPERATIONS")
    return role is not None and operation in ROLE_OPERATIONS.get(role, frozenset())
