"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``."""

from voting import serve_app

app = serve_app()
