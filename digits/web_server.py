"""The web server behind the project's two pages: `predict_image.py --serve` (the drawing page)
and `train.py --watch` (the live training page).

A site is its files (from web/) and its routes; every answer that is not a file is JSON,
and a request that cannot be answered gets a 4xx or 5xx status and {"error": message}.
The drawing page's site:

    GET  /          the page: web/draw.html, with web/draw.js and web/draw.css
    GET  /model     JSON: the model file, its number of hidden units, its test accuracy
    POST /predict   body: one image (the page sends its canvas as a PNG), Content-Type image/...
                    200, JSON: digit, confidence, probabilities, input (784 values), hidden (A1)

Any web page the user visits can send requests to a server on this computer, so the
server trusts no one: it answers only requests addressed to its own host names (a
page that points a name of its own at 127.0.0.1 is refused) and coming from its own
page (a foreign Origin is refused; an image Content-Type is required, which makes a
browser ask before sending one from another page, and that question is never
answered yes). Its work is bounded: connections, header bytes, the time a request may
take from first byte to last, body bytes held at once, and images decoded at once.

Standard library only: one thread reads and writes every connection (asyncio), and
a few worker threads decode images and run the network, side by side.
"""

import asyncio
import collections
import concurrent.futures
import datetime
import ipaddress
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
import traceback
from urllib.parse import urlsplit

from digits.cli import InputError

WEB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")
KINDS = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
MAX_BYTES = 5_000_000  # larger request bodies are refused (413) before they are read
MAX_PIXELS = 16_000_000  # larger images are refused before they are decoded
IMAGE_TYPES = ("image/png", "image/", "application/octet-stream")  # Content-Types of POST /predict
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
STATUS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          408: "Request Timeout", 411: "Length Required", 413: "Content Too Large",
          415: "Unsupported Media Type", 431: "Request Header Fields Too Large",
          500: "Internal Server Error", 503: "Service Unavailable"}

Limits = collections.namedtuple("Limits", [
    "connections",  # connections open at once; beyond, the one waiting longest for its request is closed
    "header_bytes",  # request line and headers together
    "deadline",  # seconds from a request's first byte (or from the previous answer) to its last
    "buffered_bytes",  # request bodies held in memory at once, all connections together
    "decoders",  # images decoded and answered at once (worker threads)
    "waiting",  # images that may wait for a worker; beyond, 503 and Retry-After
    "linger",  # seconds to read what a refused client still sends, so that it gets the refusal
])
LIMITS = Limits(connections=512, header_bytes=16_384, deadline=10.0, buffered_bytes=64_000_000,
                decoders=2, waiting=8, linger=2.0)


class RequestError(Exception):
    """A request that cannot be answered: the HTTP status, a message for the client, extra headers."""

    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


class Request:
    """One parsed request: method, path, target, version and headers (names in lower case)."""

    def __init__(self, head):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise RequestError(400, f"malformed request line: {lines[0][:80]!r}")
        self.line = lines[0]
        self.method, self.target, self.version = parts
        self.path = urlsplit(self.target).path
        self.headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise RequestError(400, f"malformed header line: {line[:80]!r}")
            name, value = name.lower(), value.strip()
            if name in self.headers and name in ("host", "content-length", "content-type", "origin"):
                raise RequestError(400, f"the {name} header appears twice")
            self.headers[name] = value

    def keep_alive(self):
        connection = self.headers.get("connection", "").lower()
        return "close" not in connection and (self.version == "HTTP/1.1" or "keep-alive" in connection)


