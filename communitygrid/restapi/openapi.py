"""Completes the generated OpenAPI document with what every operation shares.

Ninja documents the responses a handler declares; the answers that come from the machinery
around handlers (authentication, key scopes, validation, rate limits, the body guard, the
Idempotency-Key header) are added here once, so no operation can miss one.
"""
from __future__ import annotations

from communitygrid.restapi.errors import ErrorOut
from communitygrid.restapi.guards import KEY_MAX

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

COMMON = {
    "400": "The request is malformed (e.g. a NUL character in a parameter) or not valid.",
    "401": "Not signed in, or the API key is missing, unknown or revoked.",
    "403": "Not allowed: the role or the API key's scopes do not cover this operation (or the CSRF check failed).",
    "422": "A parameter or body field is not valid; `field` names it and `errors` lists every problem.",
    "429": "Too many requests for this API key; retry after the `Retry-After` seconds.",
}
WITH_BODY = {
    "413": "The request body is larger than the limit.",
    "415": "The body's content type is not one this operation reads.",
}
POST = {
    "400": "The `Idempotency-Key` header is malformed, or the request is not valid.",
    "409": "A request with the same `Idempotency-Key` is still being processed, or the action is not allowed now.",
    "422": "The `Idempotency-Key` was already used for a different request, or a parameter is not valid.",
}
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (e.g. a UUID). A retry with the same key and the same request returns "
                   "the first response (with `Idempotent-Replayed: true`) instead of acting twice. Kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX},
}


def _add(responses: dict, codes: dict) -> None:
    for code, description in codes.items():
        responses.setdefault(code, {"description": description, "content": {"application/json": {"schema": ERROR_REF}}})


def complete(schema: dict) -> dict:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in components:
        components.update(ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            # Ninja keys responses by int; the JSON document by string: one key per status.
            responses = operation["responses"] = {str(code): r for code, r in operation.get("responses", {}).items()}
            _add(responses, COMMON)
            if "requestBody" in operation:
                _add(responses, WITH_BODY)
            if method == "post":
                _add(responses, POST)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_HEADER)
    return schema
