"""Take docs/watch-page.png: the page of `train.py --watch` in the middle of the default run.

    python docs/screenshot_watch_page.py [--epoch 60] [--out docs/watch-page.png]

Runs `python train.py --watch` (full-batch gradient descent, as the original) in a
temporary folder, opens the page in headless Chromium, saves a screenshot once the
page shows the snapshot of epoch --epoch or later, then presses Stop. Needs what the
page's tests need: Debian's chromium and chromium-driver, and selenium
(requirements-dev.txt).
"""

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import browser  # noqa: E402
from digits import cli  # noqa: E402

SCREENSHOT = os.path.join(ROOT, "docs", "watch-page.png")


def main():
    p = cli.ArgumentParser(prog="docs/screenshot_watch_page.py", description=__doc__.splitlines()[0])
    p.add_argument("--epoch", type=cli.positive_int, default=60,
                   help="take it at this epoch's snapshot (default: %(default)s)")
    p.add_argument("--out", default=SCREENSHOT, help="PNG to write (default: docs/watch-page.png)")
    p.add_argument("training", nargs="*", help="options for train.py (default: none, the default run)")
    args = p.parse_args()
    cli.check_output_path("--out", args.out, "watch-page.png")
    why_not = browser.missing()
    if why_not:
        raise cli.InputError(why_not)
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    too_late = f"--epoch {args.epoch}: the run ended before its page showed that epoch; give an earlier one"

    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--watch", "--port", "0",
                                    *args.training], cwd=folder, stdout=subprocess.PIPE, text=True)
        try:
            first = process.stdout.readline()
            if not first.startswith("Training page: "):  # train.py refused its options, and said why
                sys.exit(process.wait() or 1)
            url = first.split()[-1]
            with browser.chromium(width=1200, height=900) as driver:
                try:
                    driver.get(url)
                    # the epoch shown, once it is the one asked for, the run is over, or the page has
                    # found train.py gone before it heard the end (a short run ended as the page loaded)
                    shown_epoch = WebDriverWait(driver, 600, poll_frequency=0.05).until(lambda d: d.execute_script(
                        "const done = run.latest === null ? 0 : run.latest.epochs_done;"
                        "const gone = document.getElementById('status').dataset.state === 'gone';"
                        f"return (done >= {args.epoch} || (run.status && run.status.state === 'over') || gone)"
                        " && [done];"))[0]
                except WebDriverException:  # no page to load or to follow: has the run ended, and its server?
                    if not ends_within(process, 30):
                        raise
                    raise cli.InputError(too_late) from None
                if shown_epoch < args.epoch:
                    raise cli.InputError(too_late)
                shown, whole = driver.execute_script(
                    "return [window.innerHeight, document.documentElement.scrollHeight]")
                size = driver.get_window_size()
                driver.set_window_size(size["width"], size["height"] + whole - shown)  # the whole page
                png = driver.get_screenshot_as_png()
                driver.find_element("id", "stop").click()
                process.communicate(timeout=120)  # the page still open fetches the end: no wait for it
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    cli.write_atomically(args.out, lambda f: f.write(png))
    print(f"Screenshot written to {args.out}")


def ends_within(process, seconds):
    """Whether `process` ends within `seconds` (what it still prints is read and dropped)."""
    try:
        process.communicate(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


if __name__ == "__main__":
    cli.run_main("docs/screenshot_watch_page.py", main)
