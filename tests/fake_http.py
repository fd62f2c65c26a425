"""Loopback HTTP servers for the fakes of the platforms' APIs: real sockets and real HTTP, so the
connectors are tested through their own HTTP clients."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class LoopbackServer:
    """Serves `handler_class` on a free loopback port while used as a context manager."""

    path = "/"

    def __init__(self, handler_class):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        # A client that timed out has closed its socket; the late write failing is expected.
        self._server.handle_error = lambda request, client_address: None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()


def send_reply(handler, reply):
    """Write a fake's Reply (status, headers, body) as the HTTP response."""
    handler.send_response(reply.status)
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    handler.wfile.write(reply.body)


def form_gateway_handler(fake):
    """A gateway taking form-encoded POSTs (Taobao TOP, JD JOS): `fake.answer(form)` replies,
    after `fake.delay` seconds when the fake has one."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real gateways
        disable_nagle_algorithm = True  # headers and body are two writes; no 40 ms delayed-ACK stall

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
            reply = fake.answer(form)
            if getattr(fake, "delay", 0):
                time.sleep(fake.delay)
            send_reply(self, reply)

        def log_message(self, *args):
            pass

    return Handler
