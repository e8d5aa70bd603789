"""gunicorn settings for production: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

The app is loaded once in the master (``preload_app``) and forked into the workers: a cold
start took 9 s and each worker rebuilt the app for 2 s of CPU after a crash; preloaded, 3 s
and none (issue 9 §8). Each worker opens its own database connections after the fork (the
engine's pool is created lazily, on first use in the worker).

One sync worker per core (``WEB_CONCURRENCY`` overrides it). nginx in front buffers each
request and answer, so a worker is never held by a slow phone, and a cast is CPU in the app
and in PostgreSQL with sub-millisecond waits between. On 2 cores, 2 workers cast a median
0.93 times as fast into one meeting as into eight (five runs), where 4 workers (2 per
core) managed 0.73, the lock's holder sharing its core with a worker about to wait for the
lock, and spent more CPU per ballot (``scripts/bench/cast.py``; docs/architecture.md,
"Workers and the first wave").

Request rate caps (Flask-Limiter) are kept in Redis when ``REDIS_URL`` is set, else in each
worker's memory, where N workers would let N times the cap through. So more than one worker
without ``REDIS_URL`` is refused here, at start. (The limits that protect sign-in, per
number, per address and per account, are counted in the database and hold regardless.)
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 30
# nginx is the one proxy in front (PROXY_HOPS=1); it sets X-Forwarded-For/-Proto, which
# the app reads through werkzeug's ProxyFix, not gunicorn's own handling.
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
# The access log names the path, never the query or the referrer: a staff search for an
# owner's number (/communities/3/holders?q=13812345678) wrote it there in full. scripts/demo
# reads this line too.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
errorlog = "-"
# No control socket: its default path is one per user ($XDG_RUNTIME_DIR or ~/.gunicorn), so a
# second gunicorn on the host took it over and stopping either removed it. Reloads and stops
# go through signals (deploy/systemd/voting.service).
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Refuse to start with several workers and per-worker rate caps."""
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        raise SystemExit(
            f"refusing to start {server.cfg.workers} workers without REDIS_URL: each worker"
            " would keep its own request rate caps (set REDIS_URL, e.g."
            " redis://127.0.0.1:6379/0, or WEB_CONCURRENCY=1)"
        )
