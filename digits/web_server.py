"""The web server behind the project's two pages: `predict_image.py --serve` (the drawing page)
and `train.py --watch` (the live training page).

A site is its files (from web/) and its routes; every answer that is not a file is JSON,
and a request that cannot be answered gets a 4xx or 5xx status and {"error": message}.
The drawing page's site:

    GET  /          the page: web/draw.html, with web/draw.js and web/draw.css
    GET  /model     JSON: the model file, its number of hidden units, its test accuracy
    POST /predict   body: one image (the page sends its canvas as a PNG), Content-Type image/...
                    200, JSON: digit, confidence, probabilities, input (784 values), hidden (A1)

HTTP itself is tornado's: it parses requests (a request it cannot parse gets 400, its
error in JSON too), and bounds header bytes, body bytes and the time headers and bodies may take.
What is left here are the rules of these two pages. Any web page the user visits can send
requests to a server on this computer, so the server trusts no one: it answers only
requests addressed to its own host names (a page that points a name of its own at
127.0.0.1 is refused), with a path for a target, and coming from its own page (a foreign
Origin or Sec-Fetch-Site is refused; an image Content-Type is required, which makes a
browser ask before sending one from another page, and that question is never answered
yes). A body comes as it is: one sent with a Content-Encoding is refused, never unpacked.
Its work is bounded: connections open at once, body bytes held at once, and images
decoded or waiting to be, counted from the moment a request's headers arrive.
"""

import asyncio
import collections
import concurrent.futures
import datetime
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import traceback

import tornado.httpserver
import tornado.web

from digits.cli import InputError, printable

WEB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")
KINDS = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
MAX_BYTES = 5_000_000  # larger request bodies are refused (413) before they are read
MAX_PIXELS = 16_000_000  # larger images are refused before they are decoded
POLL = 0.1  # s: how often a serving loop looks whether it has been asked to stop
IMAGE_TYPES = ("image/png", "image/", "application/octet-stream")  # Content-Types of POST /predict
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")  # others: tornado's 405
OWN_FETCHES = ("same-origin", "none")  # Sec-Fetch-Site values of the page's own requests

Limits = collections.namedtuple("Limits", [
    "connections",  # connections open at once; beyond, the oldest one not being answered is closed
    "header_bytes",  # request line and headers together (tornado: max_header_size)
    "deadline",  # seconds for a request's headers to arrive, and again for its body; an idle
                 # kept-alive connection is closed after as long (tornado: idle_connection_timeout,
                 # body_timeout)
    "buffered_bytes",  # request bodies held in memory at once, all connections together
    "decoders",  # images decoded and answered at once (worker threads)
    "waiting",  # images that may wait for a worker; beyond, 503 and Retry-After
    "drain_bytes",  # a refused body up to this size is still read (and dropped), so that a client
                    # that sends all of it before it reads the answer gets the refusal
    "linger",  # seconds a refused body may take to arrive
])
LIMITS = Limits(connections=512, header_bytes=16_384, deadline=10.0, buffered_bytes=64_000_000,
                decoders=2, waiting=8, drain_bytes=32_000_000, linger=2.0)


class RequestError(Exception):
    """A request that cannot be answered: the HTTP status, a message for the client, extra headers."""

    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


