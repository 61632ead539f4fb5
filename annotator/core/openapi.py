"""drf-spectacular post-processing: the error responses every API operation can give.

Views document their successes; the errors come from layers every view shares (authentication,
the visibility gate, the operation check in the services, DRF's parsers, the body size limit),
so they are added here, in the one JSON shape of core.errors, rather than repeated on ~90 views.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API (core.errors).",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "code": {"type": "string", "description": "A stable machine-readable code, e.g. not_found."},
        "message": {"type": "string", "description": "A sentence for people."},
        "details": {"description": "What exactly was wrong (e.g. per field), when known."},
    },
    "required": ["status", "code", "message"],
}

ERRORS = {
    "400": "Bad input: the body or a query parameter is invalid; nothing was changed.",
    "401": "No valid credentials.",
    "403": "The caller's role in the project does not allow the operation.",
    "404": "An entity named in the URL or the body does not exist or is not visible to the caller.",
    "409": "The change conflicts with the current state (a stale version, a duplicate name, the last owner).",
    "413": "The request body or an uploaded file is too large.",
    "415": "The request body's media type is not accepted here.",
    "429": "Too many attempts; retry after details.retryAfter seconds.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    if not operation.get("security") or {} in operation["security"]:
        # The login endpoint: it checks credentials itself and throttles repeated failures.
        return ["400", "401", "415", "429"]
    codes = ["401", "403"]
    parameters = operation.get("parameters", [])
    has_query = any(p.get("in") == "query" for p in parameters)
    has_path = any(p.get("in") == "path" for p in parameters)
    if has_query or "requestBody" in operation or method in WRITE_METHODS:
        codes.append("400")
    if has_path or has_query or method in WRITE_METHODS:  # query and body name entities too
        codes.append("404")
    if method in WRITE_METHODS:
        codes.append("409")
    if "requestBody" in operation:
        codes += ["413", "415"]
    return codes


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _json_only(request_body: dict[str, Any]) -> None:
    """Views on the default parsers take JSON bodies; DRF's form parsers would read a body that is
    not a form as no fields at all, so the schema offers JSON alone (uploads declare their forms)."""
    content = request_body.get("content", {})
    json_schema = content.get("application/json")
    if json_schema is not None and all(content.get(kind) == json_schema for kind in FORM_TYPES):
        for kind in FORM_TYPES:
            del content[kind]


# OpenAPI links: what a create answers feeds the operations on the created entity (shown in the
# Swagger UI; schemathesis' stateful tests chain calls along them).
# (operationId, status): ({target operationId: {parameter: runtime expression}}).
_ON_PROJECT = "$response.body#/id"
LINKS: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("api_v1_projects_create", "201"): {
        target: {"project_id": _ON_PROJECT}
        for target in (
            "api_v1_projects_retrieve",
            "api_v1_projects_update",
            "api_v1_projects_partial_update",
            "api_v1_projects_destroy",
            "api_v1_projects_members_list",
            "api_v1_projects_members_create",
        )
    },
    ("api_v1_projects_members_create", "201"): {
        target: {"project_id": "$request.path.project_id", "email": "$response.body#/email"}
        for target in ("api_v1_projects_members_partial_update", "api_v1_projects_members_destroy")
    },
    ("api_v1_users_me_apikeys_create", "201"): {"api_v1_users_me_apikeys_destroy": {"key_id": "$response.body#/id"}},
    ("api_v1_datasets_create", "201"): {
        target: {"dataset_id": "$response.body#/id"}
        for target in (
            "api_v1_datasets_retrieve",
            "api_v1_datasets_partial_update",
            "api_v1_datasets_destroy",
            "items_query",
            "datasets_exports_list",
        )
    },
    ("api_v1_ontologies_create", "201"): {
        target: {"ontology_id": "$response.body#/id"}
        for target in (
            "api_v1_ontologies_retrieve",
            "api_v1_ontologies_partial_update",
            "api_v1_ontologies_destroy",
            "api_v1_ontologies_addLabels_partial_update",
            "api_v1_ontologies_attributes_partial_update",
        )
    },
    ("api_v1_recipes_create", "201"): {
        target: {"recipe_id": "$response.body#/id"}
        for target in (
            "api_v1_recipes_retrieve",
            "api_v1_recipes_partial_update",
            "api_v1_recipes_destroy",
            "api_v1_recipes_instructions_retrieve",
        )
    },
    ("item_annotations_create", "201"): {
        target: {"annotation_id": "$response.body#/0/id"}
        for target in (
            "api_v1_annotations_retrieve",
            "api_v1_annotations_partial_update",
            "api_v1_annotations_destroy",
            "annotation_history",
            "api_v1_annotations_status_create",
        )
    },
    **{
        (source, "200"): {"api_v1_commands_retrieve": {"command_id": "$response.body#/id"}}
        for source in (
            "api_v1_datasets_clone_create",
            "api_v1_datasets_merge_create",
            "datasets_export",
            "datasets_import",
            "api_v1_annotationtasks_create",
            "tasks_add_items",
        )
    },
}


def _add_links(operations_by_id: dict[str, dict[str, Any]]) -> None:
    for (source, status), targets in LINKS.items():
        response = operations_by_id[source]["responses"][status]
        response["links"] = {
            target: {"operationId": target, "parameters": parameters} for target, parameters in targets.items()
        }


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: an Error component and its responses on every operation, JSON
    request bodies where the view reads JSON, and the links from creates to their entities."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                _json_only(operation["requestBody"])
            responses = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                responses.setdefault(code, {"description": ERRORS[code], "content": error})
    operations_by_id = {
        operation["operationId"]: operation
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
    }
    _add_links(operations_by_id)
    return result


# Success bodies that drf-spectacular cannot infer from the views.
JSON_ARRAY = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}
# dtlpy posts a list of annotations; a single annotation object is taken too.
ANNOTATIONS_BODY = {"oneOf": [JSON_ARRAY, {"type": "object", "additionalProperties": {}}]}
DELETED = {"type": "boolean", "description": "true: deleted (Dataloop's answer)"}
# An item's bytes: its own media type (any), a byte range of them, or "not modified".
BINARY_RESPONSES = {
    (200, "*/*"): OpenApiResponse(response=OpenApiTypes.BINARY, description="The bytes"),
    (206, "*/*"): OpenApiResponse(response=OpenApiTypes.BINARY, description="The requested byte range"),
    304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
    416: OpenApiResponse(description="The Range cannot be satisfied"),
}
