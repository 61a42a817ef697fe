"""train.py --watch: the live training page, through HTTP as a page asks and in headless Chromium.

The browser tests are skipped where Chromium, chromedriver or selenium is missing, unless
REQUIRE_BROWSER is set (as .ci/run does): then a missing browser is a failure.
"""

import base64
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

import browser
from conftest import ROOT, assert_clean_error, request, run_script
from digits.model_file import load_model

# A run that goes on until it is stopped, with a point on the curves every 0.25 s.
ENDLESS = ["--limit", "6000", "--batch-size", "32", "--lr", "0.05", "--momentum", "0.9", "--epochs", "100000"]
why_not = browser.missing()
if why_not and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError(f"REQUIRE_BROWSER is set but {why_not}")
needs_browser = pytest.mark.skipif(why_not is not None, reason=why_not or "")


@contextlib.contextmanager
def training(folder, *options):
    """`train.py --watch --port 0 options` in `folder`: (process, (host, port), URL of the page)."""
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--watch", "--port", "0", *options],
                               cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        if not first_line.startswith("Training page: "):
            raise RuntimeError(f"no training page: {first_line}{process.stderr.read()}")
        url = first_line.split()[-1]
        yield process, (urlsplit(url).hostname, urlsplit(url).port), url
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def state(server, version=0, points=0, snapshots=0, page="test"):
    status, _, body = request(server, "GET", f"/state?version={version}&points={points}"
                                              f"&snapshots={snapshots}&page={page}")
    assert status == 200, body
    return json.loads(body)


def follow_until(server, condition, timeout=60):
    """Ask for /state as the page does until condition(state) holds; that state, with every point
    and the latest snapshot.
    """
    have = {"version": 0, "points": 0, "snapshots": 0}
    points, snapshots, latest = [], [], None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = state(server, **have)
        points[now["from_point"]:] = now["points"]
        snapshots[now["from_snapshot"]:] = now["snapshots"]
        latest = now.setdefault("latest", latest)  # sent when there is a new one
        now["points"], now["snapshots"] = points, snapshots
        if condition(now):
            return now
        have = {"version": now["version"], "points": len(points), "snapshots": len(snapshots)}
    raise AssertionError(f"not reached in {timeout} s: {now['status']}, {len(points)} points")


def arrays(path):
    params, _ = load_model(path)
    return params


