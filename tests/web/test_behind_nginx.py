"""The app behind a real reverse proxy (issue 9 §8): gunicorn started as deploy/ starts it
(deploy/gunicorn.conf.py, preloaded), behind Debian's nginx running deploy/nginx/voting.conf
on 127.0.0.1 with a certificate made here, and PROXY_HOPS=1.

Checked through nginx: per-address limits count the client's own address (clients on
127.0.0.2 and 127.0.0.3; a forged X-Forwarded-For changes nothing), cookies are Secure,
HSTS is sent, plain HTTP is sent to HTTPS, and a client-sent X-Forwarded-Host (or Host)
changes no absolute link (they come from PUBLIC_BASE_URL, which is required behind a proxy).
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import runpy
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import IS_CI, SECRET
from tests.meeting_builders import estate, open_meeting
from voting.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "voting.conf"
PUBLIC = "https://vote.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vote.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("vote.example.org"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def nginx_conf(folder: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx/voting.conf as shipped, with only ports and certificate paths changed,
    inside a main config that keeps pid, logs and temporary files in ``folder``."""
    cert, key = self_signed(folder)
    site = SITE.read_text(encoding="utf-8")
    for old, new in [
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("/etc/letsencrypt/live/vote.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/vote.example.org/privkey.pem", str(key)),
        ("/var/log/nginx/voting.access.log", str(folder / "voting.access.log")),
    ]:
        assert old in site, old
        site = site.replace(old, new)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the key in tmp
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""{user}worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log {folder / "access.log"};
{temp}
{site}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def app_environment(database_url: str, instance: Path, folder: Path) -> dict[str, str]:
    shim = folder / "behind_nginx_wsgi.py"
    shim.write_text(
        f"from voting import serve_app\napp = serve_app({{'instance_path': {str(instance)!r}}})\n",
        encoding="utf-8",
    )
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}",
        "SECRET_KEY": SECRET,
        "ID_HASH_KEY": "test-id-hash-key",
        "DATABASE_URL": database_url,
        "PROXY_HOPS": "1",
        "PUBLIC_BASE_URL": PUBLIC,
        "LOG_ORIGIN": "localhost",
        "SMS_GATEWAY": "outbox",
        "WEB_CONCURRENCY": "1",
    }


@pytest.fixture
def behind_nginx(app, database_url: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(https port, http port) of nginx in front of gunicorn serving the test's database."""
    if not os.access(NGINX, os.X_OK):
        if IS_CI:
            pytest.fail("nginx is required under CI=true (Debian package nginx)")
        pytest.skip("nginx not installed (Debian package nginx; scripts/test installs it)")
    folder = tmp_path / "proxy"
    folder.mkdir()
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    environment = app_environment(database_url, Path(app.instance_path), folder)
    environment["BIND"] = f"127.0.0.1:{app_port}"
    app_log = folder / "gunicorn.log"
    with app_log.open("wb") as out:
        gunicorn = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
             "behind_nginx_wsgi:app"],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    nginx = None
    try:
        wait_for(app_port, gunicorn, app_log)
        conf = nginx_conf(folder, app_port, http_port, https_port)
        nginx_log = folder / "nginx.out"
        with nginx_log.open("wb") as out:
            nginx = subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log"),
                 "-g", "daemon off;"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(https_port, nginx, folder / "error.log")
        yield https_port, http_port
        # No control socket: gunicorn's default path is one per user, so a second gunicorn on
        # the host took it over and stopping either removed it (deploy/gunicorn.conf.py).
        assert not (folder / ".gunicorn").exists()
    finally:
        if nginx is not None:
            stop(nginx)
        stop(gunicorn)


def request(
    port: int,
    method: str,
    path: str,
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    body: object = None,
    tls: bool = True,
) -> http.client.HTTPResponse:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, context=context, source_address=(source, 0), timeout=30
        )
    else:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, source_address=(source, 0), timeout=30
        )
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=sent)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def ask_code(port: int, source: str, n: int, headers: dict[str, str] | None = None) -> int:
    phone = f"139{n:08d}"  # a number of its own each time: only the address repeats
    return request(
        port, "POST", "/api/v1/owner/codes", source=source, headers=headers, body={"phone": phone}
    ).status


