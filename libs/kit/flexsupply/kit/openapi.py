"""The OpenAPI documents tell the truth: what the server checks, the problems it answers, who may call.

Corrections to what litestar 2 generates, applied to every route of every app `build_app` makes, so that
endpoints added later are covered without annotating them:
- bodies are described by pydantic's own JSON schema: litestar's translation loses constraints (a dict with
  `min_length` becomes an array; patterns and bounds inside list items, dict keys and values vanish), and a
  parameter declaring pydantic constraints, which litestar would not check, stops the app from being built;
- every operation lists the problem details it can answer (kit.errors), as `application/problem+json`;
- routes that need no credentials say so (`security: []`) instead of inheriting the document's bearer scheme;
- an optional header, or an optional text query parameter, is documented without the `null` it cannot carry.
"""

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, get_args

from litestar import Response
from litestar.enums import ParamType
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, DefineMiddleware
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Discriminator, Operation, Parameter, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.typing import FieldDefinition
from pydantic import BaseModel

from flexsupply.kit.errors import PROBLEM_MEDIA_TYPE, InvalidRequest, ProblemDetails

# The opt key litestar's authentication middleware reads (AbstractAuthenticationMiddleware's default).
EXCLUDE_FROM_AUTH = "exclude_from_auth"
IDEMPOTENCY_HEADER = "idempotency-key"
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEMS: Mapping[int, str] = {
    400: "The request is invalid: `errors` names each field at fault.",
    401: "No operator token or known API key was sent.",
    403: "The caller may not do this.",
    404: "Nothing is found at this path, or the caller may not see it.",
    409: "The request conflicts with what is stored (a duplicate, or a step the current state does not allow).",
    422: "The request is understood but refused: an Idempotency-Key reused for another request, or a rule broken.",
    429: "Too many requests of this kind from this caller: try again after `Retry-After` seconds.",
    503: "A database or a peer service is unavailable; try again later.",
}

Refs = Callable[[str], Schema | Reference]

# JSON Schema keywords (pydantic's output) to litestar's Schema fields, and those whose values are schemas.
_SCHEMA_FIELDS = {
    field.metadata.get("alias") or re.sub(r"_(\w)", lambda m: m[1].upper(), field.name): field.name
    for field in dataclasses.fields(Schema)
}
_SUBSCHEMA = {"items", "additionalProperties", "propertyNames", "not", "contains", "if", "then", "else"}
_SUBSCHEMA_LISTS = {"anyOf", "oneOf", "allOf", "prefixItems"}
_SUBSCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas"}


def _convert(node: Mapping[str, Any], refs: Refs, *, top: bool = False) -> Schema | Reference:
    """A pydantic JSON schema as litestar's spec objects; `$ref`s to `$defs` become the document's components."""
    node = _keys_by_property_names(node)
    if "$ref" in node:
        target = refs(node["$ref"])
        rest = {key: value for key, value in node.items() if key != "$ref"}
        if not rest:
            return target
        node = {**rest, "allOf": [{"$ref": node["$ref"]}]}
    values: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs" or (key == "title" and not top):
            continue  # each definition is a component of its own; titles of properties are noise
        if key not in _SCHEMA_FIELDS:
            raise ValueError(f"the JSON schema keyword {key!r} has no OpenAPI equivalent in litestar")
        if key in _SUBSCHEMA and isinstance(value, Mapping):
            value = _convert(value, refs)
        elif key in _SUBSCHEMA_LISTS:
            value = [_convert(item, refs) for item in value]
        elif key in _SUBSCHEMA_MAPS:
            value = {name: _convert(item, refs) for name, item in value.items()}
        elif key == "type":
            value = [OpenAPIType(item) for item in value] if isinstance(value, list) else OpenAPIType(value)
        elif key == "discriminator":
            mapping = {tag: _reference_path(refs(ref)) for tag, ref in value.get("mapping", {}).items()}
            value = Discriminator(property_name=value["propertyName"], mapping=mapping or None)
        values[_SCHEMA_FIELDS[key]] = value
    return Schema(**values)


