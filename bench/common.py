"""Shared plumbing for the benchmarks in bench/: a fresh PostgreSQL database, a migrated
ReviewDesk on gunicorn, keep-alive HTTP clients run in parallel, percentiles, and the
`name: value unit` output.

Typical use (see bench/ingest.py)::

    with bench_server(workers=4) as server:      # fresh database + migrate + shop + key + gunicorn
        ...  # server.url, server.key, server.shop, server.database_url
    # gunicorn is stopped and the database dropped here, also on errors and Ctrl-C

Nothing here imports Django: benchmarks talk to the server over HTTP, like an integration, and
read the database with plain SQL (psycopg2) to check what landed.
"""

import contextlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote, urlsplit

try:
    import orjson

    def json_dumps(value):
        return orjson.dumps(value)

    json_loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a runtime dependency of the project

    def json_dumps(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    json_loads = json.loads

# Negative review texts shared by the benchmarks (nothing here ties a reward to a review).
NEGATIVE = [
    "收到就是坏的，外包装破损严重，联系客服半天没人回。",
    "与描述严重不符，质量太差了，用了两天就坏了，要求退款。",
    "发错货了！颜色和尺码都不对，非常失望。",
    "有很大的异味，洗了几次都没用，差评。",
    "快递暴力运输，茶叶罐都压扁了，商家也不处理。",
    "假货，和专柜的完全不一样，已经投诉了。",
]


REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn") if (VENV_BIN / "gunicorn").exists() else "gunicorn"
# The maintenance database used to create and drop benchmark databases.
ADMIN_DATABASE_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


# Output -----------------------------------------------------------------------------------------


def figure(name, value, unit=""):
    """Print one result line: `name: value unit`."""
    if isinstance(value, float):
        value = f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def note(message):
    """Progress and context go to stderr so stdout holds only the figures."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(values, pct):
    """Nearest-rank percentile of a non-empty sequence (p50 of [1, 2, 3, 4] is 2)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def machine_summary():
    """nproc, memory and the 1-minute load average (the machine is shared: record how busy it was)."""
    mem_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "load_1m": os.getloadavg()[0]}


# PostgreSQL -------------------------------------------------------------------------------------


def pg_connect(url, **kwargs):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        dbname=unquote(parts.path.lstrip("/")) or "postgres",
        user=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        host=parts.hostname or None,
        port=parts.port or None,
        **kwargs,
    )


def database_url_for(name, admin_url=ADMIN_DATABASE_URL):
    parts = urlsplit(admin_url)
    return parts._replace(path="/" + name).geturl()


@contextlib.contextmanager
def fresh_database(prefix="rd_bench", admin_url=ADMIN_DATABASE_URL):
    """Create an empty, uniquely named database; yield its DATABASE_URL; drop it afterwards
    (WITH (FORCE), so connections a crashed server left behind do not keep it alive)."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = pg_connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        note(f"created database {name}")
        try:
            yield database_url_for(name, admin_url)
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            note(f"dropped database {name}")
    finally:
        admin.close()


# ReviewDesk processes ---------------------------------------------------------------------------


def server_env(database_url, var_dir, **extra):
    """The environment of a production-like ReviewDesk process against `database_url`."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="reviewdesk.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-" + secrets.token_urlsafe(32),
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        REVIEWDESK_VAR_DIR=str(var_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env, *args):
    """Run `manage.py args…` and return its stdout; raise with its output when it fails."""
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def create_shop_and_key(env, *, shop, platform="taobao", name="基准测试旗舰店"):
    """Create a shop and an integration key for it; return the raw key."""
    manage(env, "create_shop", "--platform", platform, "--external-id", shop, "--name", name)
    out = manage(env, "create_api_key", "--shop", shop, "--name", "bench")
    return out.strip().splitlines()[-1].strip()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu_seconds(pid):
    """user+system CPU seconds of a process (Linux /proc), 0.0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid):
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str
    log_path: Path
    description: str

    def worker_cpu_seconds(self):
        """CPU seconds used so far by the master and its workers."""
        return process_cpu_seconds(self.process.pid) + sum(
            process_cpu_seconds(pid) for pid in child_pids(self.process.pid)
        )

    def log_tail(self, lines=40):
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def gunicorn(env, *, workers=4, worker_class="sync", threads=1, log_dir, timeout=600):
    """Start gunicorn on a free loopback port; yield a Gunicorn once /healthz/ answers; stop it.
    The worker timeout is generous on purpose: a benchmark should measure a slow request, not
    have gunicorn kill it."""
    port = free_port()
    log_path = Path(log_dir) / "gunicorn.log"
    cmd = [
        GUNICORN,
        "reviewdesk.wsgi:application",
        "--config",
        "python:reviewdesk.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--keep-alive",
        "10",
        "--backlog",
        "256",
        "--timeout",
        str(timeout),
        "--error-logfile",
        "-",
    ]
    description = f"gunicorn --workers {workers} --worker-class {worker_class}" + (
        f" --threads {threads}" if worker_class == "gthread" else ""
    )
    with open(log_path, "wb") as log:
        # A new session: Ctrl-C reaches only this script, which then stops gunicorn in order.
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Gunicorn(process, f"http://127.0.0.1:{port}", log_path, description)
    try:
        _wait_ready(server, workers=workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server, *, workers, deadline_s=60):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            status, _body = http_get(server.url + "/healthz/", timeout=2)
        except OSError:
            status = None
        if status == 200:
            # Give the remaining workers a moment to finish booting (they import Django in parallel).
            while len(child_pids(server.process.pid)) < workers and time.monotonic() - start < deadline_s:
                time.sleep(0.1)
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz/ within {deadline_s}s:\n{server.log_tail()}")


@dataclass
class BenchServer:
    url: str
    key: str
    shop: str
    database_url: str | None
    gunicorn: Gunicorn | None


@contextlib.contextmanager
def bench_server(*, workers=4, worker_class="sync", threads=1, shop="bench-shop", platform="taobao"):
    """Fresh database, migrated, with one shop and an API key, served by gunicorn. Everything is
    torn down on exit, whatever happened (the database is dropped last)."""
    with contextlib.ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rd-bench-")))
        database_url = stack.enter_context(fresh_database())
        # Tasks queued after commit (assignment) go to a throw-away file-system broker in var_dir,
        # never to a real broker inherited from the environment: nothing consumes them here.
        env = server_env(database_url, var_dir, CELERY_BROKER_URL="filesystem://")
        note("migrating")
        manage(env, "migrate", "--noinput")
        key = create_shop_and_key(env, shop=shop, platform=platform)
        note(f"starting gunicorn ({workers} x {worker_class}, {threads} thread(s))")
        server = stack.enter_context(
            gunicorn(env, workers=workers, worker_class=worker_class, threads=threads, log_dir=var_dir)
        )
        note(f"gunicorn up at {server.url} (log {server.log_path})")
        try:
            yield BenchServer(server.url, key, shop, database_url, server)
        except BaseException:
            kept = Path(tempfile.gettempdir()) / f"rd-bench-gunicorn-{os.getpid()}.log"
            with contextlib.suppress(OSError):
                shutil.copyfile(server.log_path, kept)
                note(f"failed; gunicorn log kept at {kept}")
            raise


def exit_on_sigterm():
    """Turn SIGTERM into SystemExit so `finally` blocks (stop gunicorn, drop the database) run.
    SIGINT raises KeyboardInterrupt even when a shell started us in the background (where it
    would otherwise be ignored)."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


