"""The API schema (drf-spectacular) documents every answer an operation can give, errors too.

`AutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation the error answers
the plumbing gives whatever the view (salesplan.api: authentication, permissions, parsers,
throttles, the exception handler), all with the one `Error` body. What only some views answer
(409 a stale version, 428 no version, 503 the queue down) a view names with
`extend_schema(responses={..., **error_responses(409, 428)})`. A view's own documentation of a
status wins over the generic one.

`add_links` (a postprocessing hook) adds OpenAPI links: what a create or a list returns leads
to the operations on that object, so a client (and schemathesis' stateful tests) can follow
the ids."""

import re
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """What salesplan.api.exceptions answers for every error: `detail` (one message for the
    whole request, e.g. 403, 404, 413, 429, 503), or each field's messages under its name
    (400: {"name": ["…"], "members[0].share": ["…"], "non_field_errors": ["…"]}; a nested
    serializer's errors nest). A 409 adds the current version beside `detail`."""

    # Any other key is a field of the request (a list of messages, or a nested field's
    # errors): JSON Schema allows keys a component does not list.
    detail = serializers.CharField(required=False, help_text="One message for the request.")


# Why each status (the texts of the schema, in English like the rest of it).
ERROR_DESCRIPTIONS = {
    400: "Invalid input: each field's messages under its name, or `detail` for a body that "
    "could not be read.",
    401: "No credentials, or a token that is wrong or expired.",
    403: "Signed in, but the role may not do this (or a browser session without its CSRF token).",
    404: "No such object in your organization (or no such page of a list).",
    409: "Conflict: based on a version someone else has changed since, or the object is in "
    "use; nothing was changed.",
    412: "If-Match names a version that is not the current one: nothing was changed.",
    413: "The request body (or the uploaded file) is too large.",
    415: "A content type this operation does not read.",
    428: "The version you read is required (If-Match or the version field): nothing was changed.",
    429: "Too many requests: wait the Retry-After seconds.",
    503: "The job queue is not answering: what was sent is kept and starts by itself once the "
    "queue is back.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`responses` entries for errors a view gives beyond the generic ones, e.g.
    `extend_schema(responses={200: PlanSerializer, **error_responses(409, 428)})`."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


def _is_public(view: Any) -> bool:
    return all(issubclass(permission, AllowAny) for permission in view.permission_classes)


class AutoSchema(openapi.AutoSchema):
    def generic_errors(self, operation: dict[str, Any]) -> list[int]:
        """The errors the plumbing can answer for this operation."""
        view = self.view
        parameters = operation.get("parameters", [])
        in_path = any(p["in"] == "path" for p in parameters)
        in_query = any(p["in"] == "query" for p in parameters)
        has_body = "requestBody" in operation
        codes = []
        if has_body or in_query or in_path:
            codes.append(400)  # a serializer's or a filter's validation, an unreadable body
        if view.authentication_classes:
            codes.append(401)  # a wrong or expired token, even where no one is required
        if view.authentication_classes or not _is_public(view):
            codes.append(403)  # a role, or a session's POST without its CSRF token
        if in_path or (self._is_list_view() and self._get_paginator() is not None):
            codes.append(404)  # no such object in the organization, or no such page
        if has_body:
            codes += [413, 415]
        if view.throttle_classes:
            codes.append(429)
        return codes

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code, response in error_responses(*self.generic_errors(operation)).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code))
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        return operation


# --- links ---------------------------------------------------------------------------------

_PARAMETER = re.compile(r"\{(\w+)\}")
_METHODS = ("get", "put", "patch", "delete", "post")


def _returns_id(operation: dict[str, Any], code: str, components: dict[str, Any]) -> bool:
    content = operation.get("responses", {}).get(code, {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if code == "200":  # a page of a list: its results' items
        item = schema.get("properties", {}).get("results", {}).get("items", {})
        if "$ref" not in item:
            return False
        schema = components.get(item["$ref"].rsplit("/", 1)[-1], {})
    return "id" in schema.get("properties", {})


def add_links(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """POST …/things/ (201) and GET …/things/ (a page) link to every operation under
    …/things/{param}/ whose other path parameters are the request's own: the new object's
    id, or the first listed one's, goes into {param}."""
    paths = result.get("paths", {})
    components = result.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        sources = [
            ("post", "201", "$response.body#/id"),
            ("get", "200", "$response.body#/results/0/id"),
        ]
        for method, code, expression in sources:
            operation = item.get(method)
            if operation is None or not _returns_id(operation, code, components):
                continue
            own = set(_PARAMETER.findall(path))
            links = operation["responses"][code].setdefault("links", {})
            for target_path, target in paths.items():
                rest = target_path.removeprefix(path)
                match = _PARAMETER.match(rest)
                if rest == target_path or match is None:
                    continue
                wanted = set(_PARAMETER.findall(target_path)) - own - {match.group(1)}
                if wanted:  # needs an id this response does not give
                    continue
                parameters = {match.group(1): expression}
                parameters.update({name: f"$request.path.{name}" for name in own})
                for target_method in _METHODS:
                    if target_method in target:
                        operation_id = target[target_method]["operationId"]
                        links[operation_id] = {
                            "operationId": operation_id,
                            "parameters": parameters,
                        }
    return result
