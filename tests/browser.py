"""Headless Chromium driven through chromedriver, and digits drawn on the page's canvas with it.

Needs Debian's chromium and chromium-driver (or CHROMIUM / CHROMEDRIVER pointing at
other binaries) and the selenium package.
"""

import contextlib
import itertools
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Digits as strokes on the 280x280 pad: each stroke a list of (x, y) points to draw through.
DIGITS = {
    0: [[(140 + 62 * math.sin(t / 12 * math.pi), 140 - 95 * math.cos(t / 12 * math.pi))
         for t in range(25)]],
    1: [[(150, 40), (140, 245)]],
    2: [[(80, 90), (110, 50), (160, 42), (200, 70), (200, 115), (80, 235), (215, 235)]],
    3: [[(80, 55), (150, 40), (200, 75), (190, 115), (130, 135), (200, 160), (205, 210),
         (150, 245), (80, 230)]],
    4: [[(160, 40), (70, 170), (215, 170)], [(175, 90), (175, 250)]],
    7: [[(65, 50), (215, 50), (120, 250)]],
}


def missing():
    """Why a browser test cannot run here, or None if it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -r requirements-dev.txt)"
    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.access(program, os.X_OK):
            return f"{program} not found (Debian: apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def chromium(width=1200, height=900):
    """A headless Chromium with a fresh profile, controlled through selenium; removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def serving(model, *options):
    """`predict_image.py --serve` on a free port: (process, URL of the page); stopped afterwards."""
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "predict_image.py"), "--serve", "--port", "0",
         "--model", str(model), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        if not first_line.startswith("Drawing page: "):
            raise RuntimeError(f"the server did not start: {first_line}{process.stderr.read()}")
        yield process, first_line.split()[-1]
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=10)


# Numbers as they are drawn on the pad: two digits, each drawn narrower, side by side.
NUMBERS = {
    "47": lambda: squeezed(DIGITS[4], 0) + squeezed(DIGITS[7], 145),  # well apart
    "17": lambda: squeezed(DIGITS[1], 0) + squeezed(DIGITS[7], 85),  # close together
    "04": lambda: squeezed(DIGITS[0], 0) + squeezed(DIGITS[4], 80),  # closer than a pen's width
    "73": lambda: squeezed(DIGITS[7], 0) + squeezed(DIGITS[3], 70),  # the 7's foot touching the 3
}


def page_pen():
    """The width in px of the drawing page's pen: PEN_WIDTH in web/draw.js."""
    with open(os.path.join(ROOT, "web", "draw.js"), encoding="utf-8") as page:
        return int(re.search(r"const PEN_WIDTH = (\d+);", page.read()).group(1))


PEN_WIDTH = page_pen()


def squeezed(strokes, left, width=0.45, height=0.8):
    """`strokes` drawn narrower (and shorter), into the part of the pad from x = left on."""
    return [[(left + x * width, 40 + (y - 40) * height) for x, y in stroke] for stroke in strokes]


def bounds(strokes):
    """(left, top, right, bottom): the box around the points of `strokes`."""
    xs, ys = [x for stroke in strokes for x, _ in stroke], [y for stroke in strokes for _, y in stroke]
    return min(xs), min(ys), max(xs), max(ys)


def moved(strokes, dx, dy):
    """`strokes` moved dx px right and dy px down."""
    return [[(x + dx, y + dy) for x, y in stroke] for stroke in strokes]


def fitted(strokes, box):
    """`strokes` scaled and moved to fill `box` (left, top, right, bottom) on the pad."""
    (x0, y0, x1, y1), (left, top, right, bottom) = bounds(strokes), box
    across, down = (right - left) / (x1 - x0), (bottom - top) / (y1 - y0)
    return [[(left + (x - x0) * across, top + (y - y0) * down) for x, y in stroke] for stroke in strokes]


def written_narrow(number, width, step):
    """The strokes of `number` (digits of DIGITS), each squeezed to `width` of its width, `step` px apart."""
    return [stroke for k, digit in enumerate(number) for stroke in squeezed(DIGITS[int(digit)], 10 + k * step, width)]


