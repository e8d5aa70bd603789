"""One place that turns refusals and failures into pages (or JSON under /api/).

No stack trace ever reaches a user: unexpected errors are logged and answered
with a plain 500 page.
"""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from voting.services import transaction
from voting.services.errors import ServiceError


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
        413: _("上传的文件超过了大小上限。"),
        422: _("提交的内容格式正确，但未通过核对。"),
        429: _("请稍后再试。"),
        500: _("我们已记录该问题，请稍后再试。"),
    }


def respond(
    status: int, message: str | None = None, code: str | None = None
) -> ResponseReturnValue:
    title = _titles().get(status, _("出错了"))
    message = message or _explanations().get(status, title)
    if request.path.startswith("/api/"):
        body = {"error": code or str(status), "message": message}
        return jsonify(body), status
    return render_template("errors.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> ResponseReturnValue:
        transaction.roll_back()
        return respond(error.status, error.message, error.code)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        return respond(400, _("页面已过期或来源不明，请返回刷新页面后再提交。"), "csrf")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, InternalServerError):
            return _internal_error(error)
        if request.path.startswith("/api/"):
            # Raised while routing, before the API's blueprint could answer in its words.
            from voting.web.api import http_error

            return http_error(error)
        response = make_response(respond(error.code or 500))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _internal_error(error: Exception) -> ResponseReturnValue:
        transaction.roll_back()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return respond(500)
