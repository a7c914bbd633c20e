"""ask-sdk's DefaultSerializer, with its type walking compiled once per type.

DefaultSerializer re-parses type strings, re-imports each model class and parses timestamps with
dateutil on every request; on a voice turn that was the largest cost after the skill itself.
This subclass builds one small function per type the first time it is seen and reuses it, with
the same results (tests/test_serializer.py checks them against DefaultSerializer's). Anything it
does not recognise goes to DefaultSerializer's own code.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer

Parse = Callable[[Any], Any]

_LIST = re.compile(r"^list\[([^,]*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")


class Plain(dict[str, Any]):
    """JSON data that goes into a response as it is (an APL document and its datasources):
    serialising it returns it, instead of walking its thousand values as a model's."""


class PlannedSerializer(DefaultSerializer):
    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def serialize(self, obj: Any) -> Any:
        """As DefaultSerializer.serialize, with each model class's fields listed once."""
        if obj is None or isinstance(obj, self.PRIMITIVE_TYPES) or type(obj) is Plain:
            return obj
        if isinstance(obj, list):
            return [self.serialize(item) for item in obj]
        if isinstance(obj, dict):
            return {key: self.serialize(value) for key, value in obj.items()}
        if hasattr(obj, "deserialized_types") and not isinstance(obj, Enum):
            out = {}
            for attr, key in self._fields_of(type(obj)):
                value = getattr(obj, attr)
                if value is not None:
                    out[key] = self.serialize(value)
            return out
        return super().serialize(obj)

    def _fields_of(self, cls: type[Any]) -> list[tuple[str, str]]:
        plan_key = ("fields", cls)
        found = self._plans.get(plan_key)
        if found is None:
            attribute_map = getattr(cls, "attribute_map", {})
            found = [(attr, attribute_map.get(attr, attr)) for attr in cls.deserialized_types]
            with self._lock:
                self._plans[plan_key] = found
        return found

    def deserialize(self, payload: str | bytes | None, obj_type: Any) -> Any:
        if payload is None:
            return None
        try:
            data = json.loads(payload)
        except ValueError:
            raise SerializationException(f"Couldn't parse response body: {payload!r}") from None
        return self.from_data(data, obj_type)

    def from_data(self, data: Any, obj_type: Any) -> Any:
        """Deserialise already-parsed JSON into ``obj_type``."""
        try:
            return self._plan(obj_type)(data)
        except SerializationException:
            raise
        except Exception as exc:  # the models raise bare errors on bad shapes
            raise SerializationException(str(exc)) from exc

    # ------------------------------------------------------------------ plans

    def _plan(self, obj_type: Any) -> Parse:
        plan = self._plans.get(obj_type)
        if plan is None:
            plan = self._compile(obj_type)
            with self._lock:
                self._plans[obj_type] = plan
        return plan

    def _compile(self, obj_type: Any) -> Parse:
        if isinstance(obj_type, str):
            return self._compile_name(obj_type)
        if obj_type in self.PRIMITIVE_TYPES:
            return _primitive(obj_type)
        if obj_type is object:
            return _identity
        if obj_type is datetime or obj_type is date:
            return _timestamp(obj_type)
        if isinstance(obj_type, type) and issubclass(obj_type, Enum):
            return lambda payload: None if payload is None else obj_type(payload)
        if hasattr(obj_type, "deserialized_types"):
            return self._compile_model(obj_type)
        return _identity

    def _compile_name(self, name: str) -> Parse:
        if name.startswith("list["):
            match = _LIST.match(name)
            if match is None:  # lists of mixed types: rare, leave to the SDK
                # DefaultSerializer's private __deserialize; mypy does not mangle private names.
                return lambda payload: self._DefaultSerializer__deserialize(payload, name)  # type: ignore[attr-defined]
            item_type = match.group(1).strip()

            def parse_list(payload: Any) -> Any:
                if payload is None:
                    return None
                item = self._plan(item_type)
                return [item(value) for value in payload]

            return parse_list
        if name.startswith("dict("):
            match = _DICT.match(name)
            if match is None:
                return lambda payload: None if payload is None else {}
            value_type = match.group(2)

            def parse_dict(payload: Any) -> Any:
                if payload is None:
                    return None
                value = self._plan(value_type)
                return {key: value(item) for key, item in payload.items()}

            return parse_dict
        if name in self.NATIVE_TYPES_MAPPING:
            return self._plan(self.NATIVE_TYPES_MAPPING[name])
        return self._plan(self._class(name))

    def _compile_model(self, cls: Any) -> Parse:
        attribute_map = dict(getattr(cls, "attribute_map", {}))
        for key in cls.deserialized_types:
            attribute_map.setdefault(key, key)
        fields = [
            (attr, key, cls.deserialized_types[attr])
            for attr, key in attribute_map.items()
            if attr in cls.deserialized_types
        ]
        known = set(attribute_map.values())

        def parse_fields(payload: Any) -> Any:
            if payload is None:
                return None
            model = cls()
            for attr, key, type_name in fields:
                if key in payload:
                    setattr(model, attr, self._plan(type_name)(payload[key]))
            for key in payload:
                if key not in known:
                    setattr(model, key, payload[key])
            return model

        if not hasattr(cls, "get_real_child_model"):
            return parse_fields

        def parse_discriminated(payload: Any) -> Any:
            if payload is None:
                return None
            name = cls.get_real_child_model(payload)
            if not name:
                raise SerializationException(
                    f"Couldn't resolve object by discriminator type for {cls} class"
                )
            child = self._class(name)
            return parse_fields(payload) if child is cls else self._plan(child)(payload)

        return parse_discriminated

    def _class(self, name: str) -> Any:
        plan_key = ("class", name)
        found = self._plans.get(plan_key)
        if found is None:
            # DefaultSerializer's private __load_class_from_name (mypy does not mangle names).
            found = self._DefaultSerializer__load_class_from_name(name)  # type: ignore[attr-defined]
            with self._lock:
                self._plans[plan_key] = found
        return found


def _identity(payload: Any) -> Any:
    return payload


def _primitive(kind: type) -> Parse:
    def parse(payload: Any) -> Any:
        if payload is None:
            return None
        try:
            return kind(payload)
        except TypeError:
            return payload
        except ValueError:
            raise SerializationException(
                f"Failed to parse {payload} into '{kind.__name__}' object"
            ) from None

    return parse


def _timestamp(kind: type) -> Parse:
    def parse(payload: Any) -> Any:
        if payload is None:
            return None
        try:
            value = datetime.fromisoformat(payload)  # Alexa's form; 20x faster than dateutil
        except (TypeError, ValueError):
            from dateutil.parser import parse as parse_any  # only for unusual forms

            try:
                value = parse_any(payload)
            except (TypeError, ValueError, OverflowError):
                raise SerializationException(
                    f"Failed to parse {payload} into '{kind.__name__}' object"
                ) from None
        return value.date() if kind is date else value

    return parse