def host_name(host_header):
    """The host name of a Host header value ("name:port", "[v6]:port"), in lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def allowed_host_names(bound):
    """The host names a request may be addressed to, for a server bound to address `bound`."""
    names = set(LOOPBACK_NAMES) | {bound.lower()}
    if bound in ("", "0.0.0.0"):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names


def is_allowed_host(name, allowed, everywhere):
    """True for a host name the server answers to: its own names, loopback addresses, and with
    `everywhere` (bound to 0.0.0.0) any IP address, since such a request reached this computer.
    """
    if name in allowed:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or everywhere


def check_sender(request, allowed, everywhere):
    """Refuse (403) a request addressed to a foreign host name or sent by a foreign page."""
    host = request.headers.get("host")
    if host is not None and not is_allowed_host(host_name(host), allowed, everywhere):
        raise RequestError(403, f"this server does not answer to the host name {host_name(host)!r}; "
                                "open the page at the address the script printed")
    origin = request.headers.get("origin")
    if origin is not None and (host is None or origin.lower() != f"http://{host.lower()}"):
        raise RequestError(403, f"requests from other web pages ({origin}) are refused")


Route = collections.namedtuple("Route", [
    "methods",  # ("GET", "HEAD") or ("POST",)
    "answer",  # answer(request, body) -> a JSON-ready value, or JSON already encoded as bytes;
               # may raise InputError (400) or RequestError; an async function is awaited
    "body",  # for POST: what the body is, for messages ("an image"), or None for GET
    "body_types",  # for POST: the Content-Type prefixes accepted, the first one an example
    "threaded",  # answered by a worker thread: `decoders` at once, `waiting` more queued
], defaults=(None, (), False))

Site = collections.namedtuple("Site", [
    "files",  # path -> file name in web/, e.g. {"/": "draw.html"}
    "routes",  # path -> Route
])


def drawing_page(answer, info):
    """The drawing page's site: answer(image_bytes) answers POST /predict, info is GET /model."""
    return Site(
        files={"/": "draw.html", "/draw.js": "draw.js", "/draw.css": "draw.css"},
        routes={"/model": Route(("GET", "HEAD"), lambda request, body: info),
                "/predict": Route(("POST",), lambda request, body: answer(body), "an image",
                                  IMAGE_TYPES, threaded=True)})


def route(site, request):
    """The route of the request's path (None for a file), or RequestError 404 or 405."""
    if request.path in site.files:
        methods, found = ("GET", "HEAD"), None
    elif request.path in site.routes:
        found = site.routes[request.path]
        methods = found.methods
    else:
        raise RequestError(404, f"no such page: {request.path[:200]}; the page is at /")
    if request.method not in methods:
        message = (f"send {found.body} with POST {request.path}" if "POST" in methods
                   else f"{request.path} only answers GET (and HEAD)")
        raise RequestError(405, message, [("Allow", ", ".join(methods))])
    return found


def body_length(request, route):
    """The declared size of a POST body, checked, or RequestError saying what is wrong."""
    kind = request.headers.get("content-type")
    if kind is None or not kind.lower().startswith(route.body_types):
        kinds = " or ".join(t + "..." if t.endswith("/") else t for t in route.body_types)
        raise RequestError(415, f"the body must be {route.body}, sent as {kinds}, not {kind} "
                                f"(curl: -H 'Content-Type: {route.body_types[0]}')")
    if "transfer-encoding" in request.headers or "content-length" not in request.headers:
        raise RequestError(411, f"send {route.body} with a Content-Length header")
    length = request.headers["content-length"]
    if not (length.isascii() and length.isdigit()):
        raise RequestError(400, f"Content-Length must be a number of bytes, not {length[:40]!r}")
    size = int(length)
    if size == 0:
        raise RequestError(400, f"the request's body is empty; send {route.body}")
    if size > MAX_BYTES:
        raise RequestError(413, f"the body is too large ({size:,} bytes; at most {MAX_BYTES:,})")
    return size


