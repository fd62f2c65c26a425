"""Assignment and SLA benchmark (issue 3, `bench/assign.py`): Celery assigns pushed tickets, and
one SLA sweep runs over 100,000 open tickets.

    .venv/bin/python bench/assign.py                  # everything from scratch, torn down after
    .venv/bin/python bench/assign.py --tickets 2000 --batch-size 20 --rate 20 --skip-sla
                                                      # paced arrival instead of a burst
    .venv/bin/python bench/assign.py --celery-db-reuse-max 1000 --skip-sla
                                                      # experiment: workers keep their DB connection

Set-up: a fresh PostgreSQL database (migrated, dropped at the end whatever happens), an empty
Redis database of its own as the Celery broker (flushed before and after), one Taobao shop with
20 on-duty agents of equal capacity (600 each, so all 10,000 tickets fit) and 2 supervisors,
gunicorn serving the push API, and 2 Celery worker processes:
`celery -A reviewdesk worker --concurrency=1` twice (two independent consumers, as two
deployed worker containers would be; `--layout one` runs one worker with `--concurrency=2`).

Assignment: 10,000 `review.created` events, all negative so each opens a ticket, are pushed
through POST /api/v1/review-events/ in batches of 500 from 4 keep-alive clients, as fast as the
server takes them (a burst; `--rate` paces the batches instead). Ingestion opens the tickets and
queues one `assign_ticket_task` per ticket after commit; the workers assign them. Measured: time
from the first push to the last "assigned" timeline row, load spread (max - min open tickets per
agent), agents over capacity, and p50/p95/max from the event's InboundEvent.received_at to its
ticket's "assigned" timeline row. Checked: every ticket has exactly one "assigned" row.

SLA: 100,000 open tickets are bulk-inserted directly (with their reviews; the 10,000 assigned
above stay, so the table holds 110,000 open tickets), opened over the last 28 days, with clocks
that already fired marked as fired (the sweep runs every 30 s) and 300 of them with one clock (75
per clock) that came due within the last minute and has not fired. One `tickets.sla.sla_sweep()`
runs in this process against the benchmark database, timed with perf_counter; then the sweep with
nothing due is timed (median of 5). E-mail goes to Django's locmem backend (messages are built,
not sent).

Besides the targets it prints where the CPU went (Celery and gunicorn CPU per ticket, from /proc)
and how many PostgreSQL sessions and commits the database saw (pg_stat_database), which shows
whether the workers reconnect for every task. Figures go to stdout as `name: value unit`, ending
with `targets: N met, M missed`; progress goes to stderr. Exit status 1 when a correctness check
failed. The machine is shared: the load average is printed before and after.
"""

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402
    NEGATIVE,
    REPO,
    VENV_BIN,
    KeepAliveClient,
    child_pids,
    create_shop_and_key,
    exit_on_sigterm,
    figure,
    fresh_database,
    gunicorn,
    json_dumps,
    json_loads,
    machine_summary,
    manage,
    note,
    percentile,
    process_cpu_seconds,
    run_parallel,
    server_env,
)

PATH = "/api/v1/review-events/"
SHOP = "bench-assign-shop"
CELERY = str(VENV_BIN / "celery") if (VENV_BIN / "celery").exists() else "celery"
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# Redis databases tried for the broker, highest first; the first empty one is used.
BROKER_DB_CANDIDATES = (12, 11, 10, 9, 8, 7, 6, 5, 4, 3)

TARGET_ALL_ASSIGNED_S = 60
TARGET_SPREAD = 1
TARGET_EVENT_TO_ASSIGNED_P95_S = 2.0
TARGET_SWEEP_S = 1.0

ITEMS = [
    ("6801234501", "SKU-TEA-250", "明前龙井绿茶 2026新茶 250g 礼盒装", "168.00", "250g礼盒装"),
    ("6801234503", "SKU-CUP-01", "德化白瓷功夫茶具套装 家用", "89.90", "羊脂玉白 8件套"),
    ("6801234505", "SKU-TSH-M", "纯棉短袖T恤 男款 宽松圆领", "59.90", "白色 M码"),
    ("6801234509", "SKU-PWB-10", "20000毫安充电宝 22.5W快充", "99.00", "星空灰"),
    ("6801234512", "SKU-RCE-5K", "东北五常大米 稻花香 5kg", "69.80", "5kg真空装"),
]
REGIONS = ["浙江省杭州市", "广东省深圳市", "北京市朝阳区", "上海市浦东新区", "四川省成都市"]


