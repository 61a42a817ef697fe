"""Take docs/draw-page.png: the drawing page of `predict_image.py --serve` with a digit drawn on it.

    python docs/screenshot_draw_page.py [--model model_mnist.npz]

Starts the server, opens the page in headless Chromium, draws a 5 with mouse
events, waits for the answer and saves a screenshot. Needs what the page's tests
need: Debian's chromium and chromium-driver, and selenium (requirements-dev.txt).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import browser  # noqa: E402
from digits import cli  # noqa: E402
from digits.model_file import load_model  # noqa: E402

SCREENSHOT = os.path.join(ROOT, "docs", "draw-page.png")
FIVE = [[(205, 45), (95, 48), (85, 135), (130, 118), (180, 128), (212, 165), (210, 210),
         (175, 242), (120, 248), (75, 225)]]


def main():
    p = cli.ArgumentParser(prog="docs/screenshot_draw_page.py", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="model_mnist.npz", help="model file (default: %(default)s)")
    p.add_argument("--out", default=SCREENSHOT, help="PNG to write (default: docs/draw-page.png)")
    args = p.parse_args()
    cli.check_output_path("--out", args.out, "draw-page.png")
    load_model(args.model)  # a missing or broken model: one line, before the browser starts
    why_not = browser.missing()
    if why_not:
        raise cli.InputError(why_not)
    with browser.serving(args.model) as (_, url), browser.chromium(width=1200, height=800) as driver:
        driver.get(url)
        browser.draw(driver, FIVE)
        browser.wait_for_answer(driver)
        shown, whole = driver.execute_script(
            "return [window.innerHeight, document.documentElement.scrollHeight]")
        size = driver.get_window_size()
        driver.set_window_size(size["width"], size["height"] + whole - shown)  # the whole page
        png = driver.get_screenshot_as_png()
    cli.write_atomically(args.out, lambda f: f.write(png))
    print(f"Screenshot written to {args.out}")


if __name__ == "__main__":
    cli.run_main("docs/screenshot_draw_page.py", main)