def written_overlapping(number, width, pair):
    """As written_narrow, 1.4 digit widths apart, but the digit after the `pair`-th (from 0) only
    0.85 of a width after it: the strokes of those two overlap."""
    step = 150 * width  # the width of a digit of DIGITS squeezed
    lefts = itertools.accumulate([10] + [step * (0.85 if k == pair else 1.4) for k in range(len(number) - 1)])
    return [stroke for digit, left in zip(number, lefts) for stroke in squeezed(DIGITS[int(digit)], left, width)]


def written_joined(number, width, step, lifted=0.0):
    """As written_narrow, with the pen running on from the lower right of each digit to the
    leftmost point of the next, dipping on the way, as in joined-up writing; with `lifted`, the
    joining stroke leaves out that share of each of its halves next to the digits."""
    strokes, before = [], []
    for k, digit in enumerate(number):
        digit = squeezed(DIGITS[int(digit)], 10 + k * step, width)
        if before:
            (x0, y0), (x1, y1) = (max((p for s in before for p in s), key=lambda p: p[0] + 0.5 * p[1]),
                                  min((p for s in digit for p in s), key=lambda p: p[0]))
            dip = ((x0 + x1) / 2, (y0 + y1) / 2 + 20)
            strokes.append([toward(x0, y0, dip, lifted), dip, toward(x1, y1, dip, lifted)])
        strokes, before = strokes + digit, digit
    return strokes


def toward(x, y, point, share):
    """The point `share` of the way from (x, y) to `point`."""
    return x + (point[0] - x) * share, y + (point[1] - y) * share


def drawing(strokes, width=280, dashes=None, pen_width=None):
    """A PIL image of `strokes` drawn as the pad draws them: black, round pen (the page's, or
    `pen_width` px wide), on a white canvas 280 px tall and `width` px wide (the pad's is 280).
    With dashes = (ink, skip), the pen leaves ink along `ink` px of each stroke, then none along
    `skip` px, and so on (chalk skipping, a pen running dry)."""
    from PIL import Image, ImageDraw

    radius = (PEN_WIDTH if pen_width is None else pen_width) / 2
    image = Image.new("L", (width, 280), 255)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        points = densify(stroke, step=2)
        runs = itertools.accumulate((math.dist(p, q) for p, q in zip(points, points[1:])), initial=0.0)  # px along it
        for (x, y), run in zip(points, runs):
            if dashes is None or run % sum(dashes) < dashes[0]:
                pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return image


def densify(points, step=8):
    """The polyline through `points` with a point at least every `step` px, as a pen moves."""
    dense = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        dense += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return dense


def draw(driver, strokes, pointer="mouse"):
    """Draw `strokes` (as in DIGITS) on the #pad canvas with mouse or touch events."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    pad = driver.find_element("id", "pad")
    scale = pad.size["width"] / 280  # the canvas may be shown smaller than 280 px
    kind = interaction.POINTER_TOUCH if pointer == "touch" else interaction.POINTER_MOUSE
    actions = ActionBuilder(driver, mouse=PointerInput(kind, pointer), duration=0)
    for stroke in strokes:
        points = [(round((x - 140) * scale), round((y - 140) * scale)) for x, y in densify(stroke)]
        actions.pointer_action.move_to(pad, *points[0]).pointer_down()
        for x, y in points[1:]:
            actions.pointer_action.move_to(pad, x, y)
        actions.pointer_action.pointer_up()
    actions.perform()


def wait_for_answer(driver, state="answered"):
    """The page's answer once every drawn stroke has been answered: (digit shown, probabilities)."""
    from selenium.webdriver.support.ui import WebDriverWait

    answer = driver.find_element("id", "answer")
    WebDriverWait(driver, 20, poll_frequency=0.05).until(lambda _: answer.get_attribute("data-state") == state)
    shown = [b.get_attribute("data-probability") for b in driver.find_elements("css selector", "#bars li")]
    return driver.find_element("id", "digit").text, [float(p) for p in shown if p is not None]
