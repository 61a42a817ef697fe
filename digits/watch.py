"""The live training page of `python train.py --watch`: the network as it learns, in a browser.

    GET  /          the page: web/watch.html, with web/watch.js and web/watch.css
    GET  /state?version=N&points=K&snapshots=S&page=ID
                    JSON: the run's settings and status, its curve points from the K-th on,
                    its test-set snapshots from the S-th on, and the latest snapshot in full
                    if the page has not seen it (with the strip of test digits, if S is 0);
                    answered as soon as the run is at another version than N (or after 10 s);
                    N, K and S are whole numbers (0 if left out; another value: 400)
    POST /stop      body {} sent as application/json: stop training as Ctrl-C does (another body: 400)

The training thread calls step() after every step. That costs a clock reading,
except a few times a second, when it adds a point to the curves (the mean loss
and accuracy of the steps since the last point), and now and then a snapshot:
between two steps, the forward pass on the test set (where both BLAS threads run
it fastest, instead of fighting training's threads for the cores from another
thread) and one copy of W1. The snapshot thread turns that into what the page
shows (the rows of W1 as a PNG, the confusion matrix, the answers on a strip of
test digits, all as JSON), off the training thread. Snapshots are spaced so that
they take at most 1/50 of the time. Nothing here writes to the parameters:
training learns the same arrays with or without a page.
"""

import asyncio
import base64
import functools
import io
import json
import math
import re
import secrets
import threading
import time
import traceback
from urllib.parse import parse_qs

import numpy as np

import network
from digits import web_server
from digits.report import confusion_matrix

POINT_EVERY = 0.25  # seconds between curve points within an epoch; epochs end with a point too,
POINT_GAP = 0.1     # but never less than this apart
SNAPSHOT_SHARE = 0.02  # snapshots take at most this fraction of the time (both threads' work)
SNAPSHOT_GAP = 0.25  # and there are at most 4 a second
LONG_POLL = 10.0  # seconds a /state request waits for news before answering anyway
STRIP = 24  # test digits shown with the network's current answer: the first ones of the test set
TILES_MAX = 256  # rows of W1 drawn on the page (all of them, with 784-128-10)
MAX_PAGES = 256  # page ids remembered (for farewell()); beyond, the one heard from least lately is forgotten
FAREWELL = 3.0  # seconds the finished run waits for open pages to fetch its final state


