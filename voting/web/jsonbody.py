"""Reading a JSON request body and checking it against its schema in the OpenAPI document.

The API's request schemas use a small part of JSON Schema 2020-12; this module
implements exactly that part (and refuses to run on a schema using more, so a
constraint the document states is never silently skipped). It exists, rather
than calling ``jsonschema``, to say what is wrong in the client's language;
the tests check it agrees with ``jsonschema`` on every body they send.

Every problem is a 400 (413 too large, 415 not JSON) with a clear message: never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request
from flask_babel import gettext as _

from voting.services.errors import InvalidInput, ServiceError
from voting.web import text_input
from voting.web.openapi import MAX_BODY_BYTES, resolve

ANNOTATIONS = frozenset({"description", "examples", "default", "title"})
SUPPORTED = ANNOTATIONS | {
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "enum",
    "const",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
}


class MalformedJson(InvalidInput):
    code = "malformed_json"


class InvalidBody(InvalidInput):
    code = "invalid_body"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class BodyTooLarge(ServiceError):
    status = 413
    code = "too_large"


def read(request: Request, schema: dict[str, Any], *, required: bool = True) -> Any:
    """The request's JSON body, checked against ``schema``; raises a ServiceError."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge(_("请求体过大（上限 64 KiB）"))
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(_("请求体过大（上限 64 KiB）"))
    if not raw:
        if required:
            raise InvalidBody(_("缺少请求体：请提交一个 JSON 对象"))
        return check({}, schema)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(_("请求体须为 JSON，并带有 Content-Type: application/json"))
    # JSON between systems is UTF-8 (RFC 8259 §8.1): a body said to be in another charset is
    # refused, not read as UTF-8 and its names and addresses garbled without a word.
    if request.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(_("请求体须为 UTF-8 编码的 JSON"))
    value = parse(raw)
    found = text_input.control_field(value)
    if found is not None:
        raise InvalidBody(text_input.message(found))
    return check(value, schema)


def parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedJson(_("请求体须为 UTF-8 编码的 JSON")) from error
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate as error:
        raise MalformedJson(
            _("请求体中的字段 %(field)s 出现了不止一次", field=str(error))
        ) from error
    except json.JSONDecodeError as error:
        raise MalformedJson(
            _(
                "请求体不是有效的 JSON（第 %(line)d 行第 %(column)d 列）",
                line=error.lineno,
                column=error.colno,
            )
        ) from error
    except (ValueError, RecursionError) as error:  # e.g. NaN, absurdly deep nesting
        raise MalformedJson(_("请求体不是有效的 JSON")) from error


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def unsupported(schema: Any) -> set[str]:
    """Keywords in ``schema`` (and what it contains or refers to) this module does not check."""
    schema = resolve(schema)
    found = set(schema) - SUPPORTED
    for key in ("properties",):
        for sub in schema.get(key, {}).values():
            found |= unsupported(sub)
    for key in ("items", "propertyNames"):
        if isinstance(schema.get(key), dict):
            found |= unsupported(schema[key])
    if isinstance(schema.get("additionalProperties"), dict):
        found |= unsupported(schema["additionalProperties"])
    for sub in schema.get("anyOf", []):
        found |= unsupported(sub)
    return found


# --- checking ----------------------------------------------------------------------------


def _type_names() -> dict[str, str]:
    return {
        "object": _("JSON 对象"),
        "array": _("数组"),
        "string": _("字符串"),
        "integer": _("整数"),
        "boolean": _("布尔值（true 或 false）"),
        "null": "null",
    }


def _name(where: str) -> str:
    return where or _("请求体")


