"""The web server behind `python predict_image.py --serve`: the drawing page and its answers.

    GET  /          the page: web/draw.html, with web/draw.js and web/draw.css
    GET  /model     JSON: the model file, its number of hidden units, its test accuracy
    POST /predict   body: one image (the page sends its canvas as a PNG)
                    200, JSON: digit, confidence, probabilities, input (784 values), hidden (A1)
                    4xx, JSON {"error": message}: a request that cannot be answered, and why

Standard library only. Each connection is served by a thread of its own; the model
is only read, never changed, so requests are answered side by side.
"""

import http.server
import json
import os
import socket
import sys
import time
import traceback
from urllib.parse import urlsplit

from cli import InputError

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
FILES = {
    "/": ("draw.html", "text/html; charset=utf-8"),
    "/draw.js": ("draw.js", "text/javascript; charset=utf-8"),
    "/draw.css": ("draw.css", "text/css; charset=utf-8"),
}
MAX_BYTES = 5_000_000  # larger request bodies are refused (413) before they are processed
MAX_PIXELS = 16_000_000  # larger images are refused before they are decoded
IMAGE_TYPES = ("image/", "application/octet-stream")
TIMEOUT = 10  # seconds a client may stall in the middle of a request before it is dropped
LINGER = 2  # seconds to read what a refused client still sends, so that it gets the refusal


class RequestError(Exception):
    """A request that cannot be answered: the HTTP status and a message for the client."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Server(http.server.ThreadingHTTPServer):
    """A thread per connection; a client that disconnects is not an error worth a traceback."""

    request_queue_size = 64

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers the requests of one connection: the page's files, /model and /predict."""

    server_version = "predict_image.py"
    protocol_version = "HTTP/1.1"  # keep-alive: the page's many requests share one connection
    disable_nagle_algorithm = True  # send each answer at once, not after the client's delayed ACK
    timeout = TIMEOUT
    refused = False  # set when a reply refuses the request: the connection then closes

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/model":
            self.send_json(200, self.server.info)
        elif path in FILES:
            name, kind = FILES[path]
            with open(os.path.join(WEB, name), "rb") as f:
                self.send_body(200, f.read(), kind)
        else:
            self.refuse_method_or_path(path)

    def do_POST(self):
        path = urlsplit(self.path).path
        if path != "/predict":
            return self.refuse_method_or_path(path)
        try:
            answer = self.server.answer(read_image(self.headers, self.rfile))
        except RequestError as e:
            return self.send_json(e.status, {"error": str(e)})
        except InputError as e:
            return self.send_json(400, {"error": str(e)})
        except TimeoutError:
            return self.send_json(408, {"error": f"the request stalled for {TIMEOUT} s; send it again"})
        except Exception:  # a bug: say so to the client and in the log, and go on serving
            self.log_error("failed to answer %s:\n%s", self.requestline, traceback.format_exc())
            return self.send_json(500, {"error": "the server failed to answer; its log says why"})
        self.send_json(200, answer)

    def do_PUT(self):
        self.refuse_method_or_path(urlsplit(self.path).path)

    do_DELETE = do_PATCH = do_PUT

    def refuse_method_or_path(self, path):
        if path == "/predict":
            self.send_json(405, {"error": "send the image with POST /predict"})
        elif path in FILES or path == "/model":
            self.send_json(405, {"error": f"{path} only answers GET"})
        else:
            self.send_json(404, {"error": f"no such page: {path}; the drawing page is at /"})

    def send_json(self, status, obj):
        self.send_body(status, json.dumps(obj).encode(), "application/json")

    def send_body(self, status, body, kind):
        """Send a complete response; after an error, close the connection (its body may be unread)."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
            self.refused = True
        self.end_headers()
        self.wfile.write(body)

    def finish(self):
        super().finish()
        if self.refused:
            drain(self.connection, LINGER)

    def log_error(self, format, *args):
        """Log errors, but not the routine end of a kept-alive connection left idle for TIMEOUT s."""
        if not format.startswith("Request timed out"):
            super().log_error(format, *args)

    def log_request(self, code="-", size="-"):
        """Log refused requests only: drawing sends many requests a second."""
        if isinstance(code, int) and code >= 400:
            self.log_message('"%s" %d', self.requestline, code)


def read_image(headers, body):
    """The bytes of the image in a POST request's body, or RequestError saying what is wrong."""
    kind = headers.get("Content-Type", "application/octet-stream")
    if not kind.lower().startswith(IMAGE_TYPES):
        raise RequestError(415, f"the body must be an image sent as image/png, image/jpeg, ..., not {kind} "
                                "(curl: -H 'Content-Type: image/png')")
    length = headers.get("Content-Length")
    if length is None:
        raise RequestError(411, "send the image with a Content-Length header")
    if not length.strip().isdigit():
        raise RequestError(400, f"Content-Length must be a number of bytes, not {length!r}")
    size = int(length)
    if size == 0:
        raise RequestError(400, "the request has no image: its body is empty")
    if size > MAX_BYTES:
        raise RequestError(413, f"the image is too large ({size:,} bytes; at most {MAX_BYTES:,})")
    data = body.read(size)
    if len(data) < size:
        raise RequestError(400, f"the body ended after {len(data):,} of {size:,} bytes")
    return data


def drain(connection, seconds):
    """Read and drop what the client still sends, for up to `seconds`, after the reply is out.

    Closing a socket with unread input resets the connection; a client that sends
    a whole refused body before it reads the reply (as Python's http.client does)
    would then see the reset instead of the reply.
    """
    deadline = time.monotonic() + seconds
    try:
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(seconds)
        while time.monotonic() < deadline and connection.recv(1 << 16):
            pass
    except OSError:
        pass


def make_server(host, port, answer, info):
    """A server listening on (host, port), not yet serving.

    answer(image_bytes) returns the JSON-ready answer to POST /predict or raises
    InputError; info is the JSON-ready answer to GET /model.
    """
    try:
        server = Server((host, port), Handler)
    except OSError as e:  # the port is taken, the address is not this computer's, ...
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}; "
                         "choose another --port or --host") from None
    server.answer = answer
    server.info = info
    return server
