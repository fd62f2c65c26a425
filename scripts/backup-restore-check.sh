#!/usr/bin/env bash
# Prove that a PostgreSQL backup of ReviewDesk restores: fill a scratch database (migrate +
# seed_demo), back it up with pg_dump (custom format, as docs/operations.md recommends), restore it
# into a second scratch database with pg_restore, then compare the exact row count of every table
# and check that the restored database needs no migration. Exits non-zero on any difference.
#
#   scripts/backup-restore-check.sh                 # databases rd_backup_check{,_restored}
#   BACKUP_CHECK_DB=rd_h10_backup REVIEWS=400 scripts/backup-restore-check.sh
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGPASSWORD if needed: a role
# that may create databases. BACKUP_CHECK_DB names the source database (the restore gets
# "_restored" appended); both are dropped and recreated, so never point it at a real database.
# KEEP=1 keeps both databases and the dump afterwards. PYTHON defaults to .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
SOURCE="${BACKUP_CHECK_DB:-rd_backup_check}"
TARGET="${SOURCE}_restored"
REVIEWS="${REVIEWS:-300}"
PYTHON="${PYTHON:-.venv/bin/python}"
WORK="$(mktemp -d)"
DUMP="$WORK/$SOURCE.dump"

case "$SOURCE" in
  *[!a-z0-9_]* | "") echo "BACKUP_CHECK_DB must be lower-case letters, digits and _" >&2; exit 2 ;;
esac

cleanup() {
  if [ "${KEEP:-0}" = "1" ]; then
    echo "kept: databases $SOURCE and $TARGET, dump $DUMP"
  else
    dropdb --if-exists "$TARGET" >/dev/null 2>&1 || true
    dropdb --if-exists "$SOURCE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

url_of() {
  local auth="$PGUSER"
  [ -n "${PGPASSWORD:-}" ] && auth="$PGUSER:$PGPASSWORD"
  echo "postgres://$auth@$PGHOST:$PGPORT/$1"
}

manage() {
  # A development configuration is enough to migrate and seed; nothing here is served.
  DEBUG=1 SECRET_KEY=backup-check-not-a-secret DATABASE_URL="$(url_of "$1")" CELERY_BROKER_URL=memory:// \
    REDIS_URL="" REVIEWDESK_VAR_DIR="$WORK/var" "$PYTHON" manage.py "${@:2}"
}

# Exact row counts of every table, one "table count" line each, sorted.
row_counts() {
  psql -d "$1" -X -A -t -F ' ' -v ON_ERROR_STOP=1 -c "
    SELECT table_name,
           (xpath('/row/c/text()',
                  query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
                               false, true, '')))[1]::text::bigint
      FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
     ORDER BY table_name"
}

echo "1/5 fresh source database $SOURCE: migrate and seed $REVIEWS demo reviews"
dropdb --if-exists "$TARGET"
dropdb --if-exists "$SOURCE"
createdb "$SOURCE"
manage "$SOURCE" migrate --noinput -v 0
manage "$SOURCE" seed_demo --reviews "$REVIEWS" --no-progress -v 0

echo "2/5 back up with pg_dump (custom format)"
pg_dump --format=custom --no-owner --file="$DUMP" "$SOURCE"
ls -l "$DUMP" | awk '{print "    " $5 " bytes"}'

echo "3/5 restore into $TARGET with pg_restore"
createdb "$TARGET"
pg_restore --no-owner --exit-on-error --dbname="$TARGET" "$DUMP"

echo "4/5 compare row counts of every table"
row_counts "$SOURCE" >"$WORK/source.txt"
row_counts "$TARGET" >"$WORK/target.txt"
if ! diff -u "$WORK/source.txt" "$WORK/target.txt"; then
  echo "FAIL: row counts differ after the restore" >&2
  exit 1
fi
tables=$(wc -l <"$WORK/source.txt")
for table in reviews_review tickets_ticket tickets_ticketevent contacts_buyer; do
  count=$(awk -v t="$table" '$1 == t {print $2}' "$WORK/source.txt")
  if [ -z "$count" ] || [ "$count" -eq 0 ]; then
    echo "FAIL: $table is empty in the source: the seed did not run" >&2
    exit 1
  fi
  echo "    $table: $count rows"
done
echo "    $tables tables, identical row counts"

echo "5/5 the restored database is fully migrated and readable by the app"
manage "$TARGET" migrate --check -v 0
manage "$TARGET" shell -v 0 -c "from tickets.models import Ticket; print('    tickets readable:', Ticket.objects.count())"
echo "OK: backup and restore verified"