def _keys_by_property_names(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """pydantic describes `dict[Pattern, V]` with patternProperties, which leaves other keys unconstrained;
    the server refuses them, so say it exactly: any key matching the pattern, each value a V."""
    patterns = node.get("patternProperties")
    if not patterns or len(patterns) != 1 or "additionalProperties" in node or "propertyNames" in node:
        return node
    [(pattern, values)] = patterns.items()
    rest = {key: value for key, value in node.items() if key != "patternProperties"}
    return {**rest, "propertyNames": {"pattern": pattern}, "additionalProperties": values}


def _reference_path(target: Schema | Reference) -> str:
    if not isinstance(target, Reference):
        raise ValueError("a discriminated union's members must be components")
    return target.ref


def _named_types(annotations: Iterable[Any]) -> dict[str, Any]:
    """The models, enums and dataclasses an annotation reaches, by the names pydantic gives their `$defs`."""
    found: dict[str, Any] = {}
    pending = list(annotations)
    while pending:
        annotation = pending.pop()
        pending.extend(get_args(annotation))
        if not isinstance(annotation, type) or not (
            issubclass(annotation, BaseModel | Enum) or dataclasses.is_dataclass(annotation)
        ):
            continue
        name = re.sub(r"[^a-zA-Z0-9.\-_]", "_", annotation.__name__).replace(".", "__")
        if name in found:
            if found[name] is not annotation:
                raise ValueError(f"two types named {name} in one schema: {found[name]!r}, {annotation!r}; rename one")
            continue
        found[name] = annotation
        if issubclass(annotation, BaseModel):
            pending.extend(field.annotation for field in annotation.model_fields.values())
    return found


def _component_refs(annotations: Iterable[Any], schema_creator: Any) -> Refs:
    types = _named_types(annotations)

    def component(ref: str) -> Schema | Reference:
        name = ref.removeprefix("#/$defs/")
        if name not in types:
            raise ValueError(f"cannot tell which type pydantic's {ref!r} is")
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(types[name]))

    return component


def _is_pydantic_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


class PydanticModelSchemas(OpenAPISchemaPlugin):
    """Each pydantic (and SQLModel) class becomes a component with pydantic's own JSON schema of it."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return _is_pydantic_model(value)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        model: type[BaseModel] = field_definition.annotation
        # Registered before its fields are converted, so a model may refer to itself.
        schema = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        refs = _component_refs((field.annotation for field in model.model_fields.values()), schema_creator)
        converted = _convert(model.model_json_schema(mode="validation"), refs, top=True)
        assert isinstance(converted, Schema)
        for field in dataclasses.fields(converted):
            if (value := getattr(converted, field.name)) is not None:
                setattr(schema, field.name, value)
        return schema


def _refuse_unchecked_constraints(handler: HTTPRouteHandler) -> None:
    """litestar 2 checks a parameter's own constraints (`PathParameter(pattern=...)`, `QueryParameter(ge=...)`) but
    only some of pydantic's (a StringConstraints' pattern, a Field's bounds are ignored): such a parameter would
    take values its type, and so its document, refuse. Say so when the app is built, not when bad data is stored."""
    skipped = {"data", *handler.resolve_dependencies()}
    for name, field in handler.parsed_fn_signature.parameters.items():
        unchecked = [item for item in field.metadata if type(item).__module__.split(".")[0] == "pydantic"]
        if name not in skipped and unchecked:
            raise ImproperlyConfiguredException(
                f"{handler.handler_name}: parameter {name!r} has pydantic constraints litestar does not check "
                f"({unchecked}); declare them in its Parameter, e.g. PathParameter(pattern=...)"
            )


def _without_null(schema: Schema) -> Schema:
    """Drop the `null` litestar documents for an optional parameter `X | None`."""
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        kept = [kind for kind in schema.type if kind is not OpenAPIType.NULL]
        return dataclasses.replace(schema, type=kept[0] if len(kept) == 1 else kept)
    branches = schema.one_of or schema.any_of
    if not branches:
        return schema
    kept_branches = [b for b in branches if not (isinstance(b, Schema) and b.type == OpenAPIType.NULL)]
    outer = dataclasses.replace(schema, one_of=None, any_of=None)
    if len(kept_branches) == len(branches):
        return schema
    if len(kept_branches) > 1:
        return dataclasses.replace(outer, one_of=kept_branches)
    [branch] = kept_branches
    if isinstance(branch, Reference):
        return dataclasses.replace(outer, all_of=[branch])
    inner = {f.name: value for f in dataclasses.fields(branch) if (value := getattr(branch, f.name)) is not None}
    return dataclasses.replace(branch, **{**inner, **_set_fields(outer)})


def _set_fields(schema: Schema) -> dict[str, Any]:
    return {f.name: value for f in dataclasses.fields(schema) if (value := getattr(schema, f.name)) is not None}


def _is_text(schema: Schema | Reference) -> bool:
    """Any string, or a list of them: the text `null` is one of its values anyway (a uuid or a pattern is not)."""
    if isinstance(schema, Schema) and schema.type == OpenAPIType.ARRAY and schema.items is not None:
        schema = schema.items
    return (
        isinstance(schema, Schema)
        and schema.type == OpenAPIType.STRING
        and not (schema.format or schema.pattern or schema.enum or schema.const)
    )


def _null_is_noise(parameter: Parameter, schema: Schema) -> bool:
    """A header is absent, never null. A query parameter `?x=null` is read as None (so its `null` stays), except
    where `null` is text the parameter takes anyway."""
    if parameter.param_in == ParamType.HEADER:
        return True
    others = [branch for branch in schema.one_of or schema.any_of or [] if branch != Schema(type=OpenAPIType.NULL)]
    return parameter.param_in == ParamType.QUERY and bool(others) and all(_is_text(branch) for branch in others)


@dataclasses.dataclass
class ContractOperation(Operation):
    def __post_init__(self) -> None:
        for parameter in self.parameters or []:
            schema = parameter.schema if isinstance(parameter, Parameter) else None
            if isinstance(parameter, Parameter) and isinstance(schema, Schema) and _null_is_noise(parameter, schema):
                parameter.schema = _without_null(schema)


@dataclasses.dataclass
class PublicOperation(ContractOperation):
    """Overrides the document's global bearer requirement: anyone may call it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.security = []


