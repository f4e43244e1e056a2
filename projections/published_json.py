"""The JSON of a Referral event's published fields, as the relay writes it for every event.

``public_data`` (pydantic) validates a stored event's attributes into its published model and
pydantic writes that model's JSON. Here msgspec does both, into types derived at import from
those very models (``projections.event_data``): each field in the model's order, with its
type, default, bounds, pattern and the other name it is stored under. For a signal that took
3.9 against 10.1 µs. Nothing is declared twice; a model this derivation cannot follow (a
validator of its own, a type it does not know) keeps pydantic's path, and so does any event
msgspec refuses, so pydantic says what is wrong. The text is the same either way
(``tests/unit/test_published_json.py`` holds them equal for every kind of event and any value).
"""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from projections.event_data import DATA_MODELS, public_data

_PLAIN = (str, int, bool, date, datetime)  # msgspec reads and writes these as pydantic does


class _CannotDerive(Exception):
    """The model (or a type in it) has no msgspec form here: it keeps pydantic's path."""


class _Deriving:
    """msgspec Struct types made from pydantic models, each once."""

    def __init__(self) -> None:
        self.structs: dict[type[BaseModel], type[msgspec.Struct]] = {}
        self.timed: dict[type, tuple[str, ...]] = {}  # struct -> its fields that hold times

    def struct(self, model: type[BaseModel]) -> type[msgspec.Struct]:
        made = self.structs.get(model)
        if made is not None:
            return made
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.model_validators or decorators.validators:
            raise _CannotDerive(f"{model.__name__} validates in code")
        extra = model.model_config.get("extra")
        if extra not in ("ignore", "forbid", None):
            raise _CannotDerive(f"{model.__name__} keeps unknown fields")
        fields = [self._field(name, info) for name, info in model.model_fields.items()]
        _renames_of(model)  # _CannotDerive where a field is read under a name not followed
        made = msgspec.defstruct(
            model.__name__,
            fields,
            kw_only=True,  # the model's order, defaults or not
            frozen=True,
            forbid_unknown_fields=extra == "forbid",
        )
        self.structs[model] = made
        timed = tuple(n for n, info in model.model_fields.items() if self._holds_times(info))
        if timed:
            self.timed[made] = timed
        return made

    def _holds_times(self, info: FieldInfo) -> bool:
        """Whether a field's value may hold a datetime (itself or in a part)."""
        pending: list[Any] = [info.annotation]
        seen: set[int] = set()
        while pending:
            kind = pending.pop()
            nested = self.structs.get(kind) if isinstance(kind, type) else None
            if kind is datetime or (nested is not None and nested in self.timed):
                return True
            if id(kind) not in seen:
                seen.add(id(kind))
                pending.extend(get_args(kind))
        return False

    def _field(self, name: str, info: FieldInfo) -> tuple[str, Any, Any] | tuple[str, Any]:
        kind = self._type(info.annotation)
        meta = _meta(info.metadata)
        if meta is not None:
            kind = Annotated[kind, meta]
        if info.default_factory is not None:
            raise _CannotDerive(f"field {name} has a default factory")
        if info.is_required():
            return name, kind
        return name, kind, info.default

    def _type(self, annotation: Any) -> Any:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is None:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if _renames_of(annotation):  # renamed only at the top, as the events store
                    raise _CannotDerive(f"{annotation.__name__} reads fields by other names")
                return self.struct(annotation)
            if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
                return annotation
            if annotation in _PLAIN or annotation is None or annotation is type(None):
                return annotation
            raise _CannotDerive(f"type {annotation!r}")
        if origin is Literal:
            return annotation
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple[self._type(args[0]), ...]  # type: ignore[misc]
        if origin is dict and len(args) == 2:
            return dict[self._type(args[0]), self._type(args[1])]  # type: ignore[misc]
        if origin in (Union, types.UnionType):
            return Union[tuple(self._type(a) for a in args)]  # noqa: UP007 - built from parts
        if origin is Annotated:
            raise _CannotDerive(f"annotated type {annotation!r}")
        raise _CannotDerive(f"type {annotation!r}")


def _renames_of(model: type[BaseModel]) -> dict[str, str]:
    """Each other name a field of ``model`` is read under -> the field's own name."""
    return {o: n for n, info in model.model_fields.items() for o in _other_names(n, info)}


