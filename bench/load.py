"""Load benchmark (issue 7): 20 simulated users mixing pushes, queue views, ticket work and the
dashboard against gunicorn, a real Celery worker, PostgreSQL and Redis (a headless locust run,
built on the bench infrastructure, no new dependency).

    .venv/bin/python bench/load.py                          # fresh database, 50,000 tickets, 2 minutes
    .venv/bin/python bench/load.py --seconds 20 --tickets 5000      # a quick run while developing
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --username agent00,agent01 \\
        --password … --supervisor boss --key rd_… --shop tb-001       # a running server

Set-up (no arguments): a fresh database `rd_bench_load_<pid>_<hex>`, filled as bench/pages.py
fills it (three shops, five agents with 30 open tickets each, a supervisor, 50,000 tickets over
half a year bulk-inserted in SQL, VACUUM ANALYZE), an API key for shop bench-tb-1; Redis database
7 (flushed first and at the end) is both the Celery broker and the cache; a Celery worker
(`celery -A reviewdesk worker --concurrency 2`, as compose runs it) and gunicorn (4 sync workers,
DEBUG off) as child processes. Everything is stopped and the database dropped at the end, also on
failure or Ctrl-C.

Users: one process each, with their own requests.Session(s): user i logs in through the login
form as agent i % 5 and as the supervisor, does one untimed round (warm-up), waits for the others
at a barrier, then for `--seconds` picks a task by weight and thinks 0.5–1.5 s between tasks:
- push (30 %): POST /api/v1/review-events/ with the API key, a single event (2/3; one in ten
  negative, so it opens a ticket the worker assigns) or a batch of 5–20 (1/3, 10 % negative);
- queue (30 %): GET / (the agent's queue; its ticket ids feed the next task);
- ticket (30 %): GET a ticket page from the last queue, then POST a contact attempt (channel
  `im`, never refused by the contact etiquette) with the page's CSRF token, follow the redirect
  back to the page, and in a third of the cases POST a note too (and follow its redirect);
- dashboard (10 %): GET /dashboard/?from=…&to=… over the last 30 days, as the supervisor.

An error is an exception, a GET that is not 200, an action POST that is not the expected 302 back
to the ticket page, or a push that is not 200 with every event accepted. Figures go to stdout as
`name: value unit` per request type (count, errors, p50, p95, max), ending with
`targets: N met, M missed` (zero errors; p95 of push single ≤ 50 ms, queue ≤ 100 ms, ticket page
≤ 80 ms, dashboard ≤ 300 ms); progress goes to stderr. Exit status 1 when there was an error.
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import re
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    celery_worker,
    child_pids,
    exit_on_sigterm,
    figure,
    flush_redis,
    fresh_database,
    gunicorn,
    json_dumps,
    machine_summary,
    manage,
    note,
    percentile,
    pg_connect,
    process_cpu_seconds,
    redis_queue_length,
    server_env,
)
from ingest import CHINA, TARGET_SINGLE_P95_MS, Workload  # noqa: E402
from ingest import PATH as PUSH_PATH  # noqa: E402
from pages import (  # noqa: E402
    AGENTS,
    PASSWORD,
    SETUP,
    TARGET_QUEUE_P95_MS,
    TARGET_TICKET_P95_MS,
    _unsecure,
    fill,
    log_in,
)
from stats_pages import TARGET_P95_MS as TARGET_DASHBOARD_P95_MS  # noqa: E402

TICKETS = 50_000
USERS = 20
SECONDS = 120
REDIS_URL = "redis://127.0.0.1:6379/7"
PUSH_SHOP = "bench-tb-1"  # a Taobao shop of pages.SETUP

# Task weights (percent of tasks) and think time between tasks.
TASKS = {"push": 30, "queue": 30, "ticket": 30, "dashboard": 10}
SINGLE_SHARE = 2 / 3  # of the pushes; the rest are batches of BATCH_SIZES
BATCH_SIZES = (5, 20)
NOTE_SHARE = 1 / 3  # of the ticket tasks, a note after the contact attempt
THINK_S = (0.5, 1.5)
REQUEST_TIMEOUT_S = 60

# Request types in report order, with their p95 target in ms (None: no target).
TYPES = {
    "push_single": TARGET_SINGLE_P95_MS,
    "push_batch": None,
    "queue": TARGET_QUEUE_P95_MS,
    "ticket_page": TARGET_TICKET_P95_MS,
    "contact_attempt": None,
    "note": None,
    "dashboard": TARGET_DASHBOARD_P95_MS,
}

ATTEMPT_NOTES = ["", "", "已通过旺旺发送致歉和补偿方案", "买家暂未回复，明天再跟进", "买家同意补发，等待确认地址"]
NOTES = ["买家说快递压坏了，已登记补发", "已申请部分退款，等待主管审批", "买家要求换货，已联系仓库", "约好明天下午回访"]


# One simulated user ------------------------------------------------------------------------------


class User:
    """A person at a desk (agent work, a supervisor's dashboard) and an integration pushing events,
    each with its own requests.Session; every request is recorded as (type, start, ms, error)."""

    def __init__(self, index, cfg):
        import requests

        self.index, self.cfg = index, cfg
        self.rng = random.Random(cfg["seed"] * 1000 + index)
        self.base_url = cfg["base_url"]
        self.https_url = "https://" + self.base_url.split("://", 1)[1]
        agents = cfg["agents"]
        self.agent = log_in(self.base_url, agents[index % len(agents)], cfg["password"]).session
        self.supervisor = (
            log_in(self.base_url, cfg["supervisor"], cfg["password"]).session if cfg["supervisor"] else None
        )
        self.api = None
        if cfg["key"]:
            self.api = requests.Session()
            self.api.headers.update({"Authorization": f"Bearer {cfg['key']}", "Content-Type": "application/json"})
            self.workload = Workload(
                shop=cfg["shop"], platform=cfg["platform"], run=f"{cfg['run']}u{index}", seed=cfg["seed"] + index
            )
        self.pushes = 0
        self.ticket_ids = []
        self.records = []
        self.recording = False

    # Plumbing

    def _record(self, kind, started, error=""):
        if self.recording:
            self.records.append((kind, started, (time.perf_counter() - started) * 1000, error))

    def _get(self, session, kind, path):
        started = time.perf_counter()
        try:
            response = session.get(self.base_url + path, timeout=REQUEST_TIMEOUT_S, allow_redirects=False)
        except Exception as exc:  # noqa: BLE001 — any failure is an error of this request
            self._record(kind, started, f"GET {path}: {exc!r}")
            return None
        _unsecure(session)
        if response.status_code != 200:
            self._record(kind, started, f"GET {path}: {response.status_code}")
            return None
        self._record(kind, started)
        return response

    def _post_form(self, kind, path, data, expect_location):
        """POST a workspace form as the browser does (CSRF token, Referer/Origin of the TLS
        side); the expected answer is a 302 back to the ticket page."""
        started = time.perf_counter()
        try:
            response = self.agent.post(
                self.base_url + path,
                data=data,
                headers={"Referer": self.https_url + expect_location, "Origin": self.https_url},
                timeout=REQUEST_TIMEOUT_S,
                allow_redirects=False,
            )
        except Exception as exc:  # noqa: BLE001
            self._record(kind, started, f"POST {path}: {exc!r}")
            return False
        _unsecure(self.agent)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.endswith(expect_location):
            self._record(kind, started, f"POST {path}: {response.status_code} {location or response.text[:120]!r}")
            return False
        self._record(kind, started)
        return True

    # Tasks

    def push(self):
        single = self.rng.random() < SINGLE_SHARE
        self.pushes += 1
        kind = f"p{self.pushes}-"
        if single:
            events, _worthy = self.workload.events(kind, 1, ticket_share=1.0 if self.rng.random() < 0.1 else 0.0)
            body, name = json_dumps(events[0]), "push_single"
        else:
            events, _worthy = self.workload.events(kind, self.rng.randint(*BATCH_SIZES))
            body, name = json_dumps({"events": events}), "push_batch"
        started = time.perf_counter()
        try:
            response = self.api.post(self.base_url + PUSH_PATH, data=body, timeout=REQUEST_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001
            self._record(name, started, f"push: {exc!r}")
            return
        error = ""
        if response.status_code != 200:
            error = f"push: {response.status_code} {response.text[:200]!r}"
        else:
            try:
                accepted = response.json().get("accepted")
            except ValueError:
                accepted = None
            if accepted != len(events):
                error = f"push: accepted {accepted} of {len(events)}: {response.text[:200]!r}"
        self._record(name, started, error)

    def queue(self):
        response = self._get(self.agent, "queue", "/")
        if response is not None:
            ids = list(dict.fromkeys(re.findall(r'data-ticket-id="(\d+)"', response.text)))
            if ids:
                self.ticket_ids = ids

    def ticket(self):
        if not self.ticket_ids:
            self.queue()
            if not self.ticket_ids:
                return
        ticket_id = self.rng.choice(self.ticket_ids)
        page_path = f"/tickets/{ticket_id}/"
        response = self._get(self.agent, "ticket_page", page_path)
        if response is None:
            return
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        if token is None:
            self._record("contact_attempt", time.perf_counter(), f"no CSRF token on {page_path}")
            return
        attempt = {
            "csrfmiddlewaretoken": token.group(1),
            "channel": "im",
            "result": self.rng.choice(["message_sent", "message_sent", "no_answer", "reached"]),
            "note": self.rng.choice(ATTEMPT_NOTES),
            "override_reason": "",
        }
        if not self._post_form("contact_attempt", f"{page_path}contact-attempts/", attempt, page_path):
            return
        response = self._get(self.agent, "ticket_page", page_path)  # the redirect, as a browser follows it
        if response is None or self.rng.random() >= NOTE_SHARE:
            return
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        data = {"csrfmiddlewaretoken": token.group(1) if token else "", "text": self.rng.choice(NOTES)}
        if self._post_form("note", f"{page_path}notes/", data, page_path):
            self._get(self.agent, "ticket_page", page_path)

    def dashboard(self):
        today = datetime.now(tz=CHINA).date()
        start = today - timedelta(days=29)
        self._get(self.supervisor, "dashboard", f"/dashboard/?from={start.isoformat()}&to={today.isoformat()}")

    def warm_up(self):
        """Untimed: one of each page and a push, so first-use costs stay out of the figures."""
        self.queue()
        if self.ticket_ids:
            self._get(self.agent, "ticket_page", f"/tickets/{self.rng.choice(self.ticket_ids)}/")
        if self.supervisor is not None:
            self.dashboard()
        if self.api is not None:
            self.push()

    def run(self, seconds):
        tasks = {name: weight for name, weight in TASKS.items() if self._can(name)}
        names, weights = list(tasks), list(tasks.values())
        self.recording = True
        deadline = time.monotonic() + seconds
        time.sleep(self.rng.uniform(0, THINK_S[1]))  # users do not all start at the same instant
        while time.monotonic() < deadline:
            getattr(self, self.rng.choices(names, weights)[0])()
            pause = self.rng.uniform(*THINK_S)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)

    def _can(self, task):
        return {"push": self.api is not None, "dashboard": self.supervisor is not None}.get(task, True)


def user_process(index, cfg, barrier, results):
    """The body of user `index`'s process: log in, warm up, wait for everyone, run, report."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        user = User(index, cfg)
        user.warm_up()
    except BaseException:
        barrier.abort()
        results.put((index, [], traceback.format_exc()))
        return
    try:
        barrier.wait(timeout=cfg["barrier_timeout"])
    except threading.BrokenBarrierError:
        results.put((index, [], "barrier broken (another user failed to start)"))
        return
    try:
        user.run(cfg["seconds"])
        results.put((index, user.records, ""))
    except BaseException:
        results.put((index, user.records, traceback.format_exc()))


def run_users(cfg, users):
    """Start the users (one process each), release them together; return (records, problems,
    wall seconds of the measured part)."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(users + 1)
    results = ctx.Queue()
    processes = [ctx.Process(target=user_process, args=(i, cfg, barrier, results), daemon=True) for i in range(users)]
    for process in processes:
        process.start()
    try:
        note(f"{users} users logging in and warming up")
        try:
            barrier.wait(timeout=cfg["barrier_timeout"])
        except threading.BrokenBarrierError:
            index, _records, problem = results.get(timeout=30)
            raise RuntimeError(f"user {index} failed to start:\n{problem}") from None
        started = time.monotonic()
        note(f"running for {cfg['seconds']} s")
        records, problems = [], []
        for _ in range(users):
            index, recs, problem = results.get(timeout=cfg["seconds"] + 2 * REQUEST_TIMEOUT_S + 30)
            records.extend(recs)
            if problem:
                problems.append(f"user {index}: {problem}")
        wall = time.monotonic() - started
        for process in processes:
            process.join(timeout=10)
        return records, problems, wall
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)


# Report ------------------------------------------------------------------------------------------


def report(records, problems, wall):
    """Print the per-type figures; return (targets met, missed, errors)."""
    met = missed = 0
    errors = 0
    for name, target in TYPES.items():
        mine = [r for r in records if r[0] == name]
        failed = [r for r in mine if r[3]]
        errors += len(failed)
        times = [r[2] for r in mine if not r[3]]
        figure(f"{name}_requests", len(mine))
        figure(f"{name}_errors", len(failed))
        if times:
            p95 = percentile(times, 95)
            figure(f"{name}_p50", percentile(times, 50), "ms")
            figure(f"{name}_p95", p95, "ms")
            figure(f"{name}_max", max(times), "ms")
        if target is not None:
            figure(f"{name}_p95_target", target, "ms")
            if times and p95 <= target:
                met += 1
            else:
                missed += 1
        for r in failed[:5]:
            note(f"{name} error: {r[3]}")
    errors += len(problems)
    for problem in problems[:5]:
        note(problem)
    figure("requests_total", len(records))
    figure("requests_per_second", len(records) / wall if wall else 0.0, "req/s")
    figure("errors", errors)
    if errors == 0:
        met += 1
    else:
        missed += 1
    return met, missed, errors


def landed(database_url, run, since):
    """(events pushed and stored, tickets they opened, of those assigned, contact attempts and
    notes written during the run): the worker's and the actions' effect, read in SQL."""
    connection = pg_connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(t.id), count(t.assignee_id) FROM reviews_review r "
                "LEFT JOIN tickets_ticket t ON t.review_id = r.id WHERE r.review_id LIKE %s",
                [f"{run}u%"],
            )
            reviews, tickets, assigned = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM tickets_contactattempt WHERE created_at >= %s", [since])
            attempts = cursor.fetchone()[0]
    finally:
        connection.close()
    return reviews, tickets, assigned, attempts


class BackendSampler:
    """CPU seconds of the benchmark database's PostgreSQL backends over the run. Django closes a
    connection once it is CONN_MAX_AGE (60 s) old, so backends come and go during a 2-minute run:
    a before/after snapshot (pages.CpuMeter) would lose the ones that ended. This samples every
    backend twice a second and keeps each one's last reading (a backend that lived less than half
    a second is missed)."""

    def __init__(self, database_url, interval=0.5):
        self.database_url, self.interval = database_url, interval
        self.first, self.last = {}, {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, cursor, initial=False):
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for (pid,) in cursor.fetchall():
            cpu = process_cpu_seconds(pid)
            self.first.setdefault(pid, cpu if initial else 0.0)
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def _run(self):
        connection = pg_connect(self.database_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.stopping.wait(self.interval):
                    self._sample(cursor)
                self._sample(cursor)
        finally:
            connection.close()

    def start(self):
        connection = pg_connect(self.database_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                self._sample(cursor, initial=True)  # backends already there count from their current CPU
        finally:
            connection.close()
        self.thread.start()

    def stop(self):
        """CPU seconds the backends used since start()."""
        self.stopping.set()
        self.thread.join(timeout=10)
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def tree_cpu_seconds(pid):
    return process_cpu_seconds(pid) + sum(process_cpu_seconds(child) for child in child_pids(pid))


# Main --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_argument_group("target (default: a fresh database, worker and gunicorn started here)")
    target.add_argument("--url", help="base URL of a running ReviewDesk")
    target.add_argument("--username", help="comma-separated agents with open tickets (default agent00…agent04)")
    target.add_argument("--password", default=PASSWORD)
    target.add_argument("--supervisor", default="boss", help="a supervisor for the dashboard ('' to skip)")
    target.add_argument("--key", help="API key for the pushes (with --url; none: no pushes)")
    target.add_argument("--shop", default=PUSH_SHOP, help="shop external id of the pushes")
    target.add_argument("--platform", default="taobao")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--redis-url", default=REDIS_URL, help="broker and cache; flushed before and after")
    parser.add_argument("--seed", type=int, default=20261123)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_on_sigterm()
    machine = machine_summary()
    figure("nproc", machine["nproc"])
    figure("load_1m_before", machine["load_1m"])
    run = f"load{os.getpid()}x{int(time.time()) % 100000}"
    cfg = {
        "agents": args.username.split(",") if args.username else [f"agent{i:02d}" for i in range(AGENTS)],
        "password": args.password,
        "supervisor": args.supervisor,
        "shop": args.shop,
        "platform": args.platform,
        "run": run,
        "seed": args.seed,
        "seconds": args.seconds,
        "barrier_timeout": 300,
    }
    database_url = server = worker = None
    with contextlib.ExitStack() as stack:
        if args.url:
            cfg["base_url"], cfg["key"] = args.url.rstrip("/"), args.key
        else:
            var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rd-bench-load-")))
            database_url = stack.enter_context(fresh_database(prefix="rd_bench_load"))
            flush_redis(args.redis_url)
            stack.callback(flush_redis, args.redis_url)
            env = server_env(database_url, var_dir, CELERY_BROKER_URL=args.redis_url, REDIS_URL=args.redis_url)
            note("migrating")
            manage(env, "migrate", "--noinput")
            manage(env, "collectstatic", "--noinput", "-v0")
            setup = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
            started = time.perf_counter()
            fill(database_url, setup, args.tickets)
            figure("fill_seconds", time.perf_counter() - started, "s")
            figure("tickets", args.tickets)
            out = manage(env, "create_api_key", "--shop", args.shop, "--name", "load")
            cfg["key"] = out.strip().splitlines()[-1].strip()
            worker = stack.enter_context(celery_worker(env, log_dir=var_dir, concurrency=args.celery_concurrency))
            note(f"celery worker up (pid {worker.pid}, log {worker.log_path})")
            server = stack.enter_context(gunicorn(env, workers=args.workers, log_dir=var_dir))
            note(f"{server.description} at {server.url}")
            cfg["base_url"] = server.url
        figure("users", args.users)
        figure("seconds", args.seconds, "s")
        since = datetime.now(tz=CHINA)
        sampler = BackendSampler(database_url) if database_url else None
        gunicorn_cpu0 = server.worker_cpu_seconds() if server else 0.0
        if sampler:
            sampler.start()
        worker_cpu0 = tree_cpu_seconds(worker.pid) if worker else 0.0
        records, problems, wall = run_users(cfg, args.users)
        load_during = os.getloadavg()[0]
        if sampler:
            app_cpu, db_cpu = server.worker_cpu_seconds() - gunicorn_cpu0, sampler.stop()
            # The warm-up's logins and first requests are in these too (a few seconds of CPU).
            figure("gunicorn_cpu", 100 * app_cpu / wall, "% of a core")
            figure("postgres_cpu", 100 * db_cpu / wall, "% of a core")
            figure("celery_worker_cpu", 100 * (tree_cpu_seconds(worker.pid) - worker_cpu0) / wall, "% of a core")
        met, missed, errors = report(records, problems, wall)
        figure("load_1m_end_of_run", load_during)
        if database_url:
            # Give the worker a moment to finish what the last pushes queued, then read what landed.
            deadline = time.monotonic() + 30
            while redis_queue_length(args.redis_url) and time.monotonic() < deadline:
                time.sleep(0.5)
            figure("celery_queue_left", redis_queue_length(args.redis_url))
            reviews, tickets, assigned, attempts = landed(database_url, run, since)
            figure("pushed_reviews_stored", reviews)
            figure("pushed_tickets_opened", tickets)
            figure("pushed_tickets_assigned_by_worker", assigned)
            figure("contact_attempts_stored", attempts)
    print(f"targets: {met} met, {missed} missed", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
