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
