"""Page and statistics latency benchmark (issue 6, `bench/stats_pages.py`): p50/p95 of the supervisor
dashboard and the statistics API over 90 days of a million-review demo data set.

    .venv/bin/python bench/stats_pages.py                        # seed 1,000,000 reviews, measure, drop
    .venv/bin/python bench/stats_pages.py --reviews 20000 --requests 20     # a quick run while developing
    .venv/bin/python bench/stats_pages.py --database-url postgres://…/rd_bench_pages_keep --skip-seed
                                                             # measure an already seeded database
    .venv/bin/python bench/stats_pages.py --pages dashboard,stats_summary   # some pages only

Set-up: a fresh PostgreSQL database (dropped at the end whatever happens, unless --keep),
migrated, filled by `manage.py seed_demo --reviews N` (timed: the seed target is under 10
minutes for a million), vacuumed and analysed, served by gunicorn (2 sync workers, DEBUG off). The caller is the demo
supervisor (all three shops), with a session made directly in the session store.

Each measured page is a function `measure_<name>(client, ctx)` that returns request latencies in
milliseconds; PAGES lists them (the ticket export, a download, is timed but has no target), so a page (queue, ticket page…) is added with one function and
one entry. Requests run one after another from one keep-alive client (latency, not throughput),
after a few warm-up requests; the period is the last 90 days of the data set, and the
breakdowns cycle through agent, shop, platform, cause, sku and day. Figures go to stdout as
`name: value unit`, ending with `targets: N met, M missed` (p95 ≤ 300 ms each).
"""

import argparse
import contextlib
import http.client
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402
    exit_on_sigterm,
    figure,
    fresh_database,
    gunicorn,
    machine_summary,
    manage,
    note,
    percentile,
    pg_connect,
    server_env,
)

TARGET_P95_MS = 300
BREAKDOWNS = ("agent", "shop", "platform", "cause", "sku", "day")


class Client:
    """A keep-alive GET client carrying a session cookie."""

    def __init__(self, base_url, session_key):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Cookie": f"sessionid={session_key}", "Accept-Language": "zh-hans"}
        self.conn = None

    def get(self, path, params=None):
        url = path + ("?" + urlencode(params) if params else "")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            started = time.perf_counter()
            try:
                self.conn.request("GET", url, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 0:
                    continue
                raise
            elapsed = (time.perf_counter() - started) * 1000
            if response.will_close:
                self.close()
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status} {body[:300]!r}")
            return elapsed, body
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _timed(client, path, params_list, requests, warmup):
    for params in params_list[:warmup]:
        client.get(path, params)
    return [client.get(path, params_list[i % len(params_list)])[0] for i in range(requests)]


# Measured pages -------------------------------------------------------------------------------


def measure_dashboard(client, ctx):
    """The supervisor dashboard, all shops, 90 days."""
    return _timed(client, "/dashboard/", [ctx["period"]], ctx["requests"], ctx["warmup"])


def measure_stats_summary(client, ctx):
    """GET /api/v1/stats/summary/ over 90 days."""
    return _timed(client, "/api/v1/stats/summary/", [ctx["period"]], ctx["requests"], ctx["warmup"])


def measure_stats_breakdown(client, ctx):
    """GET /api/v1/stats/breakdown/ over 90 days, cycling through every `by`."""
    params = [{**ctx["period"], "by": by} for by in BREAKDOWNS]
    return _timed(client, "/api/v1/stats/breakdown/", params, ctx["requests"], ctx["warmup"])


def measure_tickets_export(client, ctx):
    """The whole ticket list as CSV (every ticket of the data set, streamed): three downloads."""
    latencies = []
    for _ in range(3):
        elapsed, body = client.get("/dashboard/tickets.csv")
        latencies.append(elapsed)
    ctx["export_rows"] = body.count(b"\n") - 1
    ctx["export_mib"] = len(body) / 1024 / 1024
    return latencies


PAGES = {
    "dashboard": measure_dashboard,
    "stats_summary": measure_stats_summary,
    "stats_breakdown": measure_stats_breakdown,
    "tickets_export": measure_tickets_export,
}
# Pages held to the p95 target; the export is a download, timed for the record.
TARGETED = {"dashboard", "stats_summary", "stats_breakdown"}


