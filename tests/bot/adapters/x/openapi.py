"""Checks requests and canned responses against X's own OpenAPI description of API v2.

The description lives beside the project (../shared/reference/x-api-v2-openapi.json, as in CI);
it is read, never copied. OpenAPI 3.0 schemas are JSON Schema plus `nullable`, which is turned
into a `"null"` type before validating with `jsonschema`. Query parameters are checked for
existence and against their schema (comma lists as arrays); JSON and multipart bodies against the
request body schema; the Authorization header's OAuth 1.0a signature is recomputed with oauthlib.
"""

from __future__ import annotations

import copy
import email.parser
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema
import requests
from oauthlib.oauth1.rfc5849 import signature, utils

SPEC_PATH = Path(__file__).resolve().parents[4] / ".." / "shared" / "reference" / "x-api-v2-openapi.json"
METHODS = ("get", "post", "put", "delete", "patch")


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` → JSON Schema's `type: [t, "null"]` (recursively, in place)."""
    if isinstance(node, dict):
        if node.pop("nullable", False):
            if "type" in node:
                node["type"] = [node["type"], "null"]
            else:  # a nullable $ref or combinator: allow null beside it
                inner = {k: node.pop(k) for k in list(node) if k not in ("description",)}
                node["anyOf"] = [inner, {"type": "null"}]
        for value in node.values():
            _nullable_to_type(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_to_type(value)
    return node


class XOpenApi:
    """X's API description, loaded once; every check raises AssertionError saying what is wrong."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components = _nullable_to_type(copy.deepcopy(spec["components"]))

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> XOpenApi:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        # Literal paths first, so /2/users/me wins over /2/users/{id}.
        paths = sorted(self.spec["paths"], key=lambda p: (p.count("{"), p))
        return [
            (
                re.compile(
                    "^"
                    + re.sub(r"\{[^/]+\}", "(?P<\\g<0>>[^/]+)", p).replace("<{", "<").replace("}>", ">")
                    + "$"
                ),
                p,
            )
            for p in paths
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(template, operation, path params) for a concrete request path."""
        for pattern, template in self._templates:
            match = pattern.match(path)
            if match and method.lower() in self.spec["paths"][template]:
                return template, self.spec["paths"][template][method.lower()], match.groupdict()
        raise AssertionError(f"{method} {path}: no such operation in X's API description")

    def _schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {**_nullable_to_type(copy.deepcopy(schema)), "components": self.components}

    def validate(self, instance: Any, schema: dict[str, Any], what: str) -> None:
        errors = sorted(jsonschema.Draft7Validator(self._schema(schema)).iter_errors(instance), key=str)
        if errors:
            first = errors[0]
            where = "/".join(map(str, first.absolute_path)) or "(root)"
            raise AssertionError(f"{what}: {where}: {first.message}")

    def _parameters(self, op: dict[str, Any]) -> list[dict[str, Any]]:
        params = []
        for param in op.get("parameters", ()):
            if "$ref" in param:
                param = self.spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            params.append(param)
        return params

    # -- requests --------------------------------------------------------------------------------------

    def check_request(self, request: requests.PreparedRequest) -> str:
        """Validate one outgoing request; returns its operation's template path."""
        url = urlsplit(request.url or "")
        method = request.method or "GET"
        template, op, path_params = self.operation(method, url.path)
        what = f"{method} {url.path}"
        params = self._parameters(op)
        for param in params:
            if param["in"] == "path":
                self.validate(
                    unquote(path_params[param["name"]]), param["schema"], f"{what} path {param['name']}"
                )
        declared = {p["name"]: p for p in params if p["in"] == "query"}
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        for name, value in query.items():
            if name not in declared:
                raise AssertionError(
                    f"{what}: query parameter {name!r} is not in X's API description "
                    f"(declared: {sorted(declared)})"
                )
            schema = declared[name]["schema"]
            typed: Any = value
            if schema.get("type") == "array":
                typed = value.split(",")
            elif schema.get("type") == "integer":
                typed = int(value)
            self.validate(typed, schema, f"{what} query {name}")
        for name, param in declared.items():
            if param.get("required") and name not in query:
                raise AssertionError(f"{what}: required query parameter {name!r} missing")
        self._check_body(request, op, what)
        return template

    def _check_body(self, request: requests.PreparedRequest, op: dict[str, Any], what: str) -> None:
        body_spec = op.get("requestBody")
        if body_spec is None:
            if request.body:
                raise AssertionError(f"{what}: sends a body, but the operation takes none")
            return
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        content = body_spec["content"]
        if content_type not in content:
            raise AssertionError(f"{what}: Content-Type {content_type!r}; X takes {sorted(content)}")
        schema = content[content_type]["schema"]
        if content_type == "application/json":
            self.validate(json.loads(request.body or b"{}"), schema, f"{what} body")
        elif content_type == "multipart/form-data":
            # A file part is a string of format "binary" to the schema; its bytes are checked by the fake.
            fields = {
                k: v if isinstance(v, str) else "<binary>" for k, v in multipart_fields(request).items()
            }
            self.validate(fields, schema, f"{what} multipart body")

    # -- responses -------------------------------------------------------------------------------------

    def check_response(
        self, method: str, path: str, status: int, body: Any, content_type: str = "application/json"
    ) -> None:
        """Validate a canned JSON response for the operation, status and content type it answers."""
        _, op, _ = self.operation(method, path)
        responses = op["responses"]
        spec = responses.get(str(status)) or responses.get("default")
        if spec is None:
            raise AssertionError(f"{method} {path}: status {status} is not described")
        content = spec.get("content", {})
        if content and content_type not in content:
            raise AssertionError(
                f"{method} {path} → {status}: {content_type} not described ({sorted(content)})"
            )
        if content:
            self.validate(body, content[content_type]["schema"], f"{method} {path} → {status}")


def multipart_fields(request: requests.PreparedRequest) -> dict[str, Any]:
    """The form fields of a multipart body: text fields as str, file parts as bytes."""
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[name] = payload.decode() if part.get_filename() is None else payload
    return fields


def oauth1_signature_valid(
    request: requests.PreparedRequest, consumer_secret: str, token_secret: str
) -> bool:
    """Recompute the HMAC-SHA1 signature of an OAuth 1.0a request and compare it with the sent one."""
    header = request.headers.get("Authorization", "")
    if isinstance(header, bytes):
        header = header.decode()
    if not header.startswith("OAuth "):
        return False
    oauth = dict(utils.parse_authorization_header(header))
    content_type = (request.headers.get("Content-Type") or "").split(";")[0]
    form_body = request.body if content_type == "application/x-www-form-urlencoded" else None
    params = signature.collect_parameters(
        uri_query=urlsplit(request.url or "").query,
        body=form_body,
        headers={"Authorization": header},
        exclude_oauth_signature=True,
    )
    base = signature.signature_base_string(
        request.method or "GET",
        signature.base_string_uri(request.url or ""),
        signature.normalize_parameters(params),
    )
    expected = signature.sign_hmac_sha1_with_client(base, _Secrets(consumer_secret, token_secret))
    return utils.unescape(oauth.get("oauth_signature", "")) == expected


class _Secrets:
    """The two secrets oauthlib's signer reads from a client object."""

    def __init__(self, client_secret: str, resource_owner_secret: str) -> None:
        self.client_secret = client_secret
        self.resource_owner_secret = resource_owner_secret
