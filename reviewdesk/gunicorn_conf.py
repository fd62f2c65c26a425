"""gunicorn settings for every ReviewDesk web process (image, compose, benchmarks):
`gunicorn reviewdesk.wsgi --config python:reviewdesk.gunicorn_conf …`. Flags still override.

Garbage collection: once a worker has loaded Django, its ~100,000 long-lived objects (modules,
classes, URL patterns, translations) are frozen out of the cyclic collector, and the young
generation is collected less often. A 500-event push allocates tens of thousands of short-lived
objects; with the defaults each request paid for repeated full scans of the frozen set (about
5 % of a batch's CPU and of a single event's). Reference counting still frees almost everything
at once; only reference cycles wait a little longer.
"""

import gc


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