# Workload ---------------------------------------------------------------------------------------


def negative_events(run, count, *, seed=20261122, positive=False):
    """`count` review.created events of this run, every one negative (or positive, for the
    warm-up, which must open no ticket). Occurred in the last hour, so clocks start now."""
    rng = random.Random(seed)
    now = datetime.now(tz=UTC)
    kind = "w" if positive else "n"
    events = []
    for i in range(count):
        item_id, sku, title, price, sku_text = rng.choice(ITEMS)
        order_id = f"{rng.randrange(10**18, 10**19)}"
        buyer = {
            "id": f"AAH{rng.getrandbits(64):016x}{i:06d}",
            "nick": rng.choice("t小阿木") + "***" + rng.choice(["猫", "鱼", "丸子", "柠檬", "2019"]),
            "region": rng.choice(REGIONS),
        }
        if rng.random() < 0.6:
            buyer["phone"] = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        low = (4, 5) if positive else (1, 2)
        events.append(
            {
                "event_id": f"{run}-{kind}{i}",
                "type": "review.created",
                "occurred_at": (now - timedelta(seconds=rng.uniform(0, 3600))).isoformat(timespec="seconds"),
                "platform": "taobao",
                "shop": SHOP,
                "review_id": f"{run}-{kind}{i}",
                "order_id": order_id,
                "buyer": buyer,
                "item": {"id": item_id, "sku": sku, "title": title, "price": price, "sku_text": sku_text},
                "rating": {
                    "tier": "positive" if positive else "negative",
                    "stars": 5 if positive else rng.choice((1, 2)),
                    "dsr": {k: rng.randint(*low) for k in ("description", "service", "logistics")},
                },
                "content": "很好，推荐。" if positive else rng.choice(NEGATIVE),
                "image_count": rng.choice((0, 0, 1, 3)),
            }
        )
    return events