def test_behind_nginx(app, make, behind_nginx, tmp_path):  # type: ignore[no-untyped-def]
    https_port, http_port = behind_nginx
    meeting = open_meeting(estate(make, ["100.00", "80.00"]))

    # Plain HTTP goes to HTTPS at the public name; HTTPS answers with HSTS and Secure cookies.
    moved = request(http_port, "GET", "/sign-in?x=1", tls=False)
    assert moved.status == 301
    assert moved.headers["Location"] == "https://vote.example.org/sign-in?x=1"
    page = request(https_port, "GET", "/sign-in")
    assert page.status == 200
    assert "max-age=63072000" in page.headers["Strict-Transport-Security"]
    cookies = page.headers.get_all("Set-Cookie") or []
    assert cookies and all("; Secure" in cookie for cookie in cookies), cookies

    # Per-address limits count the client's address, which a forged header cannot change.
    forged = {"X-Forwarded-For": "203.0.113.7"}
    first = [ask_code(https_port, "127.0.0.2", n, forged if n % 2 else None) for n in range(20)]
    assert first == [202] * 20
    assert ask_code(https_port, "127.0.0.2", 20) == 429
    assert ask_code(https_port, "127.0.0.2", 21, {"X-Forwarded-For": "198.51.100.9"}) == 429
    assert ask_code(https_port, "127.0.0.3", 22) == 202  # another address: its own count

    # Public reads (no sign-in) are capped per address by nginx: a burst of 100, then 429;
    # another address, and the pages behind a sign-in, are not held back.
    def burst(path: str, source: str) -> list[http.client.HTTPResponse]:
        with ThreadPoolExecutor(8) as pool:  # faster than the 10 a second that refill it
            return list(pool.map(lambda _: request(https_port, "GET", path, source=source),
                                 range(200)))  # fmt: skip

    answers = burst("/credit?q=x", "127.0.0.4")
    assert {a.status for a in answers} == {200, 429}
    assert [a.status for a in answers].count(200) >= 100
    # Refused in the endpoint's own format, never nginx's HTML page, with when to come back.
    busy = next(a for a in answers if a.status == 429)
    assert busy.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert busy.headers["Retry-After"] == "1"
    proof = f"/log/{meeting.public_id}/proof/consistency?from=1&size=1"
    json_busy = next(a for a in burst(proof, "127.0.0.6") if a.status == 429)
    assert json_busy.headers["Content-Type"] == "application/json"
    assert json.loads(json_busy.body) == {
        "error": "rate_limited",
        "message": "操作太频繁，请稍后再试",
    }
    # A witness's cosignature is no public read: not held back (the app answers it).
    cosigned = request(
        https_port, "POST", f"/log/{meeting.public_id}/cosignature", source="127.0.0.6", body="x"
    )
    assert cosigned.status != 429
    assert request(https_port, "GET", "/credit?q=x", source="127.0.0.5").status == 200
    assert request(https_port, "GET", "/sign-in", source="127.0.0.4").status == 200

    # Neither access log writes a query or a referrer: a search for an owner's number.
    searched = "/communities/1/holders?q=13812345678"
    assert request(https_port, "GET", searched, headers={"Referer": f"{PUBLIC}{searched}"}).status
    logs = [tmp_path / "proxy" / name for name in ("voting.access.log", "gunicorn.log")]
    assert all("/communities/1/holders" in log.read_text() for log in logs)
    assert not any("13812345678" in log.read_text() for log in logs)

    # A client-sent host changes no absolute link.
    for headers in ({"X-Forwarded-Host": "evil.example"}, {"Host": "evil.example"}):
        path = f"/log/{meeting.public_id}"
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", https_port, context=context)
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode()
        connection.close()
        assert answer.status == 200, text[:500]
        assert f"{PUBLIC}/log/{meeting.public_id}" in text
        assert "evil.example" not in text


def test_gunicorn_refuses_several_workers_without_redis(tmp_path):
    environment = app_environment("sqlite:///" + str(tmp_path / "x.db"), tmp_path, tmp_path)
    environment.update(WEB_CONCURRENCY="2", BIND=f"127.0.0.1:{free_port()}")
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
         "behind_nginx_wsgi:app"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "refusing to start 2 workers without REDIS_URL" in done.stdout + done.stderr


def test_behind_a_proxy_public_base_url_is_required(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("SMS_GATEWAY", "outbox")
    monkeypatch.setenv("PROXY_HOPS", "1")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("DEMO", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be set behind a proxy"):
        load_settings(tmp_path)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    assert load_settings(tmp_path).public_base_url == PUBLIC


def test_the_deploy_folder_has_what_an_operator_needs():
    units = ROOT / "deploy" / "systemd"
    jobs = {
        "close-due": "meetings close-due",
        "sms-dispatch": "sms dispatch",
        "tickets-sweep": "tickets sweep",
        "credit-overdue": "credit overdue",
        "credit-monthly": "credit monthly",
    }
    for job, command in jobs.items():
        service = (units / f"voting-{job}.service").read_text(encoding="utf-8")
        assert f"ExecStart=/srv/voting/.venv/bin/flask --app wsgi {command}\n" in service
        assert "OnCalendar=" in (units / f"voting-{job}.timer").read_text(encoding="utf-8")
    service = (units / "voting.service").read_text(encoding="utf-8")
    assert "gunicorn -c deploy/gunicorn.conf.py wsgi:app" in service
    assert "preload_app = True" in (ROOT / "deploy" / "gunicorn.conf.py").read_text()


def test_gunicorn_runs_one_worker_per_core_unless_told_otherwise(monkeypatch):
    """A cast is CPU with short waits between: a second worker per core only took turns
    with the first for the meeting's lock (docs/architecture.md, "Workers and the first wave")."""
    conf = str(ROOT / "deploy" / "gunicorn.conf.py")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert runpy.run_path(conf)["workers"] == os.cpu_count()
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(conf)["workers"] == 5


def test_an_upgrade_restarts_gunicorn_as_a_reload_keeps_the_old_code(tmp_path):
    """With ``preload_app`` a HUP (``systemctl reload``) forks new workers from the master's
    app as it was loaded: new code is served only after a restart, which the README says."""
    (tmp_path / "hup_app.py").write_text(
        "import os\n\n\n"
        "def app(environ, start):\n"
        "    start('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [f'old {os.getpid()}'.encode()]\n"
    )
    port = free_port()
    environment = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "hup_app:app"],
        cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip

    def served() -> bytes:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    return answer.read()
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)

    try:
        code, worker = served().split()
        assert code == b"old"
        (tmp_path / "hup_app.py").write_text(
            (tmp_path / "hup_app.py").read_text().replace("old", "new")
        )
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while (answer := served().split())[1] == worker:  # until a new worker answers
            assert time.monotonic() < deadline, "no new worker after the HUP"
            time.sleep(0.2)
        assert answer[0] == b"old"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "systemctl reload voting" not in readme
    assert readme.count("`db upgrade`, then `systemctl restart voting`") == 1
    assert "`db upgrade` 后\n`systemctl restart voting`" in readme
