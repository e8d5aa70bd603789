"""Small helpers the views share for plain HTML forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, request
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from voting.domain.years import YEARS
from voting.models.base import MAX_INTEGER
from voting.services import transaction, uploads
from voting.services.errors import InvalidInput, ServiceError


def attempt(
    action: Callable[[], Any],
    success: str,
    target: str,
    again: Callable[[], str] | None = None,
    form: str = "",
) -> Response | tuple[str, int]:
    """Run a service call and go back to ``target``, showing its refusal there (never a 500).

    With ``again`` (a form that was typed in), a refusal renders the form again with what
    was submitted and the refusal, status 422, instead of going back: nothing typed is lost;
    a refusal that names its field is shown beside that field (``field_error("FORM.FIELD")``,
    ``form`` telling apart two forms on one page).
    """
    try:
        action()
    except ServiceError as error:
        transaction.roll_back()  # the refused call's transaction (and its locks) ends here
        if again is not None and error.field is not None:
            g.field_errors = {f"{form}.{error.field}": error.message}
            # Said at the top too: on a phone the field may be a few screens down.
            flash(_("未保存：请按下方标出的提示修改后重新提交"), "error")
            return again(), 422
        flash(error.message, "error")
        if again is not None:
            return again(), 422
    else:
        flash(success, "info")
    return redirect(target)


def typed(form: str) -> dict[str, dict[str, str]]:
    """What was typed in the refused form ``form`` (``attempt``'s ``form``), for the page to
    show again: ``typed.FORM.FIELD`` in the template, nothing for the page's other forms."""
    return {form: request.form.to_dict()}


def posted_files(field: str) -> list[tuple[str, bytes]]:
    """The files posted in the file input ``field``, as (name, content) pairs.

    An input left empty sends a part with neither name nor content: no file. A part with
    content but no name (a client may send ``filename=""``) is a file all the same, never
    dropped: ``uploads`` gives it a name by its type. (Not ``if upload``: a FileStorage
    without a name is false.) A named file with no content is kept, for the refusal."""
    found = []
    for upload in request.files.getlist(field):
        content = upload.read()
        if content or upload.filename:
            found.append((upload.filename or "", content))
    return found


def chosen_file(field: str, form: str) -> tuple[str, bytes]:
    """The file chosen now in the file input ``field`` (``posted_files``), else the one a
    refused try of ``form`` kept (``keep_file``); ("", b"") when neither."""
    posted = posted_files(field)
    if posted:
        return posted[0]
    name = request.form.get(f"held_{field}_name", "")
    kept = uploads.held(request.form.get(f"held_{field}", ""), name, form)
    return (name, kept) if kept else ("", b"")


def keep_file(field: str, filename: str, content: bytes, form: str) -> uploads.Held | None:
    """A refused form's file, kept for its next try (a browser cannot fill a file input in
    again; ``templates/_held_file.html`` carries it): ``form`` names the form and whose it is.
    A file that cannot be kept gets a word beside ``field`` (``FORM.FIELD``): choose it again."""
    if not content:
        return None
    # ``hold`` commits the file: whatever the refused request began must not go with it.
    transaction.roll_back()
    try:
        return uploads.hold(content, filename, form)
    except InvalidInput as refusal:
        g.field_errors = {
            **g.get("field_errors", {}),
            field: _("所选文件未保留（%(reason)s），请重新选择", reason=refusal.message),
        }
        return None


CONFIRM_FIELD = "confirm"


def field_error(name: str) -> Markup:
    """The refusal that concerns the field ``name`` (``FORM.FIELD``), to show beside it."""
    message = g.get("field_errors", {}).get(name)
    if message is None:
        return Markup("")
    return Markup('<p class="field-error" role="alert">{0}</p>').format(message)


def confirmed(action: Callable[[], Any]) -> Callable[[], Any]:
    """``action``, run only when the form's confirmation box (``confirm``) is ticked.

    Irreversible steps carry a required box that states the consequence; the browser will
    not submit without it, and this refuses a request that comes without it anyway.
    """

    def run() -> Any:
        if request.form.get(CONFIRM_FIELD) != "yes":
            raise InvalidInput(_("请先勾选确认框：该操作无法撤销，确认后才会执行"))
        return action()

    return run


def form_int(text: str | None, default: int = 0) -> int:
    """An integer field; ``default`` when empty or not a number. A number no database
    integer can hold (ids, counts, days) is refused with InvalidInput: it would overflow
    the query or the column. A superscript (``²``) is no number: it passes ``isdigit``
    but not ``int()``, and was refused as a number past the largest."""
    text = (text or "").strip()
    try:
        value = int(text)
    except ValueError:
        if not text.lstrip("+-").isdecimal():
            return default
        value = MAX_INTEGER + 1  # digits beyond what int() converts: far too large anyway
    if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        raise InvalidInput(_("填写的数字超出允许范围（最大 %(max)d）", max=MAX_INTEGER))
    return value


def local_datetime(text: str | None, field: str) -> datetime | None:
    """A ``datetime-local`` form value, read in the display time zone, as aware UTC.

    None when empty; a refusal beside ``field`` when it is not a day and a time (a date
    alone was read as midnight, an impossible one as empty) or its year is not one of
    ``YEARS`` (0001-01-01T00:00 in Beijing is before the first moment UTC holds).
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        naive = None
    if naive is None or naive.tzinfo is not None or len(text) < len("2026-03-17T09:00"):
        raise InvalidInput(_("时间格式应为 年-月-日 时:分，如 2026-03-17 09:00"), field)
    if naive.year not in YEARS:
        raise InvalidInput(_("时间须在 2000 年至 2099 年之间"), field)
    zone = ZoneInfo(current_app.config["SETTINGS"].display_timezone)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def local_input(moment: datetime | None) -> str:
    """The value a ``datetime-local`` input shows for a stored UTC time."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["SETTINGS"].display_timezone)
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def form_date(text: str | None, field: str | None = None) -> date | None:
    """A ``date`` form field: None when empty; a refusal beside ``field`` when it is not a
    day that exists (2026-02-30 was refused at the top of the page as a wrong format)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _("不是有效的日期：应为存在的一天，写作 年-月-日，如 2026-03-10"), field
        ) from None