def host_name(host_header):
    """The host name of a Host header value ("name:port", "[v6]:port"), in lower case;
    RequestError 400 if the port is not a number.
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        name, _, port = host[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    elif host.count(":") == 1:
        name, port = host.split(":")
    else:
        name, port = host, ""
    if not re.fullmatch(r"[0-9]{0,5}", port):
        raise RequestError(400, f"the Host header's port must be a number, not {port[:20]!r}")
    return name.rstrip(".")


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


def check_request(request, allowed, everywhere, is_file):
    """Refuse a request this server does not answer: 400 for another HTTP version, a target
    that is not a path or no host name, 403 for one addressed to a foreign host name or sent by a
    foreign page.
    """
    if request.version not in ("HTTP/1.1", "HTTP/1.0"):
        raise RequestError(400, f"{request.version} is not a version of HTTP this server speaks; send HTTP/1.1")
    if not request.uri.startswith("/") or request.uri.startswith("//"):
        raise RequestError(400, f"the request target must be a path such as /model, not {request.uri[:80]!r}")
    host = request.headers.get("Host")
    if host is None:  # HTTP/1.1 requires it (tornado refuses such a request); HTTP/1.0 did not
        raise RequestError(400, "the request must name the host it is for in a Host header, as browsers do")
    if not is_allowed_host(host_name(host), allowed, everywhere):
        raise RequestError(403, f"this server does not answer to the host name {host_name(host)!r}; "
                                "open the page at the address the script printed")
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() != f"http://{host.lower()}":
        raise RequestError(403, f"requests from other web pages ({origin}) are refused")
    fetch_site = request.headers.get("Sec-Fetch-Site", "none").lower()
    if not is_file and fetch_site not in OWN_FETCHES:
        raise RequestError(403, f"requests from other web pages (Sec-Fetch-Site: {fetch_site}) are refused")


Route = collections.namedtuple("Route", [
    "methods",  # ("GET", "HEAD") or ("POST",)
    "answer",  # answer(request, body) -> a JSON-ready value, or JSON already encoded as bytes;
               # may raise InputError (400) or RequestError; an async function is awaited.
               # request is tornado's HTTPServerRequest (.path, .query, .headers)
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


def check_method(path, methods, route, method):
    """Refuse (405) a method the path does not answer, saying what it does answer."""
    if method not in methods:
        message = (f"send {route.body} with POST {path}" if "POST" in methods
                   else f"{path} only answers GET (and HEAD)")
        raise RequestError(405, message, [("Allow", ", ".join(methods))])


def body_length(headers, route):
    """The declared size of a POST body, checked, or RequestError saying what is wrong."""
    kind = headers.get("Content-Type")
    if kind is None or not kind.lower().startswith(route.body_types):
        kinds = " or ".join(t + "..." if t.endswith("/") else t for t in route.body_types)
        raise RequestError(415, f"the body must be {route.body}, sent as {kinds}, not {kind} "
                                f"(curl: -H 'Content-Type: {route.body_types[0]}')")
    coding = headers.get("Content-Encoding", "identity").strip().lower()
    if coding != "identity":  # a compressed body is not the image it declares, and is not unpacked
        raise RequestError(415, f"the body must be {route.body} as it is, not compressed (Content-Encoding: "
                                f"{printable(coding[:40])}); send it without a Content-Encoding")
    if "Transfer-Encoding" in headers or "Content-Length" not in headers:
        raise RequestError(411, f"send {route.body} with a Content-Length header")
    length = headers["Content-Length"]
    if not re.fullmatch(r"[0-9]+", length):
        raise RequestError(400, f"Content-Length must be a number of bytes, not {length[:40]!r}")
    if len(length) > len(str(MAX_BYTES)) or int(length) > MAX_BYTES:
        raise RequestError(413, f"the body is too large ({length[:20]}{'...' if len(length) > 20 else ''}"
                                f" bytes; at most {MAX_BYTES:,})")
    if int(length) == 0:
        raise RequestError(400, f"the request's body is empty; send {route.body}")
    return int(length)


def drainable(headers, limits):
    """True if a refused request's body is small enough to read and drop before answering."""
    if "Transfer-Encoding" in headers:
        return True  # tornado stops a chunked body at the body size limit
    length = headers.get("Content-Length", "0")
    return re.fullmatch(r"[0-9]{1,12}", length) is not None and int(length) <= limits.drain_bytes