class Watch:
    """What the page shows, shared by the training thread, the snapshot thread and the server."""

    def __init__(self, epochs):
        self.run = secrets.token_hex(8)  # a page that sees another run id reloads
        self.settings = []  # [label, value] pairs
        self.epochs = epochs
        self.lock = threading.Lock()
        self.version = 0  # counts every change the page could see
        self.status = {"state": "loading", "message": "Loading MNIST"}
        self.points = []  # [epochs done (fractional), mean loss, mean train accuracy]
        self.snapshots = []  # [epochs done, test accuracy]: the test-set curve
        self.latest = None  # JSON bytes of the latest snapshot in full
        self.epoch_seconds = []
        self.test = None  # (X_test, y_test, strip: [PNG data URL, label] of the first test digits)
        self.pages = {}  # page id -> [time of its last answer, version it was sent, waiting now],
                         # in the order they were last heard from
        self.on_stop = None
        self.clock = {"started": None, "epoch_started": None, "last_point": None, "next_snapshot": 0.0,
                      "ended": None}
        self.since_point = (0, 0.0, 0.0, 0.0)  # (epoch, done, loss, accuracy) at the last point
        self.last_step = None  # (epoch, done, loss, accuracy) of the last step
        self.job = None  # (epochs done, what evaluate() saw, its seconds) for the snapshot thread
        self.job_ready = threading.Condition(self.lock)
        self.snapshot_busy = False
        self.closing = False
        self.server = None
        self.news = None  # an asyncio.Event on the server's loop, set and replaced on every change

    # The site -------------------------------------------------------------------------------

    def site(self):
        return web_server.Site(
            files={"/": "watch.html", "/watch.js": "watch.js", "/watch.css": "watch.css"},
            routes={"/state": web_server.Route(("GET", "HEAD"), self.answer_state),
                    "/stop": web_server.Route(("POST",), self.answer_stop, "{} (an empty JSON object)",
                                              ("application/json",))})

    async def answer_state(self, request, body):
        """The run since what the page has (see the module docstring), as JSON bytes."""
        query = parse_qs(request.query)

        def number(name):
            value = query.get(name, ["0"])[-1]
            if not (value.isascii() and value.isdigit() and len(value) < 10):
                raise web_server.RequestError(400, f"{name} must be a whole number of at most 9 digits, "
                                                   f"not {value[:20]!r}")
            return int(value)

        version, points, snapshots = number("version"), number("points"), number("snapshots")
        page = query.get("page", [""])[-1][:40]
        deadline = time.monotonic() + LONG_POLL
        with self.lock:
            self.forget_old_pages()
            seen = self.pages.pop(page, [time.monotonic(), 0, False])
            self.pages[page] = seen[:2] + [True]
        try:
            while self.version == version and not self.closing:  # another version: answer at once
                news = self.news = self.news or asyncio.Event()
                try:
                    await asyncio.wait_for(news.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
        finally:
            with self.lock:
                self.pages.pop(page, None)
                self.pages[page] = [time.monotonic(), self.version, False]
        with self.lock:
            return self.state_json(points, snapshots)

    def answer_stop(self, request, body):
        if re.fullmatch(rb"[ \t\r\n]*\{[ \t\r\n]*\}[ \t\r\n]*", body) is None:  # JSON's whitespace only
            raise web_server.RequestError(400, "the body must be {} (an empty JSON object), as the page sends it")
        if self.status["state"] in ("loading", "training") and self.on_stop is not None:
            self.on_stop()
            self.set_status("stopping", "Stopping after the current step, as Ctrl-C does")
        return {"state": self.status["state"]}

    def state_json(self, points, snapshots):
        """The page's answer as JSON bytes (called with the lock held)."""
        seconds, clock = self.epoch_seconds, self.clock
        head = {
            "run": self.run, "version": self.version, "status": self.status, "settings": self.settings,
            "epochs": self.epochs, "epochs_done": len(seconds),
            "elapsed": (clock["ended"] or time.monotonic()) - clock["started"] if clock["started"] else 0.0,
            "seconds_per_epoch": seconds[-1] if seconds else None,
            "from_point": min(points, len(self.points)), "points": self.points[points:],
            "from_snapshot": min(snapshots, len(self.snapshots)), "snapshots": self.snapshots[snapshots:],
        }
        if self.latest is not None and snapshots < len(self.snapshots):  # a snapshot the page has not seen
            if snapshots == 0:
                head["strip"] = self.test[2]  # and the test digits it is about, once
            return json.dumps(head, allow_nan=False).encode()[:-1] + b', "latest": ' + self.latest + b"}"
        return json.dumps(head, allow_nan=False).encode()

    def forget_old_pages(self):
        """Forget the pages that have not asked for a minute, and beyond MAX_PAGES - 1 those heard
        from least lately, making room for one more (called with the lock held). self.pages is in
        the order pages were last heard from, so this looks at the pages it forgets and one more.
        """
        now = time.monotonic()
        while self.pages:
            page, (seen, _, waiting) = next(iter(self.pages.items()))
            if len(self.pages) < MAX_PAGES and (waiting or now - seen <= 60):
                return
            del self.pages[page]

    def changed(self):
        """Count a change and wake the pages waiting for one (called with the lock held)."""
        self.version += 1
        loop = self.server.loop if self.server else None
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.wake_pages)
            except RuntimeError:  # the loop has just closed
                pass

    def wake_pages(self):
        if self.news is not None:
            self.news.set()
            self.news = None

    def set_status(self, state, message, **extra):
        with self.lock:
            self.status = {"state": state, "message": message, **extra}
            self.changed()

    # The training thread ------------------------------------------------------------------------

    def data_loaded(self, X_test, y_test, settings):
        """Training is about to start: keep the test set, draw the strip of test digits, and show
        the run's settings ([label, value] pairs).
        """
        strip = [[png_data_url(255 - np.round(X_test[:, i] * 255).astype(np.uint8).reshape(28, 28)),
                  int(y_test[i])] for i in range(min(STRIP, X_test.shape[1]))]
        with self.lock:
            self.test = (X_test, y_test, strip)
            self.settings = settings
        self.set_status("training", "Training")

    def start(self, params):
        """Training starts now from `params`: a first snapshot of the untrained network."""
        now = time.monotonic()
        self.clock.update(started=now, epoch_started=now, last_point=now)
        self.snapshot(0.0, params, force=True)

    def step(self, params, epoch, done, loss, accuracy):
        """After every step: a curve point and a snapshot now and then (see the module docstring)."""
        now = time.monotonic()
        clock = self.clock
        self.last_step = (epoch, done, loss, accuracy)
        since_point = now - clock["last_point"]
        if done == 1.0:
            with self.lock:
                self.epoch_seconds.append(now - clock["epoch_started"])
            clock["epoch_started"] = now
        if since_point < POINT_GAP or (since_point < POINT_EVERY and done < 1.0):
            return
        self.add_point(epoch, done, loss, accuracy, now)
        if not self.snapshot_busy and now >= clock["next_snapshot"]:
            self.snapshot(epoch - 1 + done, params)

    def add_point(self, epoch, done, loss, accuracy, now):
        """The mean loss and accuracy of the steps since the last point, from the epoch's running means."""
        last_epoch, last_done, last_loss, last_accuracy = self.since_point
        if last_epoch != epoch:
            last_done = last_loss = last_accuracy = 0.0
        share = done - last_done
        if share <= 0:
            return
        mean_loss = (loss * done - last_loss * last_done) / share
        mean_accuracy = (accuracy * done - last_accuracy * last_done) / share
        self.since_point = (epoch, done, loss, accuracy)
        self.clock["last_point"] = now
        with self.lock:
            self.points.append([round(epoch - 1 + done, 4), finite(mean_loss), round(mean_accuracy, 5)])
            self.changed()

    def snapshot(self, progress, params, force=False):
        """Evaluate params on the test set now and hand what was seen to the snapshot thread
        (waiting for it to be free if `force`; else only if it is).
        """
        with self.lock:
            while force and self.snapshot_busy and not self.closing:
                self.job_ready.wait(1.0)
            if self.snapshot_busy or self.closing:
                return
            self.snapshot_busy = True
        started = time.monotonic()
        seen = evaluate(params, self.test[0])
        with self.lock:
            self.job = (progress, seen, time.monotonic() - started)
            self.job_ready.notify_all()

    def finish(self, params, outcome, message, **extra):
        """Training is over: the last point and a snapshot of `params` (None: none), then the
        final status, {"state": "over", "outcome": outcome, "message": message, **extra}.
        """
        self.clock["ended"] = time.monotonic()
        if params is not None and self.last_step is not None:
            epoch, done, loss, accuracy = self.last_step
            self.add_point(epoch, done, loss, accuracy, time.monotonic())
            self.snapshot(epoch - 1 + done, params, force=True)
            with self.lock:
                while self.snapshot_busy and not self.closing:
                    self.job_ready.wait(1.0)
        self.set_status("over", message, outcome=outcome, **extra)

    def farewell(self):
        """Wait (at most FAREWELL seconds) until every page seen lately has the final status."""
        deadline = time.monotonic() + FAREWELL
        while time.monotonic() < deadline:
            with self.lock:
                now = time.monotonic()
                behind = [p for p, (seen, version, waiting) in self.pages.items()
                          if version < self.version and (waiting or now - seen < 2.0)]
            if not behind:
                return
            time.sleep(0.02)

    # The snapshot thread ------------------------------------------------------------------------

    def snapshot_loop(self):
        """Describe each evaluation the training thread hands over; space them (SNAPSHOT_SHARE)."""
        while True:
            with self.lock:
                while self.job is None and not self.closing:
                    self.job_ready.wait()
                if self.closing:
                    return
                (progress, seen, evaluated), self.job = self.job, None
            started = time.monotonic()
            try:
                snapshot = describe(seen, self.test[1])
                text = json.dumps({"epochs_done": progress, **snapshot}, allow_nan=False).encode()
            except Exception:  # a bug: the page goes without this snapshot, training goes on
                web_server.log(f"the training page's snapshot failed:\n{traceback.format_exc()}")
                snapshot = None
            with self.lock:
                if snapshot is not None:
                    self.snapshots.append([round(progress, 4), snapshot["test_accuracy"]])
                    self.latest = text
                self.snapshot_busy = False
                finished = time.monotonic()
                self.clock["next_snapshot"] = finished + max(
                    SNAPSHOT_GAP, (evaluated + finished - started) * (1 / SNAPSHOT_SHARE - 1))
                self.changed()
                self.job_ready.notify_all()

    def close(self):
        """Stop the snapshot thread and the server."""
        with self.lock:
            self.closing = True
            self.job_ready.notify_all()
            self.changed()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def finite(value):
    """A float JSON can carry: None for NaN and infinities (a diverging run)."""
    return round(float(value), 6) if math.isfinite(value) else None


