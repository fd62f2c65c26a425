"""Real background processes for end-to-end tests: Celery workers and beat, against the test
database and a Redis broker database of the test's own."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def child_env(tmp_path, **extra):
    """The environment of a child process that shares this test's database and broker."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviewdesk.test_settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDIS_URL": settings.REDIS_URL,
        "REVIEWDESK_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_celery(kind, tmp_path, *args, **env):
    """Start `celery worker` or `celery beat` as a child process; its log goes to tmp_path."""
    log = open(tmp_path / f"{kind}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 — closed in stop()
    cmd = [sys.executable, "-m", "celery", "-A", "reviewdesk", kind, "--loglevel=INFO", *args]
    if kind == "beat":
        cmd += ["--schedule", str(tmp_path / "beat-schedule")]
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=child_env(tmp_path, **env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log = log
    return process


def stop(process, sig=signal.SIGTERM, timeout=15):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    process.log.close()


def read_log(process):
    process.log.flush()
    return Path(process.log.name).read_text()


def wait_for(predicate, *, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def flush_broker():
    """Drop anything an earlier run left in this test's broker database."""
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


# Private servers for fault tests: each on a free loopback port, never the machine's shared ones ---


def free_port():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port, tmp_path):
    """A throw-away redis-server on `port` (no persistence) as a child process, once it answers."""
    import redis

    log = open(tmp_path / f"redis-{port}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 — closed in stop()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)

    def answers():
        try:
            return client.ping()
        except redis.exceptions.ConnectionError:
            assert process.poll() is None, read_log(process)
            return False

    wait_for(answers, timeout=15, what=f"redis-server on port {port}")
    return process


class publishing_to:  # noqa: N801 — used as a context manager, like override_settings
    """Point this process's Celery publisher (what the push API's on_commit uses) at `broker_url`,
    and back afterwards; the connection and producer pools are dropped both ways."""

    def __init__(self, broker_url):
        self.broker_url = broker_url

    @staticmethod
    def _reset(app):
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    def __enter__(self):
        from reviewdesk.celery import app

        # The write URL: Celery prefers the CELERY_BROKER_URL environment variable to broker_url.
        self.app, self.previous = app, app.conf.get("broker_write_url")
        self._reset(app)
        app.conf.broker_write_url = self.broker_url
        assert app.connection_for_write().as_uri(include_password=True) == self.broker_url
        return self

    def __exit__(self, *exc):
        self._reset(self.app)
        self.app.conf.broker_write_url = self.previous


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temporary directory owned by the `postgres` OS user,
    on a free port, run through pg_ctl as that user (the tests run as root)."""

    def __init__(self):
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="rd-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        subprocess.run(["chown", "postgres:postgres", str(self.dir)], check=True)

    def _as_postgres(self, *cmd, check=True, timeout=60):
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True, check=check, timeout=timeout
        )

    def init(self):
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def _options(self):
        return f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"

    def start(self):
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            self._options(),
            "-l",
            str(self.dir / "pg.log"),
            "-w",
            "start",
        )

    def restart(self):
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            self._options(),
            "-l",
            str(self.dir / "pg.log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False
            )

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def cleanup(self):
        import shutil

        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