# HTTP clients -----------------------------------------------------------------------------------


def http_get(url, *, headers=None, timeout=30):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class KeepAliveClient:
    """A minimal keep-alive HTTP/1.1 client on http.client: much less CPU per request than
    requests.Session, so the load generator stays out of the way on a 2-core machine. It
    reconnects when the server closes the connection (gunicorn's sync workers close after each
    response) and retries once if a reused connection turns out to be dead before any byte of the
    response arrived (safe here: every benchmark event carries an event_id, so a replay is a
    duplicate, never a second review)."""

    def __init__(self, base_url, *, headers, timeout=600):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.headers = headers
        self.timeout = timeout
        self.conn = None
        self.retries = 0

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def post(self, path, body):
        for attempt in (0, 1):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request("POST", self.prefix + path, body=body, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 0 and reused:
                    self.retries += 1
                    continue
                raise
            except BaseException:
                # A timeout or any other failure leaves the connection mid-request: never reuse it.
                self.close()
                raise
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_parallel(fn, jobs, *, mode="process"):
    """Run fn(*job) for every job at the same time, one process (or thread) each; return the
    results in job order. Processes keep the clients' JSON and socket work off each other's GIL."""
    if mode == "thread":
        executor = ThreadPoolExecutor(max_workers=len(jobs))
    else:
        executor = ProcessPoolExecutor(max_workers=len(jobs), mp_context=get_context("fork"))
    try:
        futures = [executor.submit(fn, *job) for job in jobs]
        results = [future.result() for future in futures]
    except BaseException:
        # Ctrl-C or a failed client: do not wait for the other clients to finish their run.
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown()
    return results


# Celery -----------------------------------------------------------------------------------------


def flush_redis(url):
    """Empty the Redis database of `url` (a benchmark's own broker/cache database)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def redis_queue_length(url, queue="celery"):
    """Messages waiting in a Celery queue on a Redis broker (0 when Redis is unreachable)."""
    import redis

    try:
        return redis.Redis.from_url(url).llen(queue)
    except redis.exceptions.RedisError:
        return 0


@contextlib.contextmanager
def celery_worker(env, *, log_dir, concurrency=2, ready_timeout=60):
    """Start `celery -A reviewdesk worker` (as compose runs it) as a child process in its own
    session; yield the Popen once it logs `ready`; stop it with a warm shutdown (SIGTERM to its
    process group, SIGKILL after 15 s). Its log is `log_dir/celery-worker.log`."""
    log_path = Path(log_dir) / "celery-worker.log"
    cmd = [PYTHON, "-m", "celery", "-A", "reviewdesk", "worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = log_path
    try:
        deadline = time.monotonic() + ready_timeout
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"celery worker not ready (exit {process.poll()}):\n{tail}")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
