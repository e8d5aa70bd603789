"""Control characters are refused in all text a client sends, in one place.

A NUL in a username, a search or a file name reached PostgreSQL, which refuses it in
text (a 500 at 18 endpoints); the other control characters are never meant either.
Tab, line feed and carriage return are text (a motion's paragraphs); every other C0
control, DEL and the C1 controls are not, nor is half of a UTF-16 surrogate pair (only a
JSON escape, ``"\\ud800"``, makes one: it cannot be encoded, so it failed wherever the
text was stored or answered, a 500 at every endpoint it reached). Pages and the API
refuse them alike, naming the field: ``refuse_in_request`` runs before every page's view
(form fields, query string, path and upload file names, a file name said as 所选文件的文件名,
not by its form field), ``voting.web.jsonbody`` applies
``refuse`` to a JSON body, keys included, and the OpenAPI document gives every request
string the ``TEXT_PATTERN`` so that a client (or a fuzzer) knows beforehand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict

from voting.domain.invisible import INVISIBLE, without_invisible
from voting.services.errors import InvalidInput

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as a JSON Schema pattern: Python's, and ECMA-262's with the unicode flag (as
# validators such as ajv use by default); without it, [^\ud800-\udfff] would refuse every
# character beyond the BMP (𠮷 in a name, an emoji), each being two code units there.
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff]*$"

# A field of only zero-width characters passed every "fill this in" check (a district, a
# building, a meeting's title, a credit record's description) and was saved blank, and "2栋"
# with one after it became a building of its own.
_EDGES = re.compile(f"^[\\s{INVISIBLE}]+|[\\s{INVISIBLE}]+$")


class ControlCharacter(InvalidInput):
    code = "control_character"


def control_field(value: Any, where: str = "") -> str | None:
    """The name of the first field of ``value`` (a string, or lists and objects of them)
    holding a control character, or None; ``where`` names ``value`` itself."""
    if isinstance(value, str):
        return where if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and CONTROL.search(key):
                return name
            found = control_field(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = control_field(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def message(field: str) -> str:
    # The field's name is the client's own text: shown without its control characters.
    shown = CONTROL.sub("?", field)[:60] or _("请求")
    return _(
        "%(field)s 含有控制字符（如 NUL、退格或转义符），这些字符不能作为文字提交：请删除后重试",
        field=shown,
    )


def refuse(value: Any, where: str = "") -> None:
    """Raise ControlCharacter when ``value`` holds a control character anywhere."""
    found = control_field(value, where)
    if found is not None:
        raise ControlCharacter(message(found))


def raw_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that reads its body as bytes whatever its content type (a witness's signed
    note): nothing here parses it as a form, which would leave the view an empty body."""
    view.reads_raw_body = True  # type: ignore[attr-defined]
    return view


def _reads_raw_body() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "reads_raw_body", False)


def refuse_in_request() -> None:
    """Every page's form fields, query string, path and upload file names (the JSON API's
    bodies are checked where they are read, by ``jsonbody``; a ``raw_body`` view's, by it)."""
    if request.path.startswith("/api/"):
        return
    refuse(dict(request.view_args or {}), "")
    if _reads_raw_body():
        refuse(dict(request.args.items(multi=True)))
        return
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            refuse({key: value})
    for _field, upload in request.files.items(multi=True):
        # Named for the person, not by the form's field (``file``, ``evidence``): its file name.
        refuse(upload.filename or "", _("所选文件的文件名"))


# A browser sends every line break of a textarea as CR LF but counts it as one character
# against the field's ``maxlength``: a reply of 2,000 characters with a few paragraphs, which
# the page let through, was refused as longer than 2,000 (the server counted two for each).
_LINE_BREAK = re.compile("\r\n?")


def tidy_fields() -> None:
    """Every page's form field as the person typed it: ``INVISIBLE`` characters at either
    end dropped, spaces kept (a field of only these is then empty and refused beside the
    form with what else was typed, like one of spaces; inside a value they stay, where a
    joiner holds an emoji together), and each line break one ``\\n``, as the browser
    counted it. A password is kept as it was typed."""
    if request.path.startswith("/api/") or _reads_raw_body() or not request.form:
        return
    request.form = ImmutableMultiDict(
        [
            (key, value if key == "password" else _tidy(value))
            for key, value in request.form.items(multi=True)
        ]
    )


def _tidy(value: str) -> str:
    return _LINE_BREAK.sub("\n", _EDGES.sub(_trimmed, value))


def _trimmed(edge: re.Match[str]) -> str:
    return without_invisible(edge.group())
