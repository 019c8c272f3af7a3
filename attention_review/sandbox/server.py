"""`SandboxServer`: the sandbox app on a real socket, in a background thread.

Built on `wsgiref` with one thread per connection, so twenty clients at once (or one
client stuck in a `latency` fault) never block the others. Two things wsgiref cannot do
are added here: dropping a connection without an answer (the `drop` fault) and staying
quiet (request lines and client disconnects go to a DEBUG logger, never to stderr).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from types import TracebackType
from typing import Any
from wsgiref.handlers import BaseHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import DROP_CONNECTION, SandboxApp, SandboxState

logger = logging.getLogger(__name__)


class _SandboxHandler(ServerHandler):
    """Runs the app for one request; skips writing anything when it asks for a drop."""

    error_status = "500 Internal Server Error"
    error_headers = [("Content-Type", "application/json")]
    # wsgiref copies the whole process environment into every request's environ; the
    # app needs none of it, and it may hold secrets (the API key among them).
    os_environ: dict[str, str] = {}
    error_body = b'{"detail": "The sandbox failed unexpectedly"}'
    dropped = False
    # Set by BaseHandler.setup_environ and by `_RequestHandler.handle` (the back-pointer
    # ServerHandler.close logs through); typeshed declares neither.
    environ: dict[str, Any]
    request_handler: WSGIRequestHandler

    def finish_response(self) -> None:
        if self.environ.get(DROP_CONNECTION):
            self.dropped = True
            # BaseHandler.close, not ServerHandler.close: there is no status to log.
            BaseHandler.close(self)
            return
        super().finish_response()

    def log_exception(self, exc_info: Any) -> None:
        logger.error("Attention sandbox request failed", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    # A client that connects and never sends must not hold a thread forever.
    timeout = 60
    server: _ThreadingWSGIServer  # the only server this handler is used with

    def handle(self) -> None:
        # wsgiref's `handle`, with our handler class and the drop afterwards.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _SandboxHandler(
            self.rfile,
            # typeshed types wfile as BufferedIOBase and SimpleHandler's stdout as
            # IO[bytes]; the handler only writes to and flushes it, as in wsgiref's own
            # WSGIRequestHandler.handle, which passes the same object.
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        app = self.server.get_app()
        assert app is not None, "SandboxServer.start sets the app before serving"
        handler.run(app)
        if handler.dropped:
            self.close_connection = True
            # Already gone if the client hung up first; either way nothing is sent.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds method, path and query only: never a header, so never
        # the API key.
        logger.debug("%s %s", self.address_string(), format % args)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a request sleeping in a fault
    request_queue_size = 128

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on reverse DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts in tests do it on purpose) are not errors.
        logger.debug("Attention sandbox connection error from %s", client_address, exc_info=True)


class SandboxServer:
    """Serves a `SandboxState` over HTTP: `SandboxServer(state).start()`, then `base_url`.

    `port=0` picks a free port. Usable as a context manager; `wait()` blocks until it stops
    (the management command).
    """

    def __init__(
        self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.state = state if state is not None else SandboxState()
        self.host = host
        self._requested_port = port
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.root_url if self._httpd else "not started"
        return f"<SandboxServer {where}>"

    def start(self) -> SandboxServer:
        """Bind and serve in a daemon thread; returns self once the port is listening."""
        if self._httpd is not None:
            raise RuntimeError("The sandbox server is already started")
        httpd = _ThreadingWSGIServer((self.host, self._requested_port), _RequestHandler)
        httpd.set_app(SandboxApp(self.state))
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"attention-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C raises `KeyboardInterrupt` here."""
        while (thread := self._thread) is not None and thread.is_alive():
            # Short joins keep the main thread responsive to Ctrl-C.
            thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving and free the port; requests still in flight finish on their own."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The sandbox server is not started")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """`http://host:port`, where the control API (`/_sandbox/...`) lives."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL a client is configured with: `http://host:port/v2`."""
        return f"{self.root_url}/v2"

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
