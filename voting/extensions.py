"""Extensions, created unbound and attached in ``create_app`` (habit 1)."""

from flask import has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from voting.models.base import Base

LANGUAGES = ("zh", "en")

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str:
    """The language the visitor chose (cookie), else the browser's, else Chinese.

    Outside a request (CLI, jobs) messages are in Chinese. The JSON API reads no
    cookie: there only Accept-Language counts.
    """
    if not has_request_context():
        return "zh"
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES) or "zh"
    chosen = request.cookies.get("lang") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "zh"


babel = Babel()