def push_job(base_url, key, bodies, start_at):
    """One client: send its (send offset, events, body) requests in order on one keep-alive
    connection, each no earlier than start_at + offset (wall clock). Returns per-request records."""
    client = KeepAliveClient(base_url, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    records = []
    for offset, n_events, body in bodies:
        delay = start_at + offset - time.time()
        if delay > 0:
            time.sleep(delay)
        t0 = time.time()
        status, data = client.post(PATH, body)
        t1 = time.time()
        ticket_ids, problem = [], ""
        try:
            parsed = json_loads(data)
            ticket_ids = [r.get("ticket_id") for r in parsed.get("results", []) if r.get("status") == "created"]
        except (ValueError, AttributeError):
            problem = data[:300].decode(errors="replace")
        records.append((t0, t1, status, n_events, [t for t in ticket_ids if t is not None], problem))
    client.close()
    return records


# Redis broker -----------------------------------------------------------------------------------


@contextlib.contextmanager
def broker_database(explicit_url=None):
    """An empty Redis database as this run's broker: flushed before use and after."""
    import redis

    url = explicit_url
    if url is None:
        for db in BROKER_DB_CANDIDATES:
            if redis.Redis.from_url(f"{REDIS_BASE}/{db}").dbsize() == 0:
                url = f"{REDIS_BASE}/{db}"
                break
        else:
            raise RuntimeError(f"no empty Redis database among {BROKER_DB_CANDIDATES}; pass --broker-url")
    client = redis.Redis.from_url(url)
    client.flushdb()
    note(f"broker {url} (flushed)")
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


# Celery workers ---------------------------------------------------------------------------------


class Worker:
    def __init__(self, process, log_path):
        self.process, self.log_path = process, log_path

    def cpu_seconds(self):
        """(main process, pool children) CPU seconds so far."""
        return process_cpu_seconds(self.process.pid), sum(
            process_cpu_seconds(pid) for pid in child_pids(self.process.pid)
        )

    def log_tail(self, lines=30):
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def celery_workers(env, *, layout, pool, log_dir, ready_timeout=90):
    """Start the workers (`two`: two workers with --concurrency=1; `one`: one with
    --concurrency=2) in their own process groups; yield them once each logged `ready`; stop them."""
    specs = [("assign1", 1), ("assign2", 1)] if layout == "two" else [("assign1", 2)]
    workers = []
    try:
        for name, concurrency in specs:
            log_path = Path(log_dir) / f"celery-{name}.log"
            cmd = [
                CELERY,
                "-A",
                "reviewdesk",
                "worker",
                f"--concurrency={concurrency}",
                f"--pool={pool}",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
            if pool == "solo":
                cmd.remove(f"--concurrency={concurrency}")
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            workers.append(Worker(process, log_path))
        deadline = time.monotonic() + ready_timeout
        for worker in workers:
            while " ready." not in worker.log_path.read_text(errors="replace"):
                if worker.process.poll() is not None:
                    raise RuntimeError(f"celery worker exited:\n{worker.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"celery worker not ready in {ready_timeout}s:\n{worker.log_tail()}")
                time.sleep(0.2)
        yield workers
    finally:
        for worker in workers:
            _stop_group(worker.process)


def _stop_group(process, timeout=20):
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def database_counters(cursor):
    """(sessions opened, transactions committed) so far in this database (PostgreSQL 14+)."""
    cursor.execute("SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()")
    return cursor.fetchone()


def settings_overlay(var_dir, db_reuse_max):
    """Experiment only (product settings untouched): a settings module for the workers that adds
    CELERY_DB_REUSE_MAX, so Celery's Django fixup stops closing the connection around every task."""
    module = "bench_assign_settings"
    (Path(var_dir) / f"{module}.py").write_text(
        f"from reviewdesk.settings import *  # noqa: F403\n\nCELERY_DB_REUSE_MAX = {int(db_reuse_max)}\n"
    )
    return {"DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": os.pathsep.join([str(var_dir), str(REPO)])}


# Django, in this process ------------------------------------------------------------------------


def setup_django(env):
    """Point this process at the benchmark database and load Django (after the database exists)."""
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def create_team(shop_external_id, *, agents, capacity):
    """`agents` on-duty agents of equal capacity and 2 supervisors (who get the SLA notices)."""
    from django.contrib.auth import get_user_model

    from reviews.models import Shop
    from tickets.choices import Role
    from tickets.models import AgentProfile

    user_model = get_user_model()
    shop = Shop.objects.get(external_id=shop_external_id)
    profiles = []
    for i in range(agents):
        user = user_model.objects.create(username=f"agent{i:02d}", first_name=f"客服{i:02d}")
        profiles.append(AgentProfile(user=user, role=Role.AGENT, capacity=capacity, on_duty=True))
    for i in range(2):
        user = user_model.objects.create(username=f"boss{i}", email=f"boss{i}@shop.example")
        profiles.append(AgentProfile(user=user, role=Role.SUPERVISOR, capacity=capacity, on_duty=True))
    AgentProfile.objects.bulk_create(profiles)
    for profile in AgentProfile.objects.all():
        profile.shops.add(shop)
    return shop


# Assignment phase -------------------------------------------------------------------------------


def wait_all_assigned(cursor, expected, *, timeout, started, pushing, stall_after=120):
    """Poll until `expected` "assigned" rows exist; give up `timeout` seconds after `started`, or
    when the pushes are over (`pushing()` false) and nothing was assigned for `stall_after` s."""
    last_note, last_done, last_change = 0.0, -1, time.time()
    while True:
        cursor.execute("SELECT count(*) FROM tickets_ticketevent WHERE kind = 'assigned'")
        done = cursor.fetchone()[0]
        now = time.time()
        elapsed = now - started
        if done >= expected:
            return done
        if done != last_done:
            last_done, last_change = done, now
        if elapsed > timeout:
            note(f"timed out after {timeout}s with {done}/{expected} assigned")
            return done
        if not pushing() and now - last_change > stall_after:
            note(f"no progress for {stall_after}s after the pushes ended: {done}/{expected} assigned")
            return done
        if elapsed - last_note >= 5:
            note(f"{elapsed:5.1f}s: {done}/{expected} assigned")
            last_note = elapsed
        time.sleep(0.5)


def assignment_phase(args, env, var_dir, key, figures, failures):
    from django.db import connection

    run = f"asg{os.getpid()}{int(time.time()) % 100000}"
    events = negative_events(run, args.tickets)
    bodies = []
    for n, start in enumerate(range(0, len(events), args.batch_size)):
        chunk = events[start : start + args.batch_size]
        offset = (n * args.batch_size / args.rate) if args.rate else 0.0
        bodies.append((offset, len(chunk), json_dumps({"events": chunk})))
    warmup = [(0.0, 1, json_dumps(e)) for e in negative_events(run, 4 * args.gunicorn_workers, positive=True)]
    del events

    worker_env = dict(env)
    if args.celery_db_reuse_max:
        worker_env.update(settings_overlay(var_dir, args.celery_db_reuse_max))
    with (
        celery_workers(worker_env, layout=args.layout, pool=args.pool, log_dir=var_dir) as workers,
        gunicorn(env, workers=args.gunicorn_workers, log_dir=var_dir) as server,
    ):
        note(f"{len(workers)} celery worker(s) ready; {server.description} at {server.url}")
        # Untimed: positive events open no ticket but load every gunicorn worker's code paths.
        run_parallel(
            push_job,
            [(server.url, key, warmup[i :: args.clients], time.time()) for i in range(args.clients)],
            mode="thread",
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            if cursor.fetchone()[0]:
                raise RuntimeError("the warm-up opened tickets")
            load_before = os.getloadavg()[0]
            cpu_before = ([w.cpu_seconds() for w in workers], server.worker_cpu_seconds())
            counters_before = database_counters(cursor)

            note(f"pushing {args.tickets} negative events in {len(bodies)} batches from {args.clients} clients")
            start_at = time.time() + 0.2
            results = {}

            def push():
                jobs = [(server.url, key, bodies[i :: args.clients], start_at) for i in range(args.clients)]
                try:
                    results["records"] = [r for recs in run_parallel(push_job, jobs, mode="thread") for r in recs]
                except BaseException as exc:  # noqa: BLE001 — re-raised in the main thread below
                    results["error"] = exc

            pusher = threading.Thread(target=push)
            pusher.start()
            assigned = wait_all_assigned(
                cursor, args.tickets, timeout=args.assign_timeout, started=start_at, pushing=pusher.is_alive
            )
            pusher.join()
            if "error" in results:
                raise RuntimeError(f"pushing failed: {results['error']!r}") from results["error"]
            records = results["records"]
            first_push = min(r[0] for r in records)
            last_response = max(r[1] for r in records)

            cpu_after = ([w.cpu_seconds() for w in workers], server.worker_cpu_seconds())
            counters_after = database_counters(cursor)

            bad_requests = [r for r in records if r[2] != 200 or r[5]]
            for r in bad_requests[:5]:
                note(f"push failed: HTTP {r[2]} {r[5]}")
            pushed_ids = {t for r in records for t in r[4]}
            collect_assignment_figures(cursor, args, first_push, last_response, pushed_ids, figures, failures)
            if bad_requests:
                failures.append(f"{len(bad_requests)} push requests failed")
            wall = max(time.time() - first_push, 1e-9)
            figure("assigned_rows", assigned, "rows")
            # Where the CPU went (a busy machine inflates CPU seconds too, but less than wall time).
            main_cpu = sum(a[0] - b[0] for a, b in zip(cpu_after[0], cpu_before[0], strict=True))
            pool_cpu = sum(a[1] - b[1] for a, b in zip(cpu_after[0], cpu_before[0], strict=True))
            celery_cpu, gunicorn_cpu = main_cpu + pool_cpu, cpu_after[1] - cpu_before[1]
            figure("celery_cpu", 100 * celery_cpu / wall, "% of a core")
            figure("celery_cpu_per_ticket", 1000 * celery_cpu / max(assigned, 1), "ms")
            if args.pool == "prefork":
                figure("celery_pool_child_cpu_per_ticket", 1000 * pool_cpu / max(assigned, 1), "ms")
            figure("gunicorn_cpu", 100 * gunicorn_cpu / wall, "% of a core")
            figure("gunicorn_cpu_per_ticket", 1000 * gunicorn_cpu / max(len(pushed_ids), 1), "ms")
            figure("postgres_sessions_opened", counters_after[0] - counters_before[0], "sessions")
            figure("postgres_commits", counters_after[1] - counters_before[1], "transactions")
            figure("machine_load_1m_before_push", load_before, "load")
            figure("machine_load_1m_after_assign", os.getloadavg()[0], "load")
        for worker in workers:
            for line in worker.log_path.read_text(errors="replace").splitlines():
                if " ERROR" in line or "Traceback" in line:
                    failures.append(f"worker log: {line[:200]}")
                    break


def collect_assignment_figures(cursor, args, first_push, last_response, pushed_ids, figures, failures):
    figure("tickets_pushed", len(pushed_ids), "tickets")
    figure("ingest_seconds", last_response - first_push, "s")
    if len(pushed_ids) != args.tickets:
        failures.append(f"{len(pushed_ids)} tickets opened by the pushes, expected {args.tickets}")

    cursor.execute(
        "SELECT extract(epoch FROM e.created_at), extract(epoch FROM e.created_at - i.received_at) "
        "FROM tickets_ticketevent e JOIN reviews_inboundevent i ON i.ticket_id = e.ticket_id "
        "WHERE e.kind = 'assigned'"
    )
    rows = cursor.fetchall()
    assigned_at = [float(r[0]) for r in rows]
    latencies = [float(r[1]) for r in rows]
    if assigned_at:
        figures["all_assigned"] = max(assigned_at) - first_push
        figure("all_assigned_seconds", figures["all_assigned"], "s")
        span = max(assigned_at) - min(assigned_at)
        figure("assign_rate", len(assigned_at) / span if span > 0 else float(len(assigned_at)), "tickets/s")
        figures["p95"] = percentile(latencies, 95)
        figure("event_to_assigned_p50", percentile(latencies, 50), "s")
        figure("event_to_assigned_p95", figures["p95"], "s")
        figure("event_to_assigned_max", max(latencies), "s")
    if len(rows) != args.tickets:
        failures.append(f"{len(rows)} assigned rows joined to their inbound event, expected {args.tickets}")

    cursor.execute(
        "SELECT p.user_id, p.capacity, count(t.id) FROM tickets_agentprofile p "
        "LEFT JOIN tickets_ticket t ON t.assignee_id = p.user_id AND t.status = ANY(%s) "
        "WHERE p.role = 'agent' GROUP BY p.user_id, p.capacity",
        [sorted(OPEN)],
    )
    loads = cursor.fetchall()
    figures["spread"] = max(n for _u, _c, n in loads) - min(n for _u, _c, n in loads)
    figures["over"] = sum(1 for _u, capacity, n in loads if n > capacity)
    figure("load_min", min(n for _u, _c, n in loads), "tickets")
    figure("load_max", max(n for _u, _c, n in loads), "tickets")
    figure("load_spread", figures["spread"], "tickets")
    figure("over_capacity", figures["over"], "agents")

    cursor.execute(
        "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1), "
        "count(*) FILTER (WHERE n = 1 AND assignee_id IS NOT NULL AND status = 'assigned'), "
        "array_agg(id) FILTER (WHERE n <> 1) "
        "FROM (SELECT t.id, t.assignee_id, t.status, count(e.id) AS n FROM tickets_ticket t "
        "LEFT JOIN tickets_ticketevent e ON e.ticket_id = t.id AND e.kind = 'assigned' "
        "GROUP BY t.id) AS per_ticket"
    )
    one, zero, many, consistent, odd_ids = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM tickets_ticketevent WHERE kind = 'pool'")
    pool_rows = cursor.fetchone()[0]
    figure("tickets_with_one_assigned_row", one, "tickets")
    figure("tickets_never_assigned", zero, "tickets")
    figure("tickets_assigned_twice", many, "tickets")
    figure("pool_waits", pool_rows, "rows")
    figures["exactly_once"] = one == args.tickets and zero == 0 and many == 0 and consistent == one
    if not figures["exactly_once"]:
        failures.append(f"exactly-once assignment failed: {one} once, {zero} never, {many} more than once")
        note(f"tickets not assigned exactly once (first 20): {(odd_ids or [])[:20]}")
    if consistent != one:
        failures.append(f"{one - consistent} assigned tickets lack an assignee or the assigned status")


OPEN = {"new", "assigned", "in_progress", "waiting_buyer", "escalated", "reopened"}


# SLA phase --------------------------------------------------------------------------------------

CLOCK_NAMES = ("first_contact_warning", "first_contact_breach", "resolution_warning", "resolution_breach")


def sla_tickets(shop, agents, count, due_now, now, rng):
    """(reviews, tickets) unsaved: `count` open tickets opened over the last 28 days with the
    default Taobao clocks (first contact 60 min, warning at 75 %; resolution 29 days, i.e. the
    30-day revision window minus a day). Every clock already past is marked fired; `due_now`
    tickets (a quarter per clock) have one clock that came due in the last minute, unfired."""
    from reviews.models import Review
    from tickets.models import Ticket

    fc, fc_warn = timedelta(minutes=60), timedelta(minutes=45)
    res = timedelta(days=29)
    res_warn = res * 0.75
    quiet = timedelta(minutes=30)  # no general ticket's clock falls due in the next half hour
    reviews, tickets = [], []
    for i in range(count):
        agent = agents[i % len(agents)]
        if i < due_now:
            clock = CLOCK_NAMES[i % 4]
            lag = timedelta(seconds=rng.uniform(1, 60))
            opened = now - lag - {0: fc_warn, 1: fc, 2: res_warn, 3: res}[i % 4]
            contacted = clock.startswith("resolution")
        else:
            while True:
                opened = now - timedelta(seconds=rng.uniform(0, 28 * 86400))
                times = (opened + fc_warn, opened + fc, opened + res_warn, opened + res)
                if not any(now - timedelta(minutes=2) <= t <= now + quiet for t in times):
                    break
            contacted = now - opened > fc or rng.random() < 0.5
        status = rng.choice(["in_progress", "in_progress", "waiting_buyer"]) if contacted else "assigned"
        review = Review(
            shop=shop,
            platform="taobao",
            review_id=f"sla-{i}",
            state="active",
            tier="negative",
            stars=1,
            content=NEGATIVE[i % len(NEGATIVE)],
            rated_at=opened,
            state_occurred_at=opened,
        )
        ticket = Ticket(
            review=review,
            shop=shop,
            platform="taobao",
            tier="negative",
            status=status,
            assignee_id=agent,
            created_at=opened,
            first_contact_warn_at=opened + fc_warn,
            first_contact_due_at=opened + fc,
            resolution_warn_at=opened + res_warn,
            resolution_due_at=opened + res,
            first_contact_at=opened + timedelta(minutes=rng.uniform(3, 44)) if contacted else None,
        )
        # Clocks already past were fired by earlier sweeps, except the one due now.
        for name, at_field, fired_field in (
            ("first_contact_warning", "first_contact_warn_at", "first_contact_warned_at"),
            ("first_contact_breach", "first_contact_due_at", "first_contact_breached_at"),
            ("resolution_warning", "resolution_warn_at", "resolution_warned_at"),
            ("resolution_breach", "resolution_due_at", "resolution_breached_at"),
        ):
            at = getattr(ticket, at_field)
            running = ticket.first_contact_at is None or not name.startswith("first_contact")
            if at <= now and running and not (i < due_now and name == CLOCK_NAMES[i % 4]):
                setattr(ticket, fired_field, at)
                if name.endswith("breach"):
                    ticket.sla_state = "breached"
                elif ticket.sla_state == "ok":
                    ticket.sla_state = "warning"
        reviews.append(review)
        tickets.append(ticket)
    return reviews, tickets


def sla_phase(args, shop, figures, failures):
    from django.core import mail
    from django.db import connection
    from django.utils import timezone

    from reviews.models import Review
    from tickets.models import AgentProfile, Ticket
    from tickets.sla import sla_sweep

    rng = random.Random(7)
    agents = list(AgentProfile.objects.filter(role="agent").values_list("user_id", flat=True))
    note(f"inserting {args.sla_tickets} open tickets with their reviews")
    t0 = time.perf_counter()
    now = timezone.now()
    reviews, tickets = sla_tickets(shop, agents, args.sla_tickets, args.sla_due, now, rng)
    Review.objects.bulk_create(reviews, batch_size=5000)
    for ticket in tickets:
        ticket.review_id = ticket.review.pk
    Ticket.objects.bulk_create(tickets, batch_size=5000)
    del reviews, tickets
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE status = ANY(%s)", [sorted(OPEN)])
        open_tickets = cursor.fetchone()[0]
    note(f"inserted in {time.perf_counter() - t0:.1f}s; table analyzed")
    figure("sla_open_tickets", open_tickets, "tickets")
    figure("sla_due_now", args.sla_due, "clocks")

    mail.outbox = []
    t0 = time.perf_counter()
    fired = sla_sweep()
    elapsed = time.perf_counter() - t0
    figures["sweep"] = elapsed
    total = sum(fired.values())
    figure("sla_sweep_100k_seconds", elapsed, "s")
    figure("sla_fired", total, "clocks")
    for name in CLOCK_NAMES:
        figure(f"sla_fired_{name}", fired.get(name, 0), "clocks")
    figure("sla_emails", len(getattr(mail, "outbox", [])), "e-mails")
    if total != args.sla_due:
        failures.append(f"the sweep fired {total} clocks, expected {args.sla_due}")

    idle = []
    for _ in range(5):
        t0 = time.perf_counter()
        again = sla_sweep()
        idle.append(time.perf_counter() - t0)
        if sum(again.values()):
            failures.append(f"a second sweep fired {sum(again.values())} clocks again")
    figure("sla_sweep_idle_seconds", statistics.median(idle), "s")
    figure("sla_sweep_idle_max_seconds", max(idle), "s")


# Main -------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4, help="concurrent push clients")
    parser.add_argument("--rate", type=float, default=0, help="events/s, paced per batch (0: burst)")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument(
        "--layout",
        choices=["two", "one"],
        default="two",
        help="two: 2 workers with --concurrency=1; one: 1 worker with --concurrency=2",
    )
    parser.add_argument("--pool", choices=["prefork", "solo"], default="prefork")
    parser.add_argument("--assign-timeout", type=float, default=1800)
    parser.add_argument("--sla-tickets", type=int, default=100_000)
    parser.add_argument("--sla-due", type=int, default=300, help="clocks due now (a multiple of 4)")
    parser.add_argument("--skip-sla", action="store_true")
    parser.add_argument(
        "--celery-db-reuse-max",
        type=int,
        default=0,
        help="experiment: run the workers with CELERY_DB_REUSE_MAX=N (a settings overlay; product unchanged)",
    )
    parser.add_argument("--log-dir", help="keep the gunicorn and celery logs here (default: a temporary directory)")
    parser.add_argument("--broker-url", help="a Redis database to use (and flush) as the broker")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_on_sigterm()
    figures, failures = {}, []
    machine = machine_summary()
    note(f"machine: {machine['nproc']} cores, {machine['memory_gib']} GiB, load {machine['load_1m']:.2f}")
    figure("machine_cores", machine["nproc"], "cores")
    figure("machine_load_1m_before", machine["load_1m"], "load")
    workers_desc = (
        "2 x celery worker --concurrency=1" if args.layout == "two" else "1 x celery worker --concurrency=2"
    ) + f" --pool={args.pool}"
    if args.celery_db_reuse_max:
        workers_desc += f", experiment CELERY_DB_REUSE_MAX={args.celery_db_reuse_max}"
    figure("celery", workers_desc, "")
    figure("push", f"{args.tickets} events, batches of {args.batch_size}, {args.clients} clients", "")
    figure("arrival", f"{args.rate:g} events/s" if args.rate else "burst", "")

    with contextlib.ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rd-bench-assign-")))
        if args.log_dir:  # keep the gunicorn and celery logs (and var files) for a look afterwards
            var_dir = Path(args.log_dir)
            var_dir.mkdir(parents=True, exist_ok=True)
        broker_url = stack.enter_context(broker_database(args.broker_url))
        database_url = stack.enter_context(fresh_database(prefix="rd_bench_assign"))
        env = server_env(
            database_url,
            var_dir,
            CELERY_BROKER_URL=broker_url,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
        note("migrating")
        manage(env, "migrate", "--noinput")
        key = create_shop_and_key(env, shop=SHOP)
        setup_django(env)
        from django.db import connections

        shop = create_team(SHOP, agents=args.agents, capacity=args.capacity)
        try:
            assignment_phase(args, env, var_dir, key, figures, failures)
            if not args.skip_sla:
                sla_phase(args, shop, figures, failures)
        finally:
            connections.close_all()

    figure("machine_load_1m_after", os.getloadavg()[0], "load")
    for problem in failures:
        note(f"check failed: {problem}")
    figure("errors", len(failures), "count")
    checks = [
        figures.get("all_assigned", float("inf")) <= TARGET_ALL_ASSIGNED_S and figures.get("exactly_once", False),
        figures.get("spread", float("inf")) <= TARGET_SPREAD,
        figures.get("over", 1) == 0,
        figures.get("p95", float("inf")) <= TARGET_EVENT_TO_ASSIGNED_P95_S,
    ]
    if not args.skip_sla:
        checks.append(figures.get("sweep", float("inf")) <= TARGET_SWEEP_S)
    met = sum(checks)
    print(f"targets: {met} met, {len(checks) - met} missed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
