"""Page benchmark: server-rendered pages on gunicorn + PostgreSQL, measured as a logged-in person.

    .venv/bin/python bench/pages.py                       # fresh database, 200,000 tickets, gunicorn
    .venv/bin/python bench/pages.py --url http://127.0.0.1:8000 --username agent00 --password …
    .venv/bin/python bench/pages.py --tickets 20000 --requests 20     # a quick run while developing

Workspace pages (issue 4): the agent's queue (`/`), the queue with a filter, the queue with a
keyword search (`?q=`) and ticket pages. Targets: queue p95 ≤ 100 ms (each of the three queue
variants), ticket page p95 ≤ 80 ms. The pool and the supervisor's all-tickets list are measured
too, without a target. (The statistics pages of issue 6 are in bench/stats_pages.py.)

Set-up (no arguments): a fresh database `rd_bench_pages_ws_<pid>_<hex>`, migrated, static files
collected; three shops, five agents and a supervisor made through Django (real password hashes);
then 200,000 tickets with their reviews, buyers, timeline rows, contact attempts and remedies
bulk-inserted in SQL (INSERT … SELECT FROM generate_series, about half a minute). The spread is
a real desk's: tickets over the last two years, almost all closed; each agent holds 30 open
tickets; 50 wait in the pool. gunicorn (2 sync workers, one per core, DEBUG off) serves it; it is
stopped and the database dropped at the end, also on failure or Ctrl-C.

Measurement: one client, one request at a time (latency, not throughput), a `requests.Session`
logged in through the login form (CSRF token and session cookie, like a browser; the client
plays the TLS proxy's part, see log_in). An untimed warm-up loads every worker first. Each page
is one function below (`measure_*`), registered in PAGES, so other pages can be added the same
way. Figures go to stdout as `name: value unit`, ending with `targets: N met, M missed`; progress
goes to stderr. Exit status 1 when a page answered anything but 200.
"""

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    NEGATIVE,
    exit_on_sigterm,
    figure,
    fresh_database,
    gunicorn,
    machine_summary,
    manage,
    note,
    percentile,
    pg_connect,
    process_cpu_seconds,
    server_env,
)

TICKETS = 200_000
AGENTS = 5
OPEN_PER_AGENT = 30
POOL = 50
PASSWORD = "bench-pages-pw-2026"  # noqa: S105 — the throw-away benchmark users'
# Review text (two), a buyer nick and an order id: what agents type into the search box.
SEARCH_TERMS = ["压扁", "发错货", "柠檬1234", "1000000000000123"]

TARGET_QUEUE_P95_MS = 100
TARGET_TICKET_P95_MS = 80


# Data -------------------------------------------------------------------------------------------

# The few rows that need Django (password hashes, defaults): made by `manage.py shell`.
SETUP = f"""
import json
from django.contrib.auth import get_user_model
from reviews.models import Shop
from tickets.choices import Role
from tickets.models import AgentProfile

User = get_user_model()
shops = [
    Shop.objects.create(external_id="bench-tb-1", platform="taobao", name="基准旗舰店"),
    Shop.objects.create(external_id="bench-tb-2", platform="taobao", name="基准专营店"),
    Shop.objects.create(external_id="bench-jd-1", platform="jd", name="基准京东自营"),
]
agents = []
for i in range({AGENTS}):
    user = User.objects.create_user(f"agent{{i:02d}}", password="{PASSWORD}", first_name=f"客服{{i:02d}}")
    profile = AgentProfile.objects.create(user=user, role=Role.AGENT, on_duty=True, capacity=40)
    profile.shops.set(shops)
    agents.append(user.pk)
boss = User.objects.create_user("boss", password="{PASSWORD}")
AgentProfile.objects.create(user=boss, role=Role.SUPERVISOR, on_duty=True).shops.set(shops)
print(json.dumps({{"shops": [s.pk for s in shops], "platforms": [s.platform for s in shops], "agents": agents}}))
"""

# Values for NOT NULL columns a fill below does not name (columns colleagues add later).
_TYPE_DEFAULTS = {
    "character varying": "''",
    "text": "''",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric": "0",
    "double precision": "0",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "uuid": "gen_random_uuid()",
}