@tornado.web.stream_request_body
class Exchange(tornado.web.RequestHandler):
    """One request to one path of a site, from its headers to its answer."""

    SUPPORTED_METHODS = METHODS

    def initialize(self, server, path):
        self.server = server
        self.path = path  # None: no such page
        self.route = server.site.routes.get(path)
        self.chunks = []
        self.refusal = None  # a RequestError answered once the body is read
        self.working = False  # is a worker thread answering (or about to answer) this request?

    def set_default_headers(self):
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.clear_header("Server")

    def compute_etag(self):
        return None

    def prepare(self):
        """Check the request as soon as its headers are in; refuse it or reserve what it needs."""
        request, server, route = self.request, self.server, self.route
        server.answering.add(request.connection.stream)
        try:
            check_request(request, server.allowed, server.everywhere, self.path in server.files)
            if self.path is None:
                raise RequestError(404, f"no such page: {request.path[:200]}; the page is at /")
            methods = route.methods if route else ("GET", "HEAD")
            check_method(self.path, methods, route, request.method)
            if request.method == "POST":
                size = body_length(request.headers, route)
                server.reserve(self, route.threaded, size)
                request.connection.set_max_body_size(size)
            elif "Content-Length" in request.headers or "Transfer-Encoding" in request.headers:
                request.connection.set_max_body_size(server.limits.drain_bytes)  # read and dropped
        except RequestError as e:
            if not drainable(request.headers, server.limits):
                raise
            self.refusal = e
            request.connection.set_max_body_size(server.limits.drain_bytes)
            request.connection.set_body_timeout(server.limits.linger)

    def data_received(self, chunk):
        if self.route is not None and self.route.body is not None and self.refusal is None:
            self.chunks.append(chunk)

    async def answer(self):
        if self.refusal is not None:
            raise self.refusal
        if self.path in self.server.files:
            content, kind = self.server.files[self.path]
            self.set_header("Content-Type", kind)
            self.finish(content)
            return
        body = b"".join(self.chunks) if self.route.body is not None else None
        self.chunks = []
        if self.route.threaded:
            self.working = True  # from now on the image counts until its worker is done with it
            try:
                result = await asyncio.get_running_loop().run_in_executor(
                    self.server.workers, self.route.answer, self.request, body)
            finally:
                self.working = False
                self.release()
        else:
            result = self.route.answer(self.request, body)
            if asyncio.iscoroutine(result):
                result = await result
        if not isinstance(result, bytes):
            result = json.dumps(result, allow_nan=False).encode()
        self.send_json(200, result)

    get = head = post = put = delete = patch = options = answer

    def send_json(self, status, content):
        """Answer with JSON; after a refusal, close the connection once the answer is sent."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        if status >= 400:
            self.set_header("Connection", "close")
        sent = self.finish(content)
        if status >= 400:
            stream = self.request.connection.stream
            sent.add_done_callback(lambda _: stream.close())

    def write_error(self, status, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, RequestError):
            message = str(error)
            for name, value in error.headers:
                self.set_header(name, value)
        elif isinstance(error, InputError):
            status, message = 400, str(error)
        elif status == 405:  # a method tornado does not know
            message = f"{self.request.method[:20]} is not a method this server answers"
            self.set_header("Allow", ", ".join(self.route.methods if self.route else ("GET", "HEAD")))
        elif status == 500:
            message = "the server failed to answer; its log says why"
        else:
            message = self._reason
        self.clear_header("Content-Type")
        self.send_json(status, json.dumps({"error": message}).encode())

    def send_error(self, status=500, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, InputError):
            status = 400
        elif isinstance(error, RequestError):
            status = error.status
        super().send_error(status, **kwargs)

    def log_exception(self, kind, error, trace):
        if not isinstance(error, (RequestError, InputError, tornado.web.HTTPError)):
            log(f"failed to answer {request_line(self.request)}:\n"
                + "".join(traceback.format_exception(kind, error, trace)))

    def on_finish(self):
        self.release()

    def on_connection_close(self):
        super().on_connection_close()  # a body still being read never comes: the request ends here
        if not self.working:  # a client that leaves does not take its image off a worker's queue
            self.release()

    def release(self):
        self.server.answering.discard(self.request.connection.stream)
        self.server.release(self)


def request_line(request):
    """The request line as the log shows it, with control characters escaped."""
    return printable(f"{request.method} {request.uri} {request.version}")


def log_request(handler):
    """Log a request the server refused or failed to answer."""
    if handler.get_status() >= 400:
        log(f'"{request_line(handler.request)}" {handler.get_status()}')


TORNADO_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"  # what tornado sends for a request it cannot parse
NOT_HTTP = json.dumps({"error": "not a request this server can read: a malformed request line or "
                                "header, or one it will not guess about"}).encode()


def json_refusals(write):
    """A stream's write() that sends tornado's bare 400 as a JSON error, as every other refusal is."""
    def write_json(data):
        if data == TORNADO_400:
            data = (f"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(NOT_HTTP)}\r\nConnection: close\r\n\r\n").encode() + NOT_HTTP
        return write(data)
    return write_json


class HTTPServer(tornado.httpserver.HTTPServer):
    """tornado's server, with a bound on the connections open at once, and its refusal of what
    it cannot parse written as JSON.
    """

    def handle_stream(self, stream, address):
        site = self.site_server
        if not site.make_room():
            stream.close()
            return
        site.streams[stream] = None
        stream.write = json_refusals(stream.write)
        super().handle_stream(stream, address)


class Server:
    """A site's server: listening from construction, serving from serve_forever() until
    shutdown() (from another thread) or a stop asked by a signal.
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
        self.streams = {}  # open connections, oldest first
        self.answering = set()  # connections whose request is being answered
        self.in_flight = {}  # request -> (images, body bytes) it holds
        self.loop = None
        self.http = None  # tornado's server, while serving
        self.stop_request = threading.Event()  # set by shutdown()
        self.stopped = threading.Event()  # set when serve_forever() has ended

    def application(self):
        paths = {**{p: None for p in self.files}, **{p: None for p in self.site.routes}}
        handlers = [(re.escape(path), Exchange, {"server": self, "path": path}) for path in paths]
        return tornado.web.Application(handlers, default_handler_class=Exchange,
                                       default_handler_args={"server": self, "path": None},
                                       log_function=log_request, compress_response=False)

    def make_room(self):
        """Make room for a new connection: close the oldest one not being answered if there are
        too many; False if every one is being answered (the new one is then closed instead).
        """
        for stream in [s for s in self.streams if s.closed()]:
            del self.streams[stream]
        if len(self.streams) < self.limits.connections:
            return True
        oldest = next((s for s in self.streams if s not in self.answering), None)
        if oldest is None:
            return False
        del self.streams[oldest]
        oldest.close()
        return True

    def reserve(self, request, image, size):
        """Count a request's image and body from its headers on; RequestError 503 if too many."""
        images = sum(i for i, _ in self.in_flight.values())
        held = sum(b for _, b in self.in_flight.values())
        if (image and images >= self.limits.decoders + self.limits.waiting
                or held + size > self.limits.buffered_bytes):
            raise RequestError(503, "the server is busy; send the image again in a moment",
                               [("Retry-After", "1")])
        self.in_flight[request] = (int(image), size)

    def release(self, request):
        self.in_flight.pop(request, None)

    def serve_forever(self, stopped_by=()):
        """Serve until shutdown() is called from another thread, or until the list `stopped_by`
        (which cli.stop_on_signals fills on Ctrl-C) is no longer empty; it is looked at every
        POLL seconds, so a signal needs nothing of the event loop, on any system.
        """
        loop = self.loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.serve(stopped_by))
        finally:
            loop.close()
            self.stopped.set()

    async def serve(self, stopped_by):
        if self.stop_request.is_set():  # shut down before it began: its socket may be closed already
            return
        self.http = HTTPServer(self.application(), max_header_size=self.limits.header_bytes,
                               max_body_size=MAX_BYTES, body_timeout=self.limits.deadline,
                               idle_connection_timeout=self.limits.deadline, decompress_request=False)
        self.http.site_server = self
        self.http.add_sockets([self.socket])
        while not (self.stop_request.is_set() or stopped_by):
            await asyncio.sleep(POLL)
        await self.close_connections()

    async def close_connections(self):
        """Stop listening, close every connection and end what is still being answered."""
        if self.http is not None:
            self.http.stop()
            for stream in list(self.streams):
                stream.close()
            await self.http.close_all_connections()
            await asyncio.sleep(0)  # a request whose body was still coming ends as if its client had left
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def shutdown(self):
        """Stop serve_forever() running in another thread, and wait until it has."""
        self.stop_request.set()
        if self.loop is not None:
            self.stopped.wait()

    def server_close(self):
        self.socket.close()
        self.workers.shutdown(wait=False, cancel_futures=True)


def log(message):
    """A line on stderr, as http.server logs: the time, then the message."""
    now = datetime.datetime.now().strftime("%d/%b/%Y %H:%M:%S")
    print(f"[{now}] {message}", file=sys.stderr, flush=True)


def raise_file_limit(connections):
    """Let this process open enough files for `connections` sockets, as far as the system allows;
    the number it may open (None where the system has no such limit to ask, as on Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):  # macOS refuses some values below the hard limit
            pass
    return soft


def make_server(host, port, site, limits=LIMITS):
    """A server of `site` listening on (host, port), not yet serving."""
    files = raise_file_limit(limits.connections)
    if files is not None and files != -1:
        limits = limits._replace(connections=min(limits.connections, max(16, files - 256)))
    try:
        sock = socket.create_server((host, port), backlog=1024)
    except OSError as e:  # the port is taken, the address is not this computer's, ...
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}; "
                         "choose another --port or --host") from None
    sock.setblocking(False)
    return Server(sock, host, site, limits)