# Set-up -----------------------------------------------------------------------------------------

_SESSION_SCRIPT = """
from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.get(username="supervisor")
store = SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print(store.session_key)
"""


def _last_rated_day(env):
    out = manage(
        env,
        "shell",
        "-c",
        "from django.utils import timezone; from reviews.models import Review; from django.db.models import Max; "
        "print(timezone.localtime(Review.objects.aggregate(m=Max('rated_at'))['m']).date())",
    )
    return date.fromisoformat(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="Timed requests per page (default 60).")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--days", type=int, default=90, help="Length of the measured period (default 90).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", default=",".join(PAGES), help=f"Comma-separated: {', '.join(PAGES)}.")
    parser.add_argument("--database-url", help="Use this database instead of a fresh one (never dropped).")
    parser.add_argument("--skip-seed", action="store_true", help="The database is seeded already.")
    parser.add_argument("--keep", action="store_true", help="Do not drop the fresh database at the end.")
    args = parser.parse_args()
    pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = [name for name in pages if name not in PAGES]
    if unknown:
        parser.error(f"unknown page(s): {', '.join(unknown)}")
    exit_on_sigterm()

    machine = machine_summary()
    figure("nproc", machine["nproc"])
    figure("load_1m_before", machine["load_1m"])
    with contextlib.ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rd-bench-pages-")))
        if args.database_url:
            database_url = args.database_url
        elif args.keep:
            database_url = stack.enter_context(_kept_database())
        else:
            database_url = stack.enter_context(fresh_database(prefix="rd_bench_pages"))
        env = server_env(database_url, var_dir, CELERY_BROKER_URL="filesystem://")
        if not args.skip_seed:
            note("migrating")
            manage(env, "migrate", "--noinput")
            note(f"seeding {args.reviews:,} reviews")
            started = time.monotonic()
            out = manage(env, "seed_demo", "--reviews", str(args.reviews), "--no-progress")
            figure("seed_seconds", time.monotonic() - started, "s")
            for line in out.splitlines()[:6]:
                note(line)
        # Settle the freshly loaded tables first, so autovacuum does not run during the measurement.
        started = time.monotonic()
        conn = pg_connect(database_url)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        conn.close()
        figure("vacuum_seconds", time.monotonic() - started, "s")
        # Pages link hashed static files (ManifestStaticFilesStorage): collect them into var_dir.
        manage(env, "collectstatic", "--noinput", "-v0")
        session_key = manage(env, "shell", "-c", _SESSION_SCRIPT).strip().splitlines()[-1]
        last_day = _last_rated_day(env)
        period = {"from": (last_day - timedelta(days=args.days - 1)).isoformat(), "to": last_day.isoformat()}
        note(f"period {period['from']} to {period['to']}")
        server = stack.enter_context(gunicorn(env, workers=args.workers, log_dir=var_dir))
        client = Client(server.url, session_key)
        ctx = {"period": period, "requests": args.requests, "warmup": args.warmup}
        met = missed = 0
        for name in pages:
            note(f"measuring {name}")
            latencies = PAGES[name](client, ctx)
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            figure(f"{name}_p50", p50, "ms")
            figure(f"{name}_p95", p95, "ms")
            figure(f"{name}_max", max(latencies), "ms")
            if name == "tickets_export":
                figure("tickets_export_rows", ctx["export_rows"])
                figure("tickets_export_mib", ctx["export_mib"], "MiB")
            if name not in TARGETED:
                continue
            if p95 <= TARGET_P95_MS:
                met += 1
            else:
                missed += 1
        client.close()
    figure("load_1m_after", machine_summary()["load_1m"])
    figure("targets", f"{met} met, {missed} missed")


@contextlib.contextmanager
def _kept_database():
    """A fresh database that is not dropped: its URL is printed so later runs can --skip-seed it."""
    import secrets

    from common import ADMIN_DATABASE_URL, database_url_for

    name = f"rd_bench_pages_keep_{secrets.token_hex(3)}"
    admin = pg_connect(ADMIN_DATABASE_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = database_url_for(name)
    note(f"kept database: {url}")
    yield url


if __name__ == "__main__":
    main()