def insert_select(cursor, table, values, source):
    """INSERT INTO table (columns) SELECT expressions FROM source; NOT NULL columns without a
    database default that `values` leaves out get a neutral value of their type."""
    cursor.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s",
        [table],
    )
    values = dict(values)
    for name, data_type, nullable, default in cursor.fetchall():
        if name in values or name == "id" or nullable == "YES" or default is not None:
            continue
        if data_type not in _TYPE_DEFAULTS:
            raise RuntimeError(f"{table}.{name}: no neutral value for a NOT NULL {data_type}")
        values[name] = _TYPE_DEFAULTS[data_type]
    columns = ", ".join(f'"{c}"' for c in values)
    started = time.perf_counter()
    cursor.execute(f'INSERT INTO "{table}" ({columns}) SELECT {", ".join(values.values())} FROM {source}')  # noqa: S608 — our own SQL
    note(f"{table}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f}s")


def _sql_array(values):
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def fill(database_url, setup, tickets):
    """Bulk-insert `tickets` tickets with reviews, buyers, timelines, attempts and remedies.

    Ticket i (1…N) belongs to shop (i-1) % 3 and, on that shop's platform, to buyer
    1 + (i-1) % B (B = 3/4 N, a multiple of 3: a third of the buyers come back). The last
    AGENTS*OPEN_PER_AGENT + POOL tickets are open and recent; the rest closed over two years."""
    shops, platforms, agents = setup["shops"], setup["platforms"], setup["agents"]
    n = tickets
    n_buyers = (n * 3 // 4) // 3 * 3
    n_open = AGENTS * OPEN_PER_AGENT + POOL
    first_open = n - n_open + 1
    shop_of = f"({_sql_array([str(s) for s in shops])}::int[])[1 + (g.i - 1) % 3]"
    platform_of = f"({_sql_array(platforms)})[1 + (g.i - 1) % 3]"
    agent_of = f"({_sql_array([str(a) for a in agents])}::int[])[1 + g.i % {len(agents)}]"
    series = f"generate_series(1, {n}) AS g(i)"
    # Opened every ~5 minutes over two years; the open ones in the last ~25 hours.
    created = (
        f"CASE WHEN g.i >= {first_open} THEN now() - ({n} - g.i) * interval '6 minutes' "
        f"ELSE now() - interval '1 day' - ({first_open} - g.i) * interval '315 seconds' END"
    )
    connection = pg_connect(database_url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            insert_select(
                cursor,
                "contacts_buyer",
                {
                    "platform": f"({_sql_array(platforms)})[1 + (g.i - 1) % 3]",
                    "open_id": "'AAH' || md5(g.i::text)",
                    "nick": "(ARRAY['t','小','阿','木'])[1 + g.i % 4] || '***' || "
                    "(ARRAY['猫','鱼','丸子','柠檬','2019'])[1 + g.i % 5] || g.i",
                    "phone": "''",
                    "region": "(ARRAY['浙江省杭州市','广东省深圳市','北京市朝阳区','上海市浦东新区'])[1 + g.i % 4]",
                    "risk_level": "CASE WHEN g.i % 500 = 0 THEN 'high' ELSE 'low' END",
                    "risk_reasons": "'[]'::jsonb",
                    "created_at": "now() - interval '2 years'",
                    "updated_at": "now()",
                },
                f"generate_series(1, {n_buyers}) AS g(i)",
            )
            cursor.execute("SELECT min(id) FROM contacts_buyer")
            buyer0 = cursor.fetchone()[0]
            insert_select(
                cursor,
                "reviews_review",
                {
                    "shop_id": shop_of,
                    "platform": platform_of,
                    "review_id": "'rv' || g.i",
                    "state": "'active'",
                    "order_id": "(1000000000000000 + g.i)::text",
                    "sub_order_id": "''",
                    "buyer_id": f"{buyer0 - 1} + 1 + (g.i - 1) % {n_buyers}",
                    "item_id": "'68012345' || (g.i % 20)",
                    "item_sku": "'SKU-' || (g.i % 20)",
                    "item_title": "(ARRAY['明前龙井绿茶 250g 礼盒装','德化白瓷功夫茶具套装','纯棉短袖T恤 男款',"
                    "'20000毫安充电宝','东北五常大米 5kg'])[1 + g.i % 5]",
                    "item_sku_text": "''",
                    "item_price": "(59 + g.i % 200)::numeric",
                    "tier": "CASE WHEN g.i % 4 = 0 THEN 'neutral' ELSE 'negative' END",
                    "stars": "CASE WHEN g.i % 4 = 0 THEN 3 ELSE 1 END",
                    "dsr_description": "1 + g.i % 3",
                    "dsr_service": "1 + g.i % 4",
                    "dsr_logistics": "1 + g.i % 5",
                    "content": f"({_sql_array(NEGATIVE)})[1 + g.i % {len(NEGATIVE)}] || ' 订单' || g.i",
                    "image_count": "g.i % 4",
                    "rated_at": f"{created} - interval '10 minutes'",
                    "state_occurred_at": f"{created} - interval '10 minutes'",
                    "followup_content": "''",
                    "reply_content": "''",
                    "created_at": created,
                    "updated_at": created,
                },
                series,
            )
            cursor.execute("SELECT min(id) FROM reviews_review")
            review0 = cursor.fetchone()[0]
            # Open: agent k holds every 5th of the first AGENTS*OPEN_PER_AGENT open tickets;
            # the last POOL are unassigned. Closed: resolved or closed unresolved by an agent.
            # (g.i / 5) spreads statuses within each agent's share (g.i % 5 picks the agent).
            is_open = f"g.i >= {first_open}"
            in_pool = f"g.i > {n - POOL}"
            status = (
                f"CASE WHEN {in_pool} THEN 'new' WHEN {is_open} THEN "
                "(ARRAY['assigned','in_progress','in_progress','waiting_buyer','escalated'])[1 + (g.i / 5) % 5] "
                "WHEN (g.i / 5) % 5 < 3 THEN 'resolved' ELSE 'closed_unresolved' END"
            )
            contacted = f"({status}) NOT IN ('new', 'assigned')"
            insert_select(
                cursor,
                "tickets_ticket",
                {
                    "review_id": f"{review0 - 1} + g.i",
                    "shop_id": shop_of,
                    "platform": platform_of,
                    "tier": "CASE WHEN g.i % 4 = 0 THEN 'neutral' ELSE 'negative' END",
                    "status": status,
                    "assignee_id": f"CASE WHEN {in_pool} THEN NULL ELSE {agent_of} END",
                    "cause": f"CASE WHEN g.i % 3 = 0 AND g.i < {first_open} THEN "
                    "(ARRAY['slow_delivery','damaged','poor_quality','missing_wrong_item',"
                    "'not_as_described'])[1 + g.i % 5] ELSE '' END",
                    "outcome": f"CASE WHEN {is_open} THEN '' WHEN (g.i / 5) % 5 < 3 THEN "
                    "(ARRAY['revised_positive','deleted_by_buyer'])[1 + g.i % 2] ELSE "
                    "(ARRAY['buyer_refused','unreachable'])[1 + g.i % 2] END",
                    "outcome_verified": f"NOT ({is_open}) AND g.i % 2 = 0",
                    "sla_state": "CASE WHEN (g.i / 5) % 10 = 0 THEN 'breached' WHEN (g.i / 5) % 10 = 1 THEN 'warning' "
                    "ELSE 'ok' END",
                    "first_contact_due_at": f"{created} + interval '2 hours'",
                    "first_contact_warn_at": f"{created} + interval '90 minutes'",
                    "resolution_due_at": f"{created} + interval '27 days'",
                    "resolution_warn_at": f"{created} + interval '20 days'",
                    "first_contact_at": f"CASE WHEN {contacted} THEN {created} + interval '35 minutes' END",
                    "first_reached_at": f"CASE WHEN {contacted} AND g.i % 3 > 0 THEN {created} + interval '80 minutes' END",
                    "resolved_at": f"CASE WHEN NOT ({is_open}) AND (g.i / 5) % 5 < 3 THEN {created} + interval '2 days' END",
                    "closed_at": f"CASE WHEN NOT ({is_open}) THEN {created} + interval '2 days' END",
                    "reopen_count": "0",
                    "created_at": created,
                    "updated_at": created,
                },
                series,
            )
            # Timeline: opened + assigned for every ticket, closed for the closed ones; the open
            # ones also carry a working day's worth of events (status, attempts, notes, cause).
            kinds = (
                "(ARRAY['opened','assigned','closed','status_changed','contact_attempt','contact_attempt',"
                "'note','cause_set','remedy','note'])[k.k]"
            )
            insert_select(
                cursor,
                "tickets_ticketevent",
                {
                    "ticket_id": "t.id",
                    "kind": kinds,
                    "actor_id": "CASE WHEN k.k IN (1, 2) THEN NULL ELSE t.assignee_id END",
                    "actor_label": "CASE WHEN k.k = 1 THEN 'API key: bench' WHEN k.k = 2 THEN 'assignment' ELSE '' END",
                    "from_status": "CASE WHEN k.k = 2 THEN 'new' WHEN k.k = 3 THEN 'in_progress' "
                    "WHEN k.k = 4 THEN 'assigned' ELSE '' END",
                    "to_status": "CASE WHEN k.k = 1 THEN 'new' WHEN k.k = 2 THEN 'assigned' WHEN k.k = 3 THEN t.status "
                    "WHEN k.k = 4 THEN 'in_progress' ELSE '' END",
                    "message": "CASE WHEN k.k = 1 THEN 'Opened from a Negative review.' "
                    "WHEN k.k = 2 THEN 'Assigned: fewest open tickets.' "
                    "WHEN k.k IN (5, 6) THEN 'Phone: No answer' WHEN k.k IN (7, 10) THEN '买家说快递压坏了，已登记补发' "
                    "ELSE '' END",
                    "data": 'CASE WHEN k.k = 2 THEN \'{"rule": "fewest_open", "candidates": '
                    '[{"agent": 1, "load": 3}, {"agent": 2, "load": 4}]}\'::jsonb '
                    "WHEN k.k = 3 THEN jsonb_build_object('outcome', t.outcome, 'verified', false) "
                    'WHEN k.k IN (5, 6) THEN \'{"channel": "phone", "result": "no_answer", "note": ""}\'::jsonb '
                    "ELSE '{}'::jsonb END",
                    "created_at": "t.created_at + k.k * interval '7 minutes'",
                },
                "tickets_ticket t CROSS JOIN generate_series(1, 10) AS k(k) "
                "WHERE k.k <= 2 OR (k.k = 3 AND t.closed_at IS NOT NULL) "
                "OR (k.k >= 4 AND t.closed_at IS NULL AND t.assignee_id IS NOT NULL)",
            )
            worked = "t.closed_at IS NULL AND t.status NOT IN ('new', 'assigned')"
            insert_select(
                cursor,
                "tickets_contactattempt",
                {
                    "ticket_id": "t.id",
                    "agent_id": "t.assignee_id",
                    "channel": "(ARRAY['phone','im'])[k.k]",
                    "result": "(ARRAY['no_answer','reached'])[k.k]",
                    "note": "''",
                    "created_at": "t.created_at + k.k * interval '35 minutes'",
                },
                f"tickets_ticket t CROSS JOIN generate_series(1, 2) AS k(k) WHERE {worked}",
            )
            insert_select(
                cursor,
                "tickets_remedy",
                {
                    "ticket_id": "t.id",
                    "kind": "'partial_refund'",
                    "amount": "(10 + t.id % 80)::numeric",
                    "status": "CASE WHEN t.id % 80 > 40 THEN 'pending_approval' ELSE 'offered' END",
                    "requested_status": "'offered'",
                    "note": "'破损部分退款'",
                    "compliance_reasons": "'[]'::jsonb",
                    "offered_by_id": "t.assignee_id",
                    "created_at": "t.created_at + interval '90 minutes'",
                },
                f"tickets_ticket t WHERE {worked} AND t.id % 3 = 0",
            )
        connection.autocommit = True
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute("VACUUM ANALYZE")
            note(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f}s")
    finally:
        connection.close()


# The client ------------------------------------------------------------------------------------


@dataclass
class Client:
    """A logged-in browser-like session against base_url."""

    base_url: str
    session: object
    failures: list = field(default_factory=list)

    def get(self, path):
        """GET path; returns (milliseconds, response)."""
        started = time.perf_counter()
        response = self.session.get(self.base_url + path, timeout=60, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            self.failures.append(f"GET {path}: {response.status_code}")
        return elapsed, response


def _unsecure(session):
    """Send the secure cookies over plain HTTP too (the TLS proxy's side of the loopback)."""
    for cookie in session.cookies:
        cookie.secure = False


def log_in(base_url, username, password):
    """Log in through the login form, as a browser does: GET for the CSRF cookie, then POST.

    The server runs as in production behind a TLS proxy (DEBUG=0: secure cookies, HTTPS-only
    CSRF checks), so the client says what the proxy would (X-Forwarded-Proto: https) and keeps
    sending the secure cookies over the loopback's plain HTTP."""
    import requests

    session = requests.Session()
    session.headers["X-Forwarded-Proto"] = "https"
    https_url = "https://" + base_url.split("://", 1)[1]
    page = session.get(f"{base_url}/login/", timeout=60)
    _unsecure(session)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise RuntimeError(f"no login form at {base_url}/login/ ({page.status_code})")
    answer = session.post(
        f"{base_url}/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": ""},
        headers={"Referer": f"{https_url}/login/", "Origin": https_url},
        timeout=60,
        allow_redirects=False,
    )
    _unsecure(session)
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login as {username} failed ({answer.status_code})")
    return Client(base_url, session)


class CpuMeter:
    """CPU seconds used by gunicorn (master and workers) and by the PostgreSQL backends of the
    benchmark database, read from /proc: what a page costs, whatever else the shared machine
    runs. Django keeps its connections open (CONN_MAX_AGE), so the backends live on between
    requests; one that appears meanwhile counts from zero."""

    def __init__(self, server, database_url):
        self.server, self.database_url = server, database_url

    def snapshot(self):
        connection = pg_connect(self.database_url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                backends = {pid: process_cpu_seconds(pid) for (pid,) in cursor.fetchall()}
        finally:
            connection.close()
        return self.server.worker_cpu_seconds(), backends

    @staticmethod
    def spent(before, after):
        """(gunicorn, PostgreSQL) CPU seconds between two snapshots."""
        return after[0] - before[0], sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())


def timed(client, paths, requests_per_page):
    """Request the paths round-robin `requests_per_page` times; returns the milliseconds."""
    return [client.get(paths[i % len(paths)])[0] for i in range(requests_per_page)]


def report(name, times, cpu=None, target=None):
    """Print p50/p95/max of `times` (and the CPU per request, when measured); returns True/False
    against the p95 target (None: no target)."""
    p50, p95 = percentile(times, 50), percentile(times, 95)
    figure(f"{name}_requests", len(times))
    figure(f"{name}_p50", p50, "ms")
    figure(f"{name}_p95", p95, "ms")
    figure(f"{name}_max", max(times), "ms")
    if cpu is not None:
        figure(f"{name}_app_cpu_per_request", cpu[0] * 1000 / len(times), "ms")
        figure(f"{name}_db_cpu_per_request", cpu[1] * 1000 / len(times), "ms")
    if target is None:
        return None
    figure(f"{name}_p95_target", target, "ms")
    return p95 <= target


# Workspace pages (issue 4): one function per page ----------------------------------------------


def measure_queue(ctx):
    return report("queue", *ctx.timed(ctx.agent, ["/"]), target=TARGET_QUEUE_P95_MS)


def measure_queue_filtered(ctx):
    paths = ["/?status=in_progress", "/?sla=ok&tier=negative", "/?shop=bench-tb-1", "/?status=waiting_buyer&sla=ok"]
    return report("queue_filtered", *ctx.timed(ctx.agent, paths), target=TARGET_QUEUE_P95_MS)


def measure_queue_search(ctx):
    paths = [f"/?q={quote(term)}" for term in ctx.search_terms]
    return report("queue_search", *ctx.timed(ctx.agent, paths), target=TARGET_QUEUE_P95_MS)


def measure_ticket_page(ctx):
    paths = [f"/tickets/{ticket_id}/" for ticket_id in ctx.ticket_ids]
    return report("ticket_page", *ctx.timed(ctx.agent, paths), target=TARGET_TICKET_P95_MS)


def measure_pool(ctx):
    """No target: the pool is opened far less often than the queue."""
    return report("pool", *ctx.timed(ctx.agent, ["/pool/"], max(ctx.requests // 4, 20)))


def measure_all_tickets(ctx):
    """No target: the supervisor's list of every ticket (200,000 rows to count and page)."""
    if ctx.supervisor is None:
        return None
    paths = ["/tickets/", "/tickets/?status=resolved", "/tickets/?assignee=none", f"/tickets/?q={quote('柠檬1234')}"]
    return report("all_tickets", *ctx.timed(ctx.supervisor, paths, max(ctx.requests // 4, 20)))


# (name, function): add pages here; each prints its figures and returns True (target met), False
# (missed) or None (no target).
PAGES = [
    ("queue", measure_queue),
    ("queue_filtered", measure_queue_filtered),
    ("queue_search", measure_queue_search),
    ("ticket_page", measure_ticket_page),
    ("pool", measure_pool),
    ("all_tickets", measure_all_tickets),
]


@dataclass
class Context:
    agent: Client
    supervisor: Client | None
    ticket_ids: list
    search_terms: list
    requests: int
    cpu_meter: CpuMeter | None = None

    def timed(self, client, paths, requests=None):
        """(milliseconds of each request, (gunicorn, PostgreSQL) CPU seconds or None)."""
        before = self.cpu_meter.snapshot() if self.cpu_meter else None
        times = timed(client, paths, requests or self.requests)
        cpu = CpuMeter.spent(before, self.cpu_meter.snapshot()) if self.cpu_meter else None
        return times, cpu


def queue_ticket_ids(client):
    _ms, response = client.get("/")
    return [int(i) for i in dict.fromkeys(re.findall(r'data-ticket-id="(\d+)"', response.text))]


def run_pages(args, base_url, cpu_meter=None):
    agent = log_in(base_url, args.username, args.password)
    supervisor = log_in(base_url, args.supervisor, args.password) if args.supervisor else None
    ticket_ids = queue_ticket_ids(agent)
    if not ticket_ids:
        raise RuntimeError(f"{args.username}'s queue is empty: nothing to open")
    figure("queue_rows", len(ticket_ids))
    ctx = Context(agent, supervisor, ticket_ids, args.q or SEARCH_TERMS, args.requests, cpu_meter)
    note("warming up")
    warm = ["/", "/?status=in_progress", f"/?q={quote(SEARCH_TERMS[0])}", "/pool/"] * 3
    for path in warm + [f"/tickets/{i}/" for i in ticket_ids[:6]]:
        agent.get(path)
    results = []
    selected = set(args.pages.split(",")) if args.pages else None
    for name, measure in PAGES:
        if selected is not None and name not in selected:
            continue
        note(f"measuring {name}")
        results.append(measure(ctx))
    failures = agent.failures + (supervisor.failures if supervisor else [])
    figure("errors", len(failures))
    for failure in failures[:10]:
        note(failure)
    return results, failures


# Main -------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_argument_group("target (default: a fresh database and gunicorn started here)")
    target.add_argument("--url", help="base URL of a running ReviewDesk")
    target.add_argument("--username", default="agent00", help="an agent with open tickets (with --url)")
    target.add_argument("--password", default=PASSWORD)
    target.add_argument("--supervisor", default="boss", help="a supervisor for the all-tickets page ('' to skip)")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--q", action="append", help="search term (repeatable; default: a built-in mix)")
    parser.add_argument("--pages", help="comma-separated page names to measure (default: all)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_on_sigterm()
    machine = machine_summary()
    figure("nproc", machine["nproc"])
    figure("load_1m_before", machine["load_1m"])
    with contextlib.ExitStack() as stack:
        cpu_meter = None
        if args.url:
            base_url = args.url.rstrip("/")
        else:
            var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rd-bench-pages-")))
            database_url = stack.enter_context(fresh_database(prefix="rd_bench_pages_ws"))
            env = server_env(database_url, var_dir, CELERY_BROKER_URL="filesystem://")
            note("migrating")
            manage(env, "migrate", "--noinput")
            # DEBUG=0 serves hashed static names from the manifest, as in production.
            manage(env, "collectstatic", "--noinput")
            setup = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
            started = time.perf_counter()
            fill(database_url, setup, args.tickets)
            figure("fill_seconds", time.perf_counter() - started, "s")
            figure("tickets", args.tickets)
            server = stack.enter_context(gunicorn(env, workers=args.workers, log_dir=var_dir))
            note(f"{server.description} at {server.url}")
            base_url = server.url
            cpu_meter = CpuMeter(server, database_url)
        results, failures = run_pages(args, base_url, cpu_meter)
    figure("load_1m_after", machine_summary()["load_1m"])
    met = sum(1 for r in results if r is True)
    missed = sum(1 for r in results if r is False)
    print(f"targets: {met} met, {missed} missed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
