"""Backups restore (issue 7): scripts/backup-restore-check.sh fills a scratch PostgreSQL database
with seed_demo, backs it up with pg_dump, restores it with pg_restore into a second one and
compares every table's row count. docs/operations.md describes the same commands for production."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "backup-restore-check.sh"


@pytest.mark.slow
def test_a_pg_dump_of_a_filled_database_restores_with_identical_row_counts():
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    missing = [tool for tool in ("pg_dump", "pg_restore", "createdb", "dropdb", "psql") if not shutil.which(tool)]
    assert not missing, f"PostgreSQL client tools missing: {missing}"
    env = {
        **os.environ,
        "PGHOST": database["HOST"] or "127.0.0.1",
        "PGPORT": str(database["PORT"] or 5432),
        "PGUSER": database["USER"] or "postgres",
        "PYTHON": sys.executable,
        # A name of its own next to this run's databases, so parallel runs do not collide.
        "BACKUP_CHECK_DB": f"{database['NAME']}_backup".lower(),
        "REVIEWS": "300",
    }
    if database["PASSWORD"]:
        env["PGPASSWORD"] = database["PASSWORD"]
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "identical row counts" in result.stdout, output
    assert "OK: backup and restore verified" in result.stdout, output
