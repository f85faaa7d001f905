"""A deterministic instance of a JSON schema: the arguments of a tool call, a json_schema answer.

Covers what tool and response schemas use: ``type`` (also lists), ``properties`` / ``required``,
``items`` / ``minItems`` / ``maxItems``, ``enum`` / ``const`` / ``default``, ``anyOf`` / ``oneOf``
/ ``allOf``, ``$ref`` into ``$defs`` / ``definitions``, string ``format`` and length bounds,
numeric bounds. The same schema always gives the same value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["instance_of"]

_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
}
_MAX_DEPTH = 12


_NAMES = re.compile(r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_NUMBERS = re.compile(r"-?\d+(?:\.\d+)?")


class _Hints:
    """Values taken from the user's words, in order: names for strings, numbers for numbers.

    "Ada Lovelace was 36." fills ``{"name": str, "age": int}`` with ``"Ada Lovelace"`` and 36;
    "What is the weather in Oslo?" gives a ``city`` of ``"Oslo"`` (a lone capital at the start
    of the text is just the sentence's first word). With no names, the whole text is the hint.
    """

    def __init__(self, text: str) -> None:
        text = text.strip()
        names = [m for m in _NAMES.finditer(text) if not (m.start() == 0 and " " not in m[0])]
        self.strings = [m[0] for m in names] or ([text] if text else [])
        self.numbers = [float(n) for n in _NUMBERS.findall(text)]

    def string(self) -> str | None:
        return self.strings.pop(0) if self.strings else None

    def number(self, low: float | None, high: float | None, integer: bool) -> float | None:
        for i, value in enumerate(self.numbers):
            fits = (low is None or value >= low) and (high is None or value <= high)
            if fits and (not integer or value.is_integer()):
                return self.numbers.pop(i)
        return None


def instance_of(schema: Mapping[str, Any], hint: str = "") -> Any:
    """A value valid for ``schema``; ``hint`` (e.g. the user's words) seeds the values."""
    return _value(schema, schema, _Hints(hint), "value", 0)


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise ValueError(f"unresolvable $ref {ref!r}")
        node = node[part]
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref {ref!r} is not a schema")
    return node


def _value(schema: Any, root: Mapping[str, Any], hint: _Hints, name: str, depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return None if depth > _MAX_DEPTH else hint.string() or "value"
    if "$ref" in schema:
        return _value(_resolve(schema["$ref"], root), root, hint, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options:
            chosen = next((o for o in options if _type_of(o, root) != "null"), options[0])
            return _value(chosen, root, hint, name, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part["$ref"], root) if "$ref" in part else part
            for k, v in part.items():
                if k in ("properties",) and k in merged:
                    merged[k] = {**merged[k], **v}
                elif k == "required" and k in merged:
                    merged[k] = [*merged[k], *v]
                else:
                    merged[k] = v
        return _value(merged, root, hint, name, depth + 1)
    kind = _type_of(schema, root)
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _value(sub, root, hint, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items = schema.get("items", {})
        return [_value(items, root, hint, name, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, hint, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, hint, name.replace("_", " "))


def _type_of(schema: Any, root: Mapping[str, Any]) -> str:
    if not isinstance(schema, Mapping):
        return "string"
    if "$ref" in schema:
        try:
            return _type_of(_resolve(schema["$ref"], root), root)
        except ValueError:
            return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _number(schema: Mapping[str, Any], hint: _Hints, *, integer: bool) -> float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - (1 if integer else 0.5)
    value = hint.number(low, high, integer)
    if value is None:
        value = (1 if integer else 1.5) if low is None else low
        if high is not None and value > high:
            value = high
    return int(value) if integer else value


def _string(schema: Mapping[str, Any], hint: _Hints, name: str) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    text = hint.string() or name
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[: int(high)]
    return text
