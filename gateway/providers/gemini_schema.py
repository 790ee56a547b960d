"""JSON Schema -> the OpenAPI 3.0 subset Gemini accepts for function parameters and
`responseSchema`.

Gemini rejects keywords outside its `Schema` object (`additionalProperties`, `$schema`, `$ref`,
`$defs`, `const`, `oneOf`, `allOf`...). Local `$ref`s are inlined, `const` becomes a one-value
`enum`, `["x", "null"]` types and `anyOf: [..., {"type": "null"}]` become `nullable`, `oneOf`
is read as `anyOf`, a single-entry `allOf` is merged, and anything else unsupported is dropped.
"""

from __future__ import annotations

from gateway.errors import BadRequestError

Schema = dict[str, object]  # a JSON schema object, read with checks

_KEPT = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
_MAX_DEPTH = 32


def gemini_schema(schema: object) -> Schema:
    if not isinstance(schema, dict):
        raise BadRequestError("a JSON schema must be an object", param="tools")
    definitions = {**_object(schema.get("definitions")), **_object(schema.get("$defs"))}
    return _convert(schema, definitions, 0)


def _object(value: object) -> Schema:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _convert(schema: Schema, definitions: Schema, depth: int) -> Schema:
    if depth > _MAX_DEPTH:
        raise BadRequestError("JSON schema nests too deeply (recursive $ref?)", param="tools")
    schema = _resolve(schema, definitions)
    schema = _merge_all_of(schema, definitions)
    out: Schema = {}
    kind = schema.get("type")
    if isinstance(kind, list):
        types = [t for t in kind if t != "null"]
        if len(types) < len(kind):
            out["nullable"] = True
        kind = types[0] if len(types) == 1 else None
        if len(types) > 1:
            out["anyOf"] = [{"type": t} for t in types]
    if isinstance(kind, str) and kind != "null":
        out["type"] = kind
    if "const" in schema:
        out["enum"] = [schema["const"]]
    variants = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(variants, list):
        kept = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
        if len(kept) < len(variants):
            out["nullable"] = True
        converted = [_convert(v, definitions, depth + 1) for v in kept if isinstance(v, dict)]
        if len(converted) == 1:
            out.update({k: v for k, v in converted[0].items() if k not in out})
        elif converted:
            out["anyOf"] = converted
    for key, value in schema.items():
        if key not in _KEPT or key in ("type", "anyOf") or key in out:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: _convert(sub, definitions, depth + 1)
                for name, sub in value.items()
                if isinstance(sub, dict)
            }
        elif key == "items" and isinstance(value, dict):
            out[key] = _convert(value, definitions, depth + 1)
        elif key == "enum" and isinstance(value, list):
            out[key] = [str(v) for v in value if v is not None]
        else:
            out[key] = value
    if out.get("type") == "object" and not out.get("properties"):
        out.pop("required", None)
    return out


def _resolve(schema: Schema, definitions: Schema) -> Schema:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    name = ref.rsplit("/", 1)[-1]
    target = definitions.get(name)
    if not ref.startswith("#/") or not isinstance(target, dict):
        raise BadRequestError(f"cannot resolve JSON schema $ref {ref!r}", param="tools")
    merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return _resolve(merged, definitions) if "$ref" in target else merged


def _merge_all_of(schema: Schema, definitions: Schema) -> Schema:
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        if isinstance(part, dict):
            part = _resolve(part, definitions)
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    merged["properties"] = {**_object(merged.get("properties")), **value}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = [*_list(merged.get("required")), *value]
                else:
                    merged.setdefault(key, value)
    return merged
