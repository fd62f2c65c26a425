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
}
trap cleanup INT TERM EXIT

"$BIN/celery" -A reviewdesk worker --loglevel=INFO --concurrency=2 > var/worker.log 2>&1 & pids+=($!)
"$BIN/celery" -A reviewdesk beat --loglevel=INFO > var/beat.log 2>&1 & pids+=($!)
"$BIN/python" manage.py runserver "$HOST:$PORT" & pids+=($!)

sleep 2
cat <<TXT

  ReviewDesk is running: http://$HOST:$PORT/
  API docs:              http://$HOST:$PORT/api/docs/

  Demo logins (password for all: demo1234)
    supervisor  主管 (all demo shops)
    agent1 … agent5  售后客服

  Worker and beat logs: var/worker.log, var/beat.log. Ctrl-C stops everything.

TXT
wait -n "${pids[@]}"