def evaluate(params, X_test):
    """What the network `params` does with the test set now: its answers, its dead units (Z1 <= 0
    for every test image), the probability of each answer on the strip, and a copy of W1.
    """
    Z1, A1, Z2, A2 = network.forward_prop(params, X_test)
    predicted = A2.argmax(axis=0)
    strip = np.arange(min(STRIP, X_test.shape[1]))
    return {"predicted": predicted, "dead": np.flatnonzero(~(Z1 > 0).any(axis=1)),
            "strip": A2[predicted[strip], strip], "W1": params["W1"][:TILES_MAX].copy(),
            "hidden": params["W1"].shape[0]}


def describe(seen, y_test):
    """What the page shows of an evaluate() on the test set with labels y_test, JSON-ready."""
    predicted = seen["predicted"]
    return {
        "test_accuracy": round(float(np.mean(predicted == y_test)), 5),
        "confusion": confusion_matrix(predicted, y_test).tolist(),
        "dead_units": seen["dead"].tolist(),
        "hidden": int(seen["hidden"]),
        "weights": tiles_png_data_url(weight_tiles(seen["W1"])),
        "strip": [[int(predicted[i]), finite(p)] for i, p in enumerate(seen["strip"])],
    }


def weight_tiles(W1, columns=16):
    """The rows of W1 as 28x28 tiles in a grid, coloured as in the training report: red positive,
    blue negative, each row scaled to its own largest |w|; 1 px of white between tiles.

    A palette image: pixel values 0-254 index red_blue(255), 255 is white.
    """
    rows = math.ceil(W1.shape[0] / columns)
    limit = np.abs(W1).max(axis=1, keepdims=True)
    levels = np.round((W1 / np.where(limit > 0, limit, 1) + 1) * 127).astype(np.uint8).reshape(-1, 28, 28)
    grid = np.full((rows * 29 + 1, columns * 29 + 1), 255, np.uint8)
    for k, tile in enumerate(levels):
        r, c = divmod(k, columns)
        grid[1 + 29 * r:29 * (r + 1), 1 + 29 * c:29 * (c + 1)] = tile
    return grid


