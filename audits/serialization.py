"""JSON for dataclasses: ``to_dict()`` gives plain JSON types (enums as values, datetimes
as ISO 8601), ``from_dict()`` rebuilds the typed objects from the type hints.

Used by the facts (stored as JSON on the AuditRun and printed by the CLI). Unions other
than ``X | None`` are deliberately unsupported: facts never need a discriminator.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from typing import Any, Self


class Serializable:
    """Mixin: ``to_dict()`` gives plain JSON types, ``from_dict()`` rebuilds the dataclass."""

    def to_dict(self) -> dict[str, Any]:
        # _dump of a dataclass is always a dict of its fields.
        return typing.cast(dict[str, Any], _dump(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        # _load of a dataclass type is always an instance of it.
        return typing.cast(Self, _load(cls, data))


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _load(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        # Only Optional[X] unions are used in facts, so the single member decides.
        return _load(members[0], data)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_load(item, v) for v in data]
    if origin is dict:
        _key, item = typing.get_args(tp)
        return {k: _load(item, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _HINTS.get(tp)
        if hints is None:
            hints = _HINTS[tp] = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp) if f.init}
        return tp(**{k: _load(hints[k], v) for k, v in data.items() if k in names})
    if tp is datetime:
        return data if isinstance(data, datetime) else datetime.fromisoformat(data)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is float and isinstance(data, int):
        return float(data)
    return data