def test_watching_does_not_change_what_is_learned(tmp_path):
    common = ["--limit", "6000", "--batch-size", "64", "--lr", "0.1", "--momentum", "0.9", "--epochs", "4",
              "--threads", "1", "--quiet"]
    plain = run_script("train.py", *common, "--model", "plain.npz", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    with training(tmp_path, *common, "--model", "watched.npz") as (process, server, _):
        seen = follow_until(server, lambda s: s["status"]["state"] == "over")
        assert process.wait(timeout=60) == 0
    assert len(seen["points"]) >= 2 and seen["latest"]["epochs_done"] == 4
    for name, value in arrays(tmp_path / "plain.npz").items():
        assert np.array_equal(value, arrays(tmp_path / "watched.npz")[name]), name


def test_a_full_batch_run_shows_its_epochs_and_ends_with_the_printed_accuracy(tmp_path):
    with training(tmp_path, "--epochs", "6", "--threads", "1") as (process, server, _):
        final = follow_until(server, lambda s: s["status"]["state"] == "over")
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    epochs = [p[0] for p in final["points"]]
    assert epochs == sorted(epochs) and epochs[-1] == 6 and all(e == int(e) for e in epochs)  # whole epochs
    assert len(epochs) >= 3 and all(loss > 0 for _, loss, _ in final["points"])
    printed = float(out.split("Test accuracy: ")[1].split()[0])
    assert final["latest"]["test_accuracy"] == pytest.approx(printed, abs=1e-9)
    assert np.sum(final["latest"]["confusion"]) == 10_000
    assert final["status"]["outcome"] == "finished" and final["status"]["model"] == str(tmp_path / "model_mnist.npz")
    assert final["status"]["command"] == "python predict_image.py --serve"


def test_a_diverging_run_tells_the_page_and_writes_nothing(tmp_path):
    with training(tmp_path, "--lr", "1000", "--limit", "2000", "--epochs", "50") as (process, server, _):
        final = follow_until(server, lambda s: s["status"]["state"] == "over")
        out, err = process.communicate(timeout=60)
    assert final["status"]["outcome"] == "failed" and "diverged" in final["status"]["message"]
    assert process.returncode == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_the_page_answers_only_its_own_host_and_page(tmp_path):
    with training(tmp_path, *ENDLESS) as (process, server, _):
        status, kind, page = request(server, "GET", "/")
        assert status == 200 and kind == "text/html; charset=utf-8" and b'id="stop"' in page
        for path, expected in (("/watch.js", "text/javascript"), ("/watch.css", "text/css")):
            status, kind, text = request(server, "GET", path)
            assert status == 200 and kind.startswith(expected) and b"http://" not in text
        json_body = {"Content-Type": "application/json"}
        for method, path, body, headers, expected in (
                ("GET", "/state", None, {"Host": "attacker.example"}, 403),
                ("GET", "/state?version=abc", None, {}, 400), ("GET", "/state?points=-5", None, {}, 400),
                ("GET", "/state?snapshots=1e3", None, {}, 400), ("GET", "/state?version=" + "9" * 10, None, {}, 400),
                ("POST", "/stop", b"{}", {**json_body, "Origin": "http://attacker.example"}, 403),
                ("POST", "/stop", b"{}", {"Content-Type": "text/plain"}, 415),
                ("POST", "/stop", b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
                ("POST", "/stop", b'{"stop": false}', json_body, 400), ("POST", "/stop", b"[]", json_body, 400),
                ("POST", "/stop", b"[" * 100_000, json_body, 400), ("POST", "/stop", b"{}\xff", json_body, 400),
                ("GET", "/stop", None, {}, 405),
                ("POST", "/state", b"{}", json_body, 405),
                ("GET", "/predict", None, {}, 404)):
            status, kind, body = request(server, method, path, body, headers)
            assert (status, kind) == (expected, "application/json"), (method, path, headers)
            assert json.loads(body)["error"]
        assert process.poll() is None  # none of these stopped training
        status, _, _ = request(server, "POST", "/stop", b"{}", {**json_body, "Origin": f"http://{server[0]}:{server[1]}"})
        assert status == 200
        assert process.wait(timeout=60) == 130


def test_listening_on_all_addresses_says_so_and_gives_this_computers_address(tmp_path):
    with training(tmp_path, "--host", "0.0.0.0", *ENDLESS) as (process, server, _):
        assert server[0] == "127.0.0.1"
        assert process.stdout.readline().startswith("Listening on all of this computer's addresses")
        assert request(server, "GET", "/")[0] == 200


def test_a_port_in_use_is_reported_before_the_data_is_loaded(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_script("train.py", "--watch", "--port", taken.getsockname()[1], cwd=tmp_path, timeout=30)
    assert_clean_error(result, "cannot listen on 127.0.0.1:", "choose another --port")
    assert "Loaded MNIST" not in result.stdout and os.listdir(tmp_path) == []


@pytest.mark.parametrize("option", [["--port", "8123"], ["--host", "0.0.0.0"]])
def test_host_and_port_need_watch(tmp_path, option):
    result = run_script("train.py", *option, cwd=tmp_path, timeout=30)
    assert_clean_error(result, f"argument {option[0]}: is for the training page; add --watch")
    assert result.returncode == 2


def test_the_weights_have_the_reports_colours():
    from matplotlib import colormaps
    from digits import watch

    report = np.round(colormaps["RdBu_r"](np.linspace(0, 1, 256))[:, :3] * 255)
    assert np.abs(watch.red_blue().astype(int) - report).max() <= 1
    W1 = np.zeros((20, 784), np.float32)
    W1[0, 0], W1[0, 1], W1[19, 783] = 2.0, -1.0, -0.5  # each row scaled to its own largest |w|
    url = watch.tiles_png_data_url(watch.weight_tiles(W1))
    tiles = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")).astype(int)
    assert tiles.shape == (2 * 29 + 1, 16 * 29 + 1, 3)
    assert np.abs(tiles[1, 1] - report[255]).max() <= 2 and np.abs(tiles[1, 2] - report[64]).max() <= 2
    assert np.abs(tiles[1, 3] - report[128]).max() <= 2  # 0: the middle, near white
    assert np.abs(tiles[29 + 28, 3 * 29 + 28] - report[0]).max() <= 2  # unit 19: row 1, column 3
    assert tuple(tiles[0, 0]) == (255, 255, 255)  # the lines between tiles


# In the browser --------------------------------------------------------------------------------

def page_value(driver, script):
    return driver.execute_script(f"return {script}")


def weights_pixels(driver):
    source = driver.find_element("id", "weights").get_attribute("src")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGB"))


def wait(driver, script, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(f"return {script}"))


@needs_browser
@pytest.mark.slow
def test_a_late_page_and_a_second_tab_follow_the_run_and_stop_it_as_ctrl_c_does(tmp_path):
    ctrl_c, stop = tmp_path / "ctrl-c", tmp_path / "stop"
    for folder in (ctrl_c, stop):
        folder.mkdir()
        (folder / "model_mnist.npz").write_bytes(b"the user's 98% model")

    with training(stop, *ENDLESS) as (process, server, url), browser.chromium() as driver:
        early = follow_until(server, lambda s: len(s["points"]) >= 8)  # then the page opens: late
        driver.get(url)
        wait(driver, "run.points.length >= 8")
        assert page_value(driver, "run.points.slice(0, 8)") == early["points"][:8]  # the whole history
        assert page_value(driver, "run.snapshots[0][0]") == 0  # from the untrained network on
        first = weights_pixels(driver)
        shown = page_value(driver, "document.getElementById('weights').dataset.epochs")
        wait(driver, f"document.getElementById('weights').dataset.epochs !== '{shown}'")
        assert np.abs(weights_pixels(driver).astype(int) - first).max() > 0  # W1 has changed

        first_tab = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(url)
        wait(driver, "run.points.length >= 8 && run.latest !== null")
        points = page_value(driver, "Number(document.getElementById('loss').dataset.points)")
        wait(driver, f"Number(document.getElementById('loss').dataset.points) > {points}")  # the curve advances

        driver.close()  # closing a page does not stop training; the other page goes on
        driver.switch_to.window(first_tab)
        points = page_value(driver, "run.points.length")
        wait(driver, f"run.points.length > {points}")
        assert process.poll() is None
        driver.switch_to.new_window("tab")
        driver.get(url)
        wait(driver, "run.points.length >= 8 && run.latest !== null")
        second_tab = driver.current_window_handle
        driver.switch_to.window(first_tab)
        assert page_value(driver, "document.getElementById('status').dataset.state") == "training"
        driver.find_element("id", "stop").click()
        out, err = process.communicate(timeout=60)
        for tab in (first_tab, second_tab):
            driver.switch_to.window(tab)
            wait(driver, "document.getElementById('status').dataset.state === 'over'", timeout=10)
            status = driver.find_element("id", "status").text
            assert status.startswith("The run is over. Stopped during epoch"), status
            assert driver.find_element("id", "model-path").text == str(stop / "model_mnist.interrupted.npz")
            assert driver.find_element("id", "command").text == \
                "python predict_image.py --serve --model model_mnist.interrupted.npz"
            assert driver.find_element("id", "stop").get_attribute("disabled")
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors

    with training(ctrl_c, *ENDLESS) as (by_signal, signal_server, _):
        follow_until(signal_server, lambda s: len(s["points"]) >= 4)
        by_signal.send_signal(signal.SIGINT)
        signal_out, _ = by_signal.communicate(timeout=60)
    assert process.returncode == by_signal.returncode == 130, err
    assert "Traceback" not in err
    for folder in (ctrl_c, stop):
        assert sorted(os.listdir(folder)) == ["model_mnist.interrupted.npz", "model_mnist.npz"]
        assert (folder / "model_mnist.npz").read_bytes() == b"the user's 98% model"
        assert load_model(folder / "model_mnist.interrupted.npz")[1]["interrupted"] is True
    for text in (out, signal_out):
        assert "model_mnist.npz is kept as it was; this run's model goes to model_mnist.interrupted.npz" in text


@needs_browser
def test_the_page_keeps_the_final_state_once_train_py_has_exited(tmp_path):
    options = ["--limit", "10000", "--batch-size", "64", "--lr", "0.1", "--momentum", "0.9", "--epochs", "12",
               "--model", "small.npz"]
    # The browser first: started after train.py, it could come up after so short a run had ended.
    with browser.chromium() as driver, training(tmp_path, *options) as (process, server, url):
        driver.get(url)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        wait(driver, "document.getElementById('status').dataset.state === 'over'", timeout=10)
        time.sleep(1.5)  # the page has nobody to ask any more: it must not say so over the final state
        printed = float(out.split("Test accuracy: ")[1].split()[0])
        assert driver.find_element("id", "status").text == \
            f"The run is over. Trained for 12 epochs in {out.split('Training time: ')[1].split('s')[0]} s: " \
            f"test accuracy {printed:.2%}."
        assert driver.find_element("id", "command").text == "python predict_image.py --serve --model small.npz"
        assert page_value(driver, "run.latest.epochs_done") == 12
        wrong = len(driver.find_elements("css selector", "#strip figcaption.wrong"))
        captions = driver.find_elements("css selector", "#strip figcaption")
        assert len(captions) == 24 and wrong < 6
        assert sum(int(td.text or 0) for td in driver.find_elements("css selector", "#confusion td")) == 10_000


def test_the_page_ids_it_remembers_are_bounded():
    """Any page can send /state with ids of its own: the watch remembers at most MAX_PAGES."""
    import asyncio
    from types import SimpleNamespace
    from digits import watch as watch_module

    watch = watch_module.Watch(epochs=1)
    watch.changed()  # version 1: a page at version 0 is answered at once

    async def ask(pages):
        for page in pages:
            await watch.answer_state(SimpleNamespace(query=f"version=0&page={page}"), None)

    asyncio.run(ask([f"flood{i}" for i in range(10_000)] + ["real"]))
    assert len(watch.pages) == watch_module.MAX_PAGES and "real" in watch.pages
    assert list(watch.pages)[-2:] == ["flood9999", "real"]