class Server:
    """A site's server: listening from construction, serving from serve_forever() until
    shutdown() (from another thread) or Ctrl-C.
    """

    def __init__(self, sock, host, site, limits):
        self.socket = sock
        self.server_address = sock.getsockname()[:2]
        self.site = site
        self.limits = limits
        self.everywhere = host in ("", "0.0.0.0")
        self.allowed = allowed_host_names(host) | {self.server_address[0]}
        self.files = {}
        for path, name in site.files.items():
            with open(os.path.join(WEB, name), "rb") as f:
                self.files[path] = (f.read(), KINDS[os.path.splitext(name)[1]])
        self.workers = concurrent.futures.ThreadPoolExecutor(limits.decoders, "answer")
        self.waiting_since = {}  # writer -> when it began waiting for its request; None while answered
        self.buffered = 0  # bytes of request bodies held now
        self.answering = 0  # requests being answered by a worker or waiting for one
        self.loop = None
        self.stopped = threading.Event()

    def serve_forever(self):
        """Serve until shutdown() or, in the main thread, Ctrl-C (then KeyboardInterrupt is raised
        once every connection is closed).
        """
        in_main_thread = threading.current_thread() is threading.main_thread()
        interrupted = []
        if in_main_thread:  # Ctrl-C waits until the loop can take it as a request to stop
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self.stopped.clear()
        loop = self.loop = asyncio.new_event_loop()
        self.stop_request = asyncio.Event()
        try:
            if in_main_thread:
                loop.add_signal_handler(signal.SIGINT, lambda: (interrupted.append(True), self.stop_request.set()))
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            loop.run_until_complete(self.serve())
        finally:
            if in_main_thread:
                loop.remove_signal_handler(signal.SIGINT)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            loop.close()
            self.stopped.set()
        if interrupted:
            raise KeyboardInterrupt

    async def serve(self):
        server = await asyncio.start_server(self.connection, sock=self.socket,
                                            limit=self.limits.header_bytes)
        await self.stop_request.wait()
        server.close()
        for writer in list(self.waiting_since):
            writer.transport.abort()
        connections = asyncio.all_tasks() - {asyncio.current_task()}
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)

    def shutdown(self):
        """Stop serve_forever() running in another thread, and wait until it has."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stop_request.set)
            self.stopped.wait()

    def server_close(self):
        self.socket.close()
        self.workers.shutdown(wait=False, cancel_futures=True)

    def make_room(self):
        """Close the connection that has waited longest for its request, if there are too many;
        False if every one is being answered (the new connection is then closed instead).
        """
        if len(self.waiting_since) < self.limits.connections:
            return True
        waiting = [(since, w) for w, since in self.waiting_since.items() if since is not None]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda pair: pair[0])[1]
        oldest.transport.abort()
        self.waiting_since.pop(oldest, None)
        return True

    async def connection(self, reader, writer):
        """Answer the requests of one connection, one after another, until it closes."""
        if not self.make_room():
            writer.transport.abort()
            return
        self.waiting_since[writer] = time.monotonic()
        try:
            while await self.one_request(reader, writer):
                self.waiting_since[writer] = time.monotonic()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        except asyncio.CancelledError:  # shutdown(): end quietly (asyncio would log a cancelled task)
            pass
        finally:
            self.waiting_since.pop(writer, None)
            writer.close()

    async def one_request(self, reader, writer):
        """Read and answer one request; True if the connection stays open for another."""
        state = {"started": False, "request": None}
        try:
            body = await asyncio.wait_for(self.read_request(reader, state), self.limits.deadline)
        except asyncio.TimeoutError:
            if not state["started"]:  # an idle kept-alive connection: just close it
                return False
            error = RequestError(408, f"the request took more than {self.limits.deadline:g} s "
                                      "to arrive; send it again")
            return await self.refuse(reader, writer, state["request"], error)
        except RequestError as e:
            return await self.refuse(reader, writer, state["request"], e)
        request = state["request"]
        if request is None:
            return False  # closed between requests: the usual end of a connection
        self.waiting_since[writer] = None
        found = route(self.site, request)
        if found is None:
            await self.send(writer, request, 200, *self.files[request.path])
            return request.keep_alive()
        status, answer = await self.respond(request, found, body)
        if not isinstance(answer, bytes):
            answer = json.dumps(answer).encode()
        await self.send(writer, request, status, answer, "application/json")
        return status == 200 and request.keep_alive()

    async def read_request(self, reader, state):
        """Read one request into state["request"] and return its body (None without one),
        or raise RequestError for a request that will not be answered.
        """
        first = await reader.read(1)
        if not first:
            return None
        state["started"] = True
        try:
            head = first + await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise RequestError(431, f"the request line and headers exceed "
                                    f"{self.limits.header_bytes:,} bytes") from None
        except asyncio.IncompleteReadError:
            raise RequestError(400, "the connection closed in the middle of a request") from None
        request = state["request"] = Request(head[:-4])
        check_sender(request, self.allowed, self.everywhere)
        found = route(self.site, request)
        return await self.read_body(request, found, reader) if request.method == "POST" else None

    async def read_body(self, request, found, reader):
        """The POST body, read within the request's deadline while bounding what is held at once."""
        size = body_length(request, found)
        busy = found.threaded and self.answering >= self.limits.decoders + self.limits.waiting
        if busy or self.buffered + size > self.limits.buffered_bytes:
            raise RequestError(503, "the server is busy; send the image again in a moment",
                               [("Retry-After", "1")])
        self.buffered += size
        try:
            return await reader.readexactly(size)
        except asyncio.IncompleteReadError as e:
            raise RequestError(400, f"the body ended after {len(e.partial):,} of {size:,} bytes") from None
        finally:
            self.buffered -= size

    async def respond(self, request, found, body):
        """(status, JSON-ready answer or JSON bytes) of a route: answered on this thread, awaited, or
        by a worker thread.
        """
        self.answering += found.threaded
        try:
            if found.threaded:
                return 200, await self.loop.run_in_executor(self.workers, found.answer, request, body)
            answer = found.answer(request, body)
            return 200, (await answer if asyncio.iscoroutine(answer) else answer)
        except InputError as e:
            return 400, {"error": str(e)}
        except RequestError as e:
            return e.status, {"error": str(e)}
        except Exception:  # a bug: say so to the client and in the log, and go on serving
            log(f"failed to answer {request.line}:\n{traceback.format_exc()}")
            return 500, {"error": "the server failed to answer; its log says why"}
        finally:
            self.answering -= found.threaded

    async def refuse(self, reader, writer, request, error):
        """Send the error as JSON, then read what the client still sends for a moment and close.

        Closing a socket with unread input resets the connection; a client that sends
        a whole refused body before it reads the reply (as Python's http.client does)
        would then see the reset instead of the reply.
        """
        body = json.dumps({"error": str(error)}).encode()
        await self.send(writer, request, error.status, body, "application/json", error.headers)
        if writer.can_write_eof():
            writer.write_eof()
        try:
            await asyncio.wait_for(drain(reader), self.limits.linger)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        return False

    async def send(self, writer, request, status, body, kind, extra=()):
        """Write one complete response; errors are logged and close the connection."""
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
                   ("X-Content-Type-Options", "nosniff"), *extra]
        if status >= 400:
            headers.append(("Connection", "close"))
            log(f'"{request.line if request else "-"}" {status}')
        head = f"HTTP/1.1 {status} {STATUS[status]}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        writer.write(head.encode("latin-1") + b"\r\n" + (b"" if request and request.method == "HEAD" else body))
        await writer.drain()


async def drain(reader):
    """Read and drop what arrives on `reader` until the client closes."""
    while await reader.read(1 << 16):
        pass


def log(message):
    """A line on stderr, as http.server logs: the time, then the message."""
    now = datetime.datetime.now().strftime("%d/%b/%Y %H:%M:%S")
    print(f"[{now}] {message}", file=sys.stderr, flush=True)


def raise_file_limit(connections):
    """Let this process open enough files for `connections` sockets, as far as the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def make_server(host, port, site, limits=LIMITS):
    """A server of `site` listening on (host, port), not yet serving."""
    files = raise_file_limit(limits.connections)
    limits = limits._replace(connections=min(limits.connections, max(16, files - 256)))
    try:
        sock = socket.create_server((host, port), backlog=128)
    except OSError as e:  # the port is taken, the address is not this computer's, ...
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}; "
                         "choose another --port or --host") from None
    return Server(sock, host, site, limits)