def tiles_png_data_url(grid):
    """weight_tiles() as a PNG data URL."""
    from PIL import Image

    image = Image.fromarray(grid, "P")
    image.putpalette(np.vstack([red_blue(255), [[255, 255, 255]]]).ravel().tolist())
    return png_data_url(image)


# ColorBrewer's RdBu, 11 colours from blue (negative) through white to red (positive): the anchors
# of matplotlib's RdBu_r, the training report's colour map, which runs linearly between them.
RED_BLUE = ("053061", "2166ac", "4393c3", "92c5de", "d1e5f0", "f7f7f7",
            "fddbc7", "f4a582", "d6604d", "b2182b", "67001f")


@functools.cache
def red_blue(n=256):
    """The report's colour map (RdBu_r) as n RGB colours, without importing matplotlib."""
    anchors = np.array([[int(c[i:i + 2], 16) for i in (0, 2, 4)] for c in RED_BLUE], float)
    at = np.linspace(0, len(RED_BLUE) - 1, n)
    return np.round(np.stack([np.interp(at, np.arange(len(RED_BLUE)), anchors[:, k]) for k in range(3)],
                             axis=1)).astype(np.uint8)


def png_data_url(image):
    """A PIL image, or an array of gray levels, as a PNG data URL."""
    from PIL import Image

    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def open_watch(host, port, epochs):
    """A Watch whose page is served on (host, port) from now on, in a thread of its own; the
    snapshot thread waits for data_loaded(). InputError if the address cannot be used.
    """
    watch = Watch(epochs)
    watch.server = web_server.make_server(host, port, watch.site())
    threading.Thread(target=watch.server.serve_forever, name="watch-server", daemon=True).start()
    threading.Thread(target=watch.snapshot_loop, name="watch-snapshots", daemon=True).start()
    return watch
