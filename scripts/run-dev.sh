#!/usr/bin/env bash
# Web, Celery worker and Celery beat together on the embedded defaults; Ctrl-C stops all three.
set -euo pipefail
export DEBUG="${DEBUG:-1}"
BIN="${BIN:-.venv/bin}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
mkdir -p var

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping web, worker and beat"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  exit "$1"
}
trap 'cleanup 130' INT
trap 'cleanup 143' TERM
trap 'cleanup $?' EXIT

# One process, no pool: SQLite takes one writer at a time anyway, and a prefork pool whose
# children get the same SIGTERM as their parent (a stop sent to the process group) could leave
# the parent hanging at exit.
"$BIN/celery" -A reviewdesk worker --loglevel=INFO --pool=solo > var/worker.log 2>&1 & pids+=($!)
"$BIN/celery" -A reviewdesk beat --loglevel=INFO > var/beat.log 2>&1 & pids+=($!)
"$BIN/python" manage.py runserver "$HOST:$PORT" & pids+=($!)

# Print the banner once the web server answers, so it is not buried under runserver's start-up lines.
web_answers() {
  "$BIN/python" - "http://$HOST:$PORT/healthz/" 2>/dev/null <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # an HTTP error is still an answer
PY
}
web_up=0
for _ in $(seq 1 120); do
  kill -0 "${pids[2]}" 2>/dev/null || break
  if web_answers; then web_up=1; break; fi
  sleep 0.5
done
if [ "$web_up" = 1 ]; then
  cat <<TXT

  ReviewDesk is running: http://$HOST:$PORT/  (configuration: /admin/)
  API docs:              http://$HOST:$PORT/api/docs/

  Demo logins (password for all: demo1234)
    supervisor  主管 (all demo shops)
    agent1 … agent5  售后客服

  Worker and beat logs: var/worker.log, var/beat.log. Ctrl-C stops everything.

TXT
else
  echo "The web server did not answer on http://$HOST:$PORT/; see the messages above." >&2
fi
# Whichever process ends first (Ctrl-C, or one of them crashing) ends all three.
wait -n "${pids[@]}"
