"""One place that turns refusals and failures into answers: an error page, or under
``/api/`` the API's JSON (``{"error": code, "message": …}``), for every blueprint; the log's
machine endpoints answer in their own format (text, or JSON for the proofs).

Each error becomes a ``Refusal`` (status, code, message, headers) in ``refusal_for``; only
the last step, ``answer``, differs between pages and the API. The request's transaction is
ended first (its locks released). No stack trace ever reaches a user: unexpected errors are
logged and answered with a plain 500 (a database connection lost mid-request, in the API:
503, to be sent again).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from voting.services import transaction
from voting.services.errors import InvalidChoices, ServiceError
from voting.web import choice_problems
from voting.web.openapi import PREFIX

API = PREFIX + "/"


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def _titles() -> dict[int, str]:
    return {
        400: _("请求有误"),
        403: _("没有权限"),
        404: _("页面不存在"),
        405: _("不支持该操作"),
        409: _("操作冲突"),
        413: _("文件太大"),
        422: _("无法处理"),
        429: _("操作太频繁"),
        500: _("服务器出错了"),
    }


def _explanations() -> dict[int, str]:
    return {
        400: _("提交的内容无法处理，请返回检查后重试。"),
        403: _("您没有查看或操作此页面的权限。"),
        404: _("找不到您要的页面，或您无权查看。"),
        405: _("该页面不支持这种操作。"),
        409: _("该操作与当前状态冲突，请刷新后重试。"),
        422: _("提交的内容格式正确，但未通过核对。"),
        429: _("请稍后再试。"),
        500: _("我们已记录该问题，请稍后再试。"),
    }


def _too_large() -> str:
    """The page's limit, said: one file's (MAX_UPLOAD_MB), or a form's of several photos."""
    limit = request.max_content_length or current_app.config["SETTINGS"].max_upload_bytes
    return _(
        "上传的内容超过了 %(mb)d MB 的上限：请缩小文件（如压缩 PDF、调低照片分辨率）后重试。",
        mb=limit // (1024 * 1024),
    )


def _api_words(status: int) -> tuple[str, str]:
    """The API's code and message for a refusal that is only a status."""
    known = {
        400: ("bad_request", _("请求有误")),
        404: ("not_found", _("找不到该资源")),
        405: ("method_not_allowed", _("该接口不支持这种请求方法")),
        413: ("too_large", _("请求体过大（上限 64 KiB）")),
        429: ("rate_limited", _("操作太频繁，请稍后再试")),
        500: ("server_error", _("服务器出错了")),
    }
    return known.get(status, (str(status), _("出错了")))


def _is_api() -> bool:
    return request.path.startswith(API)


# The log's machine endpoints (spec checkpoints-v1 §5): a witness's script reads their
# refusals (a 429, a 404, a control character in the query), so they are in the endpoint's
# own format, as web.log answers its own: plain text, or JSON for the proofs.
# By path, not endpoint: a wrong method (405) matches no endpoint.
_LOG_MACHINE = re.compile(
    r"/log/[^/]+/(checkpoint|key|cosignature|proof/inclusion|proof/consistency)"
)


def _log_format() -> str | None:
    """``json``, ``text``, or None when the request is not for one of those endpoints."""
    match = _LOG_MACHINE.fullmatch(request.path)
    if match is None:
        return None
    return "json" if match[1].startswith("proof/") else "text"


def refusal_for(error: BaseException) -> Refusal:
    """What to answer for ``error``, in the words of the page or of the API."""
    api = _is_api()
    if isinstance(error, InvalidChoices):  # the domain's codes, said one by one
        return Refusal(error.status, error.code, choice_problems.summary(error.problems))
    if isinstance(error, ServiceError):
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Refusal(error.status, error.code, error.message, headers)
    if isinstance(error, CSRFError):
        return Refusal(400, "csrf", _("页面已过期或来源不明，请返回刷新页面后再提交。"))
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        status = error.code or 500
        headers = {}
        if error.response is not None and "Retry-After" in error.response.headers:
            headers["Retry-After"] = error.response.headers["Retry-After"]
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if api:
            return Refusal(status, *_api_words(status), headers)
        if status == 413:
            return Refusal(status, str(status), _too_large(), headers)
        return Refusal(status, str(status), _explanations().get(status, _("出错了")), headers)
    if api and (
        isinstance(error, OperationalError)
        or (isinstance(error, DBAPIError) and error.connection_invalidated)
    ):
        message = _("暂时无法完成，请稍后重试（投票请使用同一 Idempotency-Key，不会重复计票）")
        return Refusal(503, "unavailable", message, {"Retry-After": "1"})
    if api:
        return Refusal(500, *_api_words(500))
    return Refusal(500, "server_error", _explanations()[500])


def answer(refusal: Refusal) -> ResponseReturnValue:
    """The refusal as the API's JSON under /api/, else as an error page."""
    headers = dict(refusal.headers)
    if _is_api():
        if refusal.status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        body = {"error": refusal.code, "message": refusal.message}
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            status=refusal.status,
            mimetype="application/json",
            headers=headers,
        )
    log_format = _log_format()
    if log_format == "json":
        body = {"error": refusal.code, "message": refusal.message}
        return Response(
            json.dumps(body, ensure_ascii=False), refusal.status, headers, "application/json"
        )
    if log_format == "text":
        text = refusal.message + "\n"
        return Response(text, refusal.status, headers, content_type="text/plain; charset=utf-8")
    title = _titles().get(refusal.status, _("出错了"))
    page = render_template(
        "errors.html", status=refusal.status, title=title, message=refusal.message
    )
    return page, refusal.status, headers


def _end_transaction() -> None:
    """Roll back whatever the request left open, on a connection that may be dead: an error
    here must not replace the answer."""
    try:
        transaction.roll_back()
    except Exception:
        current_app.logger.warning("rollback failed on %s %s", request.method, request.path)


def _handle(error: Exception) -> ResponseReturnValue:
    _end_transaction()
    refusal = refusal_for(error)
    if refusal.code == "unavailable":
        current_app.logger.warning("database unavailable on %s %s", request.method, request.path)
    elif refusal.status >= 500:
        current_app.logger.error("error on %s %s", request.method, request.path, exc_info=error)
    return answer(refusal)


def register(app: Flask) -> None:
    for kind in (ServiceError, CSRFError, HTTPException, Exception):
        app.register_error_handler(kind, _handle)