def check(value: Any, schema: dict[str, Any], where: str = "") -> Any:
    """``value`` if it fits ``schema`` (integral numbers as ints), else raise InvalidBody."""
    schema = resolve(schema)
    extra = set(schema) - SUPPORTED
    if extra:
        raise RuntimeError(f"the body checker does not implement {sorted(extra)}")
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            if not _may_be(value, resolve(option).get("type")):
                continue  # its type rules the value out: no refusal to build and drop
            try:
                value = check(value, option, where)
            except InvalidBody:
                continue
            break
        else:
            raise InvalidBody(_("%(field)s 的内容无效", field=_name(where)))
    if "type" in schema:
        value = _typed(value, schema["type"], where)
    if "const" in schema and not _same(value, schema["const"]):
        raise InvalidBody(_("%(field)s 的取值无效", field=_name(where)))
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        raise InvalidBody(
            _(
                "%(field)s 的取值无效，可选：%(choices)s",
                field=_name(where),
                choices=", ".join(json.dumps(o, ensure_ascii=False) for o in schema["enum"]),
            )
        )
    if isinstance(value, str):
        _check_string(value, schema, where)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_number(value, schema, where)
    elif isinstance(value, list):
        value = _check_array(value, schema, where)
    elif isinstance(value, dict):
        value = _check_object(value, schema, where)
    return value


def _same(value: Any, expected: Any) -> bool:
    return type(value) is type(expected) and value == expected


_KINDS = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    type(None): "null",
}


def _may_be(value: Any, allowed: str | list[str] | None) -> bool:
    """Whether ``value`` is of a type ``allowed`` names (any, if None), as ``_typed`` has it."""
    if allowed is None:
        return True
    kinds = [allowed] if isinstance(allowed, str) else allowed
    if isinstance(value, float) and value.is_integer() and "integer" in kinds:
        return True
    return _KINDS.get(type(value), "number") in kinds


def _typed(value: Any, allowed: str | list[str], where: str) -> Any:
    kinds = [allowed] if isinstance(allowed, str) else allowed
    if isinstance(value, float) and value.is_integer() and "integer" in kinds:
        return int(value)  # JSON Schema: 3.0 is an integer
    if _KINDS.get(type(value), "number") not in kinds:
        names = _type_names()
        expected = _(" 或 ").join(names[kind] for kind in kinds)
        if not where:
            raise InvalidBody(_("请求体应为 %(type)s", type=expected))
        raise InvalidBody(_("%(field)s 应为%(type)s", field=where, type=expected))
    return value


def _check_string(value: str, schema: dict[str, Any], where: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise InvalidBody(_("%(field)s 不能为空", field=_name(where)))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise InvalidBody(
            _("%(field)s 不能超过 %(n)d 个字符", field=_name(where), n=schema["maxLength"])
        )
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        raise InvalidBody(_("%(field)s 的格式不正确", field=_name(where)))


def _check_number(value: int, schema: dict[str, Any], where: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidBody(_("%(field)s 超出允许的范围", field=_name(where)))


def _check_array(value: list[Any], schema: dict[str, Any], where: str) -> list[Any]:
    if len(value) < schema.get("minItems", 0):
        raise InvalidBody(
            _("%(field)s 至少要有 %(n)d 项", field=_name(where), n=schema["minItems"])
        )
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise InvalidBody(_("%(field)s 最多 %(n)d 项", field=_name(where), n=schema["maxItems"]))
    if "items" in schema:
        return [check(item, schema["items"], f"{where}[{n}]") for n, item in enumerate(value)]
    return value


def _check_object(value: dict[str, Any], schema: dict[str, Any], where: str) -> dict[str, Any]:
    prefix = f"{where}." if where else ""
    for key in schema.get("required", []):
        if key not in value:
            raise InvalidBody(_("缺少字段 %(field)s", field=prefix + key))
    if len(value) < schema.get("minProperties", 0):
        raise InvalidBody(
            _("%(field)s 至少要有 %(n)d 项", field=_name(where), n=schema["minProperties"])
        )
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        if schema["maxProperties"] == 0 and not where:
            raise InvalidBody(_("请求体应为空"))
        raise InvalidBody(
            _("%(field)s 最多 %(n)d 项", field=_name(where), n=schema["maxProperties"])
        )
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    checked = {}
    for key, item in value.items():
        if "propertyNames" in schema:
            check(key, schema["propertyNames"], prefix + key)
        if key in properties:
            checked[key] = check(item, properties[key], prefix + key)
        elif extra is False:
            raise InvalidBody(_("未知字段 %(field)s", field=prefix + key))
        elif isinstance(extra, dict):
            checked[key] = check(item, extra, prefix + key)
        else:
            checked[key] = item
    return checked