def _other_names(name: str, info: FieldInfo) -> list[str]:
    """The names a field is also read under (``validation_alias=AliasChoices(name, other)``)."""
    alias = info.validation_alias
    if alias is None and info.alias is None:
        return []
    if isinstance(alias, AliasChoices) and info.alias is None:
        choices = list(alias.choices)
        if choices and choices[0] == name and all(isinstance(c, str) for c in choices):
            return [str(c) for c in choices[1:]]
    raise _CannotDerive(f"field {name} is read under another name")


def _meta(metadata: list[Any]) -> msgspec.Meta | None:
    """The field's bounds as msgspec's ``Meta``; _CannotDerive for any other constraint."""
    bounds: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, annotated_types.MaxLen):
            bounds["max_length"] = item.max_length
        elif isinstance(item, annotated_types.MinLen):
            bounds["min_length"] = item.min_length
        elif isinstance(item, annotated_types.Ge):
            bounds["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            bounds["le"] = item.le
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) == {"pattern"}:
            bounds["pattern"] = _python_pattern(item.pattern)
        else:
            raise _CannotDerive(f"constraint {item!r}")
    return msgspec.Meta(**bounds) if bounds else None


def _python_pattern(pattern: str) -> str:
    """``^...$`` for Python's ``re`` as pydantic's regex reads it: there ``$`` is the end of the
    text, in ``re`` also the place before a final newline (``\\Z`` is the end)."""
    body = pattern.removeprefix("^").removesuffix("$")
    if f"^{body}$" != pattern or "$" in body or body.endswith("\\"):
        raise _CannotDerive(f"pattern {pattern!r}")
    return f"^{body}\\Z"


def _derived() -> tuple[_Deriving, dict[str, type[msgspec.Struct]]]:
    deriving = _Deriving()
    structs: dict[str, type[msgspec.Struct]] = {}
    for name, model in DATA_MODELS.items():
        try:
            structs[name] = deriving.struct(model)
        except _CannotDerive:
            continue
    return deriving, structs


_DERIVING, STRUCTS = _derived()  # STRUCTS: event name -> its published fields' msgspec type
_RENAMES = {name: _renames_of(DATA_MODELS[name]) for name in STRUCTS}
_TIMED = _DERIVING.timed
_encode = msgspec.json.Encoder().encode


def _whole_minute_offsets(value: Any) -> bool:
    """Whether every time in ``value`` is naive or a whole number of minutes from UTC: only
    then do msgspec and pydantic write it alike (an offset with seconds, which no clock of
    today gives, is left to pydantic)."""
    kind = type(value)
    if kind is datetime:
        offset = value.utcoffset()
        return offset is None or (offset.seconds % 60 == 0 and not offset.microseconds)
    timed = _TIMED.get(kind)
    if timed is not None:
        return all(_whole_minute_offsets(getattr(value, name)) for name in timed)
    if kind is tuple or kind is list:
        return all(_whole_minute_offsets(v) for v in value)
    if kind is dict:
        return all(_whole_minute_offsets(v) for v in value.values())
    return True


def published_json(name: str, attributes: Mapping[str, Any]) -> tuple[bytes, datetime]:
    """The JSON of ``public_data(name, attributes)`` as pydantic writes it, and the event's
    ``occurred_at``; pydantic's ValidationError (a ValueError) or InvalidEventError when the
    attributes do not fit the published form."""
    written = msgspec_json(name, attributes)
    if written is not None:
        return written
    model = public_data(name, attributes)
    return model.__pydantic_serializer__.to_json(model), model.occurred_at


def msgspec_json(name: str, attributes: Mapping[str, Any]) -> tuple[bytes, datetime] | None:
    """``published_json`` written by msgspec; None where pydantic's path has to write it or
    say what is wrong."""
    struct = STRUCTS.get(name)
    if struct is None:
        return None
    renames = _RENAMES[name]
    if renames:
        attributes = _renamed(attributes, renames)
    try:
        data: Any = msgspec.convert(attributes, struct, strict=False, from_attributes=True)
        if _whole_minute_offsets(data):
            return _encode(data), data.occurred_at
    except (msgspec.ValidationError, msgspec.EncodeError, UnicodeEncodeError):
        pass
    return None


def _renamed(attributes: Mapping[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """The attributes with each field stored under its other name given its own (the
    field's own name first, as pydantic's ``AliasChoices`` reads them)."""
    out = dict(attributes)
    for other, own in renames.items():
        if own not in out and other in out:
            out[own] = out[other]
    return out