def _needs_credentials(handler: HTTPRouteHandler) -> bool:
    authenticated = any(
        isinstance(middleware, DefineMiddleware)
        and isinstance(middleware.middleware, type)
        and issubclass(middleware.middleware, AbstractAuthenticationMiddleware)
        for middleware in handler.resolve_middleware()
    )
    return authenticated and not handler.opt.get(EXCLUDE_FROM_AUTH)


def problem_statuses(
    methods: Iterable[str], *, takes_input: bool, has_path_parameters: bool, public: bool
) -> list[int]:
    """The problem details an operation can answer (kit.errors maps each exception to one of these)."""
    statuses = []
    if takes_input:
        statuses.append(400)
    if not public:
        statuses += [401, 403]
    if has_path_parameters:
        statuses.append(404)
    if CHANGES.intersection(methods):
        statuses += [409, 422]
    if not public:
        statuses.append(429)  # unknown keys from one address are cut off (kit.ratelimit)
        statuses.append(503)  # every authenticated route reaches a database, and some a peer service
    return statuses


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """For a handler that answers a problem the rules above do not foresee, e.g. a 404 for an id in its body:
    `@post(..., responses=problem_responses(404))`."""
    return {
        status: ResponseSpec(
            data_container=InvalidRequest if status == 400 else ProblemDetails,
            media_type=PROBLEM_MEDIA_TYPE,
            description=PROBLEMS[status],
            generate_examples=False,
        )
        for status in statuses
    }


def _replay_response(handler: HTTPRouteHandler) -> ResponseSpec:
    returned = handler.parsed_fn_signature.return_type
    if returned.is_subclass_of(Response) and returned.inner_types:
        returned = returned.inner_types[0]
    return ResponseSpec(
        returned.annotation,
        description="The first answer to this Idempotency-Key, replayed (header Idempotent-Replayed: true).",
        generate_examples=False,
    )


class DocumentedProblems(ReceiveRoutePlugin):
    """As each route is registered, its operations get their problem answers, their security, and parameters
    without a `null` they cannot carry. Responses a handler declares itself take precedence."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            _refuse_unchecked_constraints(handler)
            if not handler.resolve_include_in_schema():
                continue
            _, kwargs = route.route_handler_map[next(iter(handler.http_methods))]
            headers = {parameter.field_alias.lower() for parameter in kwargs.expected_header_params}
            public = not _needs_credentials(handler)
            statuses = problem_statuses(
                handler.http_methods,
                takes_input=bool(
                    kwargs.expected_path_params
                    or kwargs.expected_query_params
                    or headers
                    or kwargs.expected_cookie_params
                    or {"data", "body"} & kwargs.expected_reserved_kwargs
                ),
                has_path_parameters=bool(route.path_parameters),
                public=public,
            )
            responses = problem_responses(*statuses)
            if IDEMPOTENCY_HEADER in headers and handler.status_code != 200:
                responses[200] = _replay_response(handler)  # kit.idempotency
            handler.responses = {**responses, **(handler.responses or {})}
            if handler.operation_class is Operation:
                handler.operation_class = PublicOperation if public else ContractOperation
