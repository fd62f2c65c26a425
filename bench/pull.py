"""Pull benchmark (issue 8): 100,000 Taobao reviews from a fake TOP gateway into a fresh database,
end to end through the Taobao connector, the window cursor and the ingest service.

    .venv/bin/python bench/pull.py                    # 100,000 reviews over the last 30 days
    .venv/bin/python bench/pull.py --reviews 20000    # a quicker run

Set-up (untimed): a fresh PostgreSQL database (rd_bench_pull_…), `migrate`, a shop and a Taobao
connector pointing at the fake gateway (tests/fake_taobao.py, real HTTP on loopback, in its own
process so it does not share the interpreter lock with the pull). The fake checks every
signature, serves at most 150 rates a page and 1,500 a query, and answers only for the last 180
days, as TOP does.

Timed: `manage.py backfill_reviews --shop … --days 30 --no-progress`, the command a supervisor
runs, in a fresh process: it walks the windows (halving those that reach the cap), stores each
window with its cursor in one transaction and opens tickets for the neutral and negative reviews.

Workload: a shop at the domain's rates — 2.5 % neutral or negative (each opens a ticket), a fifth
of those with a seller reply (one more event each), 8 % returning buyers, reviews spread over 30
days with a daytime peak. Checks: one review per rate, one review.created per review, one ticket
per neutral/negative review. Figures go to stdout as `name: value unit`, ending with
`targets: N met, M missed`; progress goes to stderr. Exit status 1 when a check failed.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    NEGATIVE,
    PYTHON,
    REPO,
    exit_on_sigterm,
    figure,
    fresh_database,
    machine_summary,
    manage,
    note,
    pg_connect,
    server_env,
)

TARGET_REVIEWS_PER_SECOND = 2000
CHINA = ZoneInfo("Asia/Shanghai")
APP_KEY, SECRET, SESSION = "12345678", "bench-top-app-secret", "6100bench-session"
SHOP = "tb-bench-pull"
POSITIVE = ["质量很好，物流也快，下次还来", "包装完好，和描述一致", "性价比高，推荐购买", "客服态度好，发货快"]
TITLES = ["明前龙井绿茶 2026新茶 250g 礼盒装", "纯棉短袖T恤 男款 宽松圆领", "电热烧水壶 304不锈钢 1.7L"]


def rates(count, days, seed):
    """`count` trade rates created over the last `days` days (older than the connector's settle time)."""
    rng = random.Random(seed)
    now = datetime.now(CHINA).replace(microsecond=0)
    span = days * 86400 - 3600
    out = []
    for n in range(1, count + 1):
        # More reviews in the daytime: draw twice and keep the one nearer to 14:00.
        offsets = [rng.randrange(span) for _ in range(2)]
        offset = min(offsets, key=lambda s: abs((now - timedelta(seconds=s)).hour - 14))
        created = now - timedelta(seconds=offset + 600)
        roll = rng.random()
        result = "bad" if roll < 0.015 else "neutral" if roll < 0.025 else "good"
        buyer = rng.randrange(1, n) if n > 100 and rng.random() < 0.08 else n
        oid = 3_900_000_000_000 + n * 10
        out.append(
            {
                "tid": oid - oid % 20,
                "oid": oid,
                "role": "buyer",
                "nick": f"t**{buyer % 997}",
                "result": result,
                "created": created.strftime("%Y-%m-%d %H:%M:%S"),
                "rated_nick": "基准测试旗舰店",
                "item_title": TITLES[n % len(TITLES)],
                "item_price": f"{59 + n % 300}.90",
                "content": rng.choice(NEGATIVE if result != "good" else POSITIVE),
                "reply": "亲，非常抱歉，已为您安排补发" if result != "good" and rng.random() < 0.2 else "",
                "num_iid": 6_801_234_500 + n % 40,
                "buyer_open_uid": f"AAHbench{buyer:010d}",
            }
        )
    return out


def serve_fake(count, days, seed):
    """Child process: serve the workload on a free loopback port, print the URL, serve until killed."""
    sys.path.insert(0, str(REPO))
    from tests.fake_taobao import FakeTaobao

    fake = FakeTaobao(APP_KEY, SECRET, SESSION)
    fake.rates = rates(count, days, seed)
    fake.requests = _Counter()
    print(fake.url, flush=True)
    fake.serve_forever()


class _Counter(list):
    """The fake records every request; the benchmark only needs them not to pile up in memory."""

    def append(self, item):
        pass


def start_fake(args):
    process = subprocess.Popen(
        [PYTHON, __file__, "--serve-fake", "--reviews", str(args.reviews), "--days", str(args.days)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError("the fake Taobao gateway did not start")
    return process, url


def create_connector(env, url):
    code = f"""
from reviews.models import Connector, Shop
shop = Shop.objects.get(external_id={SHOP!r})
Connector.objects.create(shop=shop, kind="taobao", name="bench TOP", feed_url={url!r}, app_key={APP_KEY!r},
    app_secret={SECRET!r}, token={SESSION!r}, page_size=150, is_enabled=True)
"""
    manage(env, "shell", "-c", code)


def count(database_url):
    connection = pg_connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(DISTINCT r.review_id), count(*) FILTER (WHERE r.tier <> 'positive'),"
                " count(*) FILTER (WHERE r.reply_content <> '')"
                " FROM reviews_review r JOIN reviews_shop s ON s.id = r.shop_id WHERE s.external_id = %s",
                [SHOP],
            )
            reviews, distinct, worthy, replied = cursor.fetchone()
            cursor.execute(
                "SELECT count(*), count(DISTINCT platform_review_id) FROM reviews_inboundevent"
                " WHERE event_type = 'review.created'"
            )
            created, created_distinct = cursor.fetchone()
            cursor.execute("SELECT count(*), count(DISTINCT review_id) FROM tickets_ticket")
            tickets, ticket_reviews = cursor.fetchone()
    finally:
        connection.close()
    return {
        "reviews": reviews,
        "distinct": distinct,
        "worthy": worthy,
        "replied": replied,
        "created_events": created,
        "created_distinct": created_distinct,
        "tickets": tickets,
        "ticket_reviews": ticket_reviews,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30, help="Reviews are spread over this many days (≤ 180).")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--profile", help="Write a cProfile of the backfill process to this file.")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.serve_fake:
        serve_fake(args.reviews, args.days, args.seed)
        return 0
    exit_on_sigterm()
    machine = machine_summary()
    note(f"machine: {machine}")
    expected = rates(args.reviews, args.days, args.seed)
    expected_worthy = sum(1 for r in expected if r["result"] != "good")
    expected_replied = sum(1 for r in expected if r["reply"])
    fake, url = start_fake(args)
    ok, pull_cpu = True, 0.0
    try:
        with fresh_database(prefix="rd_bench_pull") as database_url, tempfile.TemporaryDirectory() as var_dir:
            # Tickets queue their assignment after commit; an in-memory broker keeps that in-process
            # and cheap, as no worker runs here (the assignment benchmark measures the workers).
            env = server_env(database_url, var_dir, CELERY_BROKER_URL="memory://", LOG_LEVEL="WARNING")
            note("migrating")
            manage(env, "migrate", "--noinput")
            manage(env, "create_shop", "--platform", "taobao", "--external-id", SHOP, "--name", "基准测试旗舰店")
            create_connector(env, url)
            note(f"pulling {args.reviews:,} reviews over {args.days} days from {url}")
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
            done = subprocess.run(
                [
                    PYTHON,
                    *profile,
                    "manage.py",
                    "backfill_reviews",
                    "--shop",
                    SHOP,
                    "--days",
                    str(args.days),
                    "--no-progress",
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            pull_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
            if done.returncode != 0:
                note(f"backfill failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
                ok = False
            else:
                note(done.stdout.strip())
            found = count(database_url)
    finally:
        fake.kill()
        fake.wait()

    checks = {
        "one review per rate": found["reviews"] == found["distinct"] == args.reviews,
        "one review.created per review": found["created_events"] == found["created_distinct"] == args.reviews,
        "one ticket per neutral/negative review": found["tickets"] == found["ticket_reviews"] == expected_worthy
        and found["worthy"] == expected_worthy,
        "every seller reply stored": found["replied"] == expected_replied,
    }
    for name, passed in checks.items():
        note(f"check {'ok' if passed else 'FAILED'}: {name} ({found})")
    ok = ok and all(checks.values())
    rate = args.reviews / elapsed
    figure("pull_reviews", args.reviews, "reviews")
    figure("pull_tickets_opened", found["tickets"], "tickets")
    figure("pull_seconds", elapsed, "s")
    figure("pull_reviews_per_second", rate, "reviews/s")
    figure("pull_process_cpu_seconds", pull_cpu, "s")
    figure("pull_reviews_per_cpu_second", args.reviews / pull_cpu if pull_cpu else 0.0, "reviews/s")
    figure("machine_load_1m", machine["load_1m"])
    targets = [ok and rate >= TARGET_REVIEWS_PER_SECOND]
    met = sum(targets)
    print(f"targets: {met} met, {len(targets) - met} missed", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
