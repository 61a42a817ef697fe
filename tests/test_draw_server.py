"""predict_image.py --serve over plain HTTP: the page's files, /model, /predict, bad requests, load."""

import contextlib
import gzip
import io
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from digits import web_server
from digits import preprocess
import browser
from browser import serving
from conftest import ROOT, assert_clean_error, heic_photo, request, run_script
from digits.model_file import load_model


@pytest.fixture(scope="module")
def server(trained_model):
    """(host, port) of a running `predict_image.py --serve`; its process is checked alive after use."""
    with serving(trained_model) as (process, url):
        yield urlsplit(url).hostname, urlsplit(url).port
        assert process.poll() is None, process.stderr.read()


def raw_request(server, data):
    """The status code the server answers to the bytes `data`, sent as they are."""
    with socket.create_connection(server, timeout=30) as s:
        s.sendall(data)
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split()[1])


def png_bytes(array_or_image):
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def predict(server, png, timeout=30):
    status, kind, body = request(server, "POST", "/predict", png, {"Content-Type": "image/png"}, timeout)
    assert (status, kind) == (200, "application/json"), body
    return json.loads(body)


@pytest.fixture(scope="module")
def test_pngs(mnist):
    """The first 20 MNIST test digits as PNG bytes, with their labels."""
    images, labels = mnist["test"]
    return [(png_bytes(images[i].reshape(28, 28)), int(labels[i])) for i in range(20)]


def test_page_and_its_files_are_served_from_this_computer_only(server):
    status, kind, page = request(server, "GET", "/")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    page = page.decode()
    assert '<canvas id="pad"' in page and 'id="clear"' in page
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(links) == ["data:,", "draw.css", "draw.js"]  # no CDN, nothing from the network
    for path, expected in (("/draw.js", "text/javascript"), ("/draw.css", "text/css")):
        status, kind, text = request(server, "GET", path)
        assert status == 200 and kind.startswith(expected)
        assert b"http://" not in text and b"https://" not in text


def test_model_describes_the_served_model(server, trained_model):
    status, _, body = request(server, "GET", "/model")
    _, meta = load_model(trained_model)
    info = json.loads(body)
    assert status == 200
    assert info == {"model": str(trained_model), "hidden": 128, "raw": False,
                    "test_accuracy": meta["test_accuracy"]}


def test_predict_answers_as_predict_image_does(tmp_path, server, test_pngs, trained_model):
    for i, (png, _) in enumerate(test_pngs[:5]):
        (tmp_path / f"{i}.png").write_bytes(png)
    result = run_script("predict_image.py", "--json", "--model", trained_model, tmp_path, cwd=tmp_path)
    from_files = [json.loads(line) for line in result.stdout.splitlines()]
    params, _ = load_model(trained_model)
    for (png, label), expected in zip(test_pngs, from_files):
        answer = predict(server, png)
        assert answer["digit"] == expected["digit"] == label
        assert answer["probabilities"] == expected["probabilities"]
        assert answer["confidence"] == expected["confidence"]
        # input and hidden, against an independent computation in float64
        X = preprocess.to_mnist(Image.open(io.BytesIO(png))).reshape(784, 1)
        np.testing.assert_allclose(answer["input"], X[:, 0], atol=5e-4)
        A1 = np.maximum(0, params["W1"].astype(np.float64) @ X + params["b1"])
        np.testing.assert_allclose(answer["hidden"], A1[:, 0], atol=1e-3)


def test_a_heic_photo_sent_is_read_as_predict_image_reads_it(tmp_path, server, trained_model):
    heic_photo(os.path.join(ROOT, "docs", "photo-number.jpg"), tmp_path / "photo.heic")
    result = run_script("predict_image.py", "--json", "--model", trained_model, tmp_path / "photo.heic", cwd=tmp_path)
    expected = json.loads(result.stdout)
    status, kind, body = request(server, "POST", "/predict", (tmp_path / "photo.heic").read_bytes(),
                                 {"Content-Type": "image/heic"})
    assert (status, kind) == (200, "application/json"), body
    answer = json.loads(body)
    assert answer["number"] == expected["number"] == "2577"
    assert [d["probabilities"] for d in answer["digits"]] == [d["probabilities"] for d in expected["digits"]]


def test_a_drawing_is_answered_as_predict_image_answers_it(tmp_path, server, trained_model):
    """The page's answer is the command line's, also where the answer averages several readings
    (a narrow digit is also read widened): a 2, a narrow 2 and a number."""
    drawings = {"2": browser.DIGITS[2], "narrow2": browser.written_narrow("2", 0.3, 60),
                "47": browser.NUMBERS["47"]()}
    for name, strokes in drawings.items():
        browser.drawing(strokes).save(tmp_path / f"{name}.png")
    result = run_script("predict_image.py", "--json", "--model", trained_model,
                        *(tmp_path / f"{name}.png" for name in drawings), cwd=tmp_path)
    for name, line in zip(drawings, result.stdout.splitlines()):
        printed = json.loads(line)
        answer = predict(server, (tmp_path / f"{name}.png").read_bytes())
        read = printed.get("digits", [printed])
        assert answer["number"] == "".join(str(d["digit"]) for d in read), name
        assert [d["probabilities"] for d in answer["digits"]] == [d["probabilities"] for d in read], name
        assert [d["confidence"] for d in answer["digits"]] == [d["confidence"] for d in read], name


def blank_png(size):
    return png_bytes(Image.new("L", size, 255))


@pytest.mark.parametrize("method, path, body, headers, status, words", [
    ("GET", "/nope", None, {}, 404, "no such page: /nope"),
    ("GET", "/predict", None, {}, 405, "POST /predict"),
    ("PUT", "/predict", b"x", {}, 405, "POST /predict"),
    ("POST", "/model", b"x", {}, 405, "only answers GET"),
    ("POST", "/predict", b"{}", {"Content-Type": "application/json"}, 415, "must be an image"),
    ("POST", "/predict", b"", {"Content-Type": "image/png"}, 400, "body is empty"),
    ("POST", "/predict", b"hello, world", {"Content-Type": "image/png"}, 400, "not an image file"),
    ("POST", "/predict", "truncated", {"Content-Type": "image/png"}, 400, "cannot decode image"),
    ("POST", "/predict", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(range(256)) * 4, {"Content-Type": "image/heic"},
     400, "a HEIC/HEIF file, damaged or truncated"),
    ("POST", "/predict", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", {"Content-Type": "image/png"},
     400, "a PDF document, not an image"),
    ("POST", "/predict", "blank", {"Content-Type": "image/png"}, 400, "no digit found"),
    ("POST", "/predict", "huge", {"Content-Type": "image/png"}, 400, "image is too large"),
    ("POST", "/predict", b"x" * 100, {"Content-Type": "image/png", "Content-Length": "999999999"}, 413,
     "too large"),
    ("POST", "/predict", iter([b"x" * 100]), {"Content-Type": "image/png"}, 411, "Content-Length"),
], ids=lambda v: v if isinstance(v, (int, str)) and not str(v).startswith("/") else None)
def test_bad_requests_get_a_4xx_and_a_message(server, test_pngs, method, path, body, headers, status, words):
    body = {"truncated": test_pngs[0][0][:60], "blank": blank_png((280, 280)),
            "huge": blank_png((5000, 4000))}.get(body, body) if isinstance(body, str) else body
    got, kind, reply = request(server, method, path, body, headers)
    assert (got, kind) == (status, "application/json")
    assert words in json.loads(reply)["error"]
    assert predict(server, test_pngs[0][0])["digit"] == test_pngs[0][1]  # and the server goes on


@pytest.mark.parametrize("body, status", [(b"x" * 20_000_000, 413), (iter([b"x" * 100_000] * 200), 411)],
                         ids=["oversized", "chunked"])
def test_a_client_that_sends_all_of_a_refused_body_still_gets_the_refusal(server, body, status):
    # http.client sends the whole body before it reads: the server must read it too, not reset
    got, _, reply = request(server, "POST", "/predict", body, {"Content-Type": "image/png"})
    assert got == status and json.loads(reply)["error"]


@pytest.mark.parametrize("data", [
    b"GET /two words HTTP/1.1\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: ten\r\n\r\n",
])
def test_malformed_requests_get_400(server, data):
    assert raw_request(server, data) == 400


def test_concurrent_requests_each_get_their_own_answer(server, test_pngs):
    expected = [predict(server, png) for png, _ in test_pngs]
    jobs = [i for i in range(len(test_pngs)) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: predict(server, test_pngs[i][0]), jobs))
    assert answers == [expected[i] for i in jobs]
    assert sum(a["digit"] == test_pngs[i][1] for a, i in zip(answers, jobs)) >= 0.9 * len(jobs)


def test_a_stalled_client_does_not_hold_up_others(server, test_pngs):
    with socket.create_connection(server, timeout=30) as stalled:
        stalled.sendall(b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\nab")
        # the server drops a stalled request after 10 s; this one is answered well before that
        assert predict(server, test_pngs[1][0], timeout=5)["digit"] == test_pngs[1][1]


# What the server holds (its sockets, memory and threads) is read from Linux's /proc.
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc")


def listening_addresses(port):
    """The IPv4 addresses with a socket listening on `port`, from /proc/net/tcp."""
    addresses = []
    with open("/proc/net/tcp") as f:
        for line in list(f)[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                addresses.append(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return addresses


@needs_proc
def test_listens_on_localhost_only_by_default(trained_model):
    with serving(trained_model) as (_, url):
        address = urlsplit(url)
        assert address.hostname == "127.0.0.1"
        assert listening_addresses(address.port) == ["127.0.0.1"]


def test_listening_on_all_addresses_says_so_and_gives_this_computers_address(trained_model):
    with serving(trained_model, "--host", "0.0.0.0") as (process, url):
        second_line = process.stdout.readline()
        address = urlsplit(url)
        assert address.hostname == "127.0.0.1"  # an address a browser on this computer opens
        assert second_line.startswith("Listening on all of this computer's addresses")
        assert request((address.hostname, address.port), "GET", "/")[0] == 200


def test_the_model_is_read_once_at_start(tmp_path, trained_model, test_pngs):
    model = tmp_path / "model.npz"
    model.write_bytes(trained_model.read_bytes())
    with serving(model) as (_, url):
        model.unlink()  # answers keep coming from the model in memory
        answers = [predict((urlsplit(url).hostname, urlsplit(url).port), png) for png, _ in test_pngs[:3]]
    assert [a["digit"] for a in answers] == [label for _, label in test_pngs[:3]]


def test_raw_serves_the_plain_resize(trained_model, test_pngs, mnist):
    with serving(trained_model, "--raw") as (_, url):
        address = urlsplit(url)
        answer = predict((address.hostname, address.port), test_pngs[0][0])
    np.testing.assert_allclose(answer["input"], mnist["test"][0][0] / 255, atol=5e-4)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_ctrl_c_stops_the_server(trained_model, signum):
    with serving(trained_model) as (process, _):
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out.strip().splitlines()[-1] == "Stopped." and err == ""


# The headers of a 1,000-byte image and its first 4 bytes: a client sending an image, halfway
PART_OF_AN_IMAGE = (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                    b"Content-Length: 1000\r\n\r\n\x89PNG")


def test_clients_that_hang_up_while_sending_an_image_leave_nothing_waiting_for_it(trained_model):
    """Each of 300 clients sends the headers of an image and a part of it, then hangs up. Nothing
    of them stays behind waiting for the rest of the image (each such request would hold memory
    until the server stops, and then be logged as failed): the server stops with nothing to log."""
    with serving(trained_model) as (process, url):
        address = (urlsplit(url).hostname, urlsplit(url).port)
        for _ in range(300):
            with contextlib.closing(socket.create_connection(address, timeout=30)) as client:
                client.sendall(PART_OF_AN_IMAGE)
        status, _, _ = request(address, "GET", "/model")  # and the server still answers
        assert status == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and out.strip().splitlines()[-1] == "Stopped."
    assert err == ""


def test_clients_still_sending_an_image_when_the_server_stops_are_not_logged_as_failed(trained_model):
    """100 clients send the headers of an image and a part of it and stay, when Ctrl-C stops the
    server: each request ends as when its client hangs up, unlogged (some of them were logged as
    "POST /predict 500", how many depending on the moment: 47 of 100, 8 of 20)."""
    with serving(trained_model) as (process, url):
        address = (urlsplit(url).hostname, urlsplit(url).port)
        with contextlib.ExitStack() as clients:
            for _ in range(100):
                client = clients.enter_context(contextlib.closing(socket.create_connection(address, timeout=30)))
                client.sendall(PART_OF_AN_IMAGE)
            status, _, _ = request(address, "GET", "/model")  # their headers are in
            assert status == 200
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and out.strip().splitlines()[-1] == "Stopped."
    assert err == ""


# Moments of the server's start: the event loop being made, the first line being printed, serving.
@pytest.mark.parametrize("moment", ["_make_self_pipe", "print", "sleep"])
def test_ctrl_c_at_any_moment_of_the_start_stops_the_server_cleanly(trained_model, moment):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "interrupted_at.py"), moment,
                             os.path.join(ROOT, "predict_image.py"), "--serve", "--port", "0",
                             "--model", str(trained_model)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Stopped." and result.stderr == ""


def test_a_missing_model_is_reported_at_start(tmp_path):
    result = run_script("predict_image.py", "--serve", "--port", "0", cwd=tmp_path, timeout=30)
    assert_clean_error(result, "model_mnist.npz: file not found; train one with: python train.py")


def test_a_port_in_use_is_reported(tmp_path, trained_model):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_script("predict_image.py", "--serve", "--port", port, "--model", trained_model,
                            cwd=tmp_path, timeout=30)
    assert_clean_error(result, f"cannot listen on 127.0.0.1:{port}", "in use", "--port")


@pytest.mark.parametrize("args, words", [
    (["--serve", "a.png"], "leave out IMAGE"),
    (["--serve", "--json"], "leave out IMAGE"),
    (["--serve", "--port", "70000"], "--port: must be at most 65535, got 70000"),
    (["--serve", "--port", "http"], "--port: expected a whole number, got 'http'"),
])
def test_bad_serve_options_are_one_line(tmp_path, trained_model, args, words):
    result = run_script("predict_image.py", *args, "--model", trained_model, cwd=tmp_path, timeout=30)
    assert_clean_error(result, words)
    assert result.returncode == 2



def test_a_server_shut_down_before_it_began_to_serve_does_not_serve():
    """train.py --watch starts the page's server in a thread and shuts it down when training
    ends: should the thread begin only after that, it ends at once, its socket closed or not."""
    server = web_server.make_server("127.0.0.1", 0, web_server.drawing_page(lambda image: {}, {}))
    server.shutdown()
    server.server_close()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive() and server.http is None


def test_a_failure_inside_the_server_is_a_500_and_serving_goes_on(capsys):
    def answer(image_bytes):
        if image_bytes == b"bug":
            raise RuntimeError("a bug in the answer")
        return {"bytes": len(image_bytes)}

    server = web_server.make_server("127.0.0.1", 0, web_server.drawing_page(answer, {}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _, body = request(server.server_address, "POST", "/predict", b"bug", {"Content-Type": "image/png"})
        assert status == 500 and "its log says why" in json.loads(body)["error"]
        status, _, body = request(server.server_address, "POST", "/predict", b"fine", {"Content-Type": "image/png"})
        assert status == 200 and json.loads(body) == {"bytes": 4}
    finally:
        server.shutdown()
        server.server_close()
    log = capsys.readouterr().err
    assert "RuntimeError: a bug in the answer" in log and '"POST /predict HTTP/1.1" 500' in log


# Hostile pages and busy servers ----------------------------------------------------------------

def raw_reply(server, data, timeout=30):
    """(status, headers as a lower-case dict, body) of the reply to the bytes `data`, sent as they are."""
    with socket.create_connection(server, timeout=timeout) as s:
        s.sendall(data)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:]))
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("host, status", [
    ("attacker.example:{port}", 403), ("attacker.example", 403), ("127.0.0.1.attacker.example:{port}", 403),
    ("10.0.0.1:{port}", 403), ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("LOCALHOST.:{port}", 200),
    ("[::1]:{port}", 200), ("127.0.0.2:{port}", 200),
])
def test_only_requests_addressed_to_this_server_are_answered(server, test_pngs, host, status):
    host = host.format(port=server[1])
    for method, path, body, headers in (("GET", "/model", None, {}), ("GET", "/", None, {}),
                                        ("POST", "/predict", test_pngs[0][0], {"Content-Type": "image/png"})):
        got, kind, reply = request(server, method, path, body, {**headers, "Host": host})
        assert got == status, (method, path, reply)
        if status == 403:
            assert kind == "application/json" and "host name" in json.loads(reply)["error"]


@pytest.mark.parametrize("origin, status", [
    ("http://127.0.0.1:{port}", 200), ("http://attacker.example", 403), ("http://127.0.0.1:1", 403),
    ("null", 403), ("https://127.0.0.1:{port}", 403),
])
def test_only_the_page_itself_may_post(server, test_pngs, origin, status):
    headers = {"Content-Type": "image/png", "Origin": origin.format(port=server[1])}
    got, _, reply = request(server, "POST", "/predict", test_pngs[0][0], headers)
    assert got == status, reply
    if status == 403:
        assert "other web pages" in json.loads(reply)["error"]


def test_a_post_without_an_image_content_type_is_refused(server, test_pngs):
    """Browsers send a POST without Content-Type (or with text/plain) cross-site without asking first."""
    for kind in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        head = f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(test_pngs[0][0])}\r\n"
        head += f"Content-Type: {kind}\r\n" if kind else ""
        status, _, body = raw_reply(server, head.encode() + b"\r\n" + test_pngs[0][0])
        assert status == 415 and "must be an image" in json.loads(body)["error"]


def test_a_compressed_body_is_refused_not_read_as_the_image(server, test_pngs):
    """A body sent with a Content-Encoding (gzip) is not the image its Content-Type names: it is
    refused as such, whether the body was compressed or not, rather than read as it came."""
    png = test_pngs[0][0]
    for coding, body in (("gzip", gzip.compress(png)), ("gzip", png), ("br", png)):
        head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                f"Content-Encoding: {coding}\r\nContent-Length: {len(body)}\r\n\r\n")
        status, _, reply = raw_reply(server, head.encode() + body)
        assert status == 415 and f"Content-Encoding: {coding}" in json.loads(reply)["error"], reply
    status, _, reply = raw_reply(server, (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                                          f"Content-Encoding: identity\r\nContent-Length: {len(png)}\r\n"
                                          f"Connection: close\r\n\r\n").encode() + png)
    assert status == 200 and json.loads(reply)["digit"] in range(10)


def test_a_content_length_of_other_digits_is_a_400(server):
    status, _, body = raw_reply(server, "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                                        "Content-Length: \u00b2\r\n\r\nab".encode("latin-1"))
    assert status == 400 and "Content-Length" in json.loads(body)["error"]


@pytest.mark.parametrize("method, path, allow", [
    ("OPTIONS", "/predict", "POST"), ("OPTIONS", "/", "GET, HEAD"), ("BREW", "/predict", "POST"),
    ("GET", "/predict", "POST"), ("DELETE", "/model", "GET, HEAD"), ("POST", "/draw.js", "GET, HEAD"),
])
def test_other_methods_get_a_json_405_with_allow(server, method, path, allow):
    status, headers, body = raw_reply(server, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert (status, headers["content-type"], headers["allow"]) == (405, "application/json", allow)
    assert json.loads(body)["error"]


def test_head_gets_the_headers_of_get_without_the_body(server):
    status, headers, body = raw_reply(server, b"HEAD /model HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    _, _, full = request(server, "GET", "/model")
    assert status == 200 and int(headers["content-length"]) == len(full) and body == b""


@contextlib.contextmanager
def server_process(model):
    """`predict_image.py --serve` with its log in a file (a busy server logs much): (pid, (host, port))."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen([sys.executable, os.path.join(ROOT, "predict_image.py"), "--serve",
                                    "--port", "0", "--model", str(model)],
                                   stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            url = process.stdout.readline().split()[-1]
            yield process.pid, (urlsplit(url).hostname, urlsplit(url).port)
            assert process.poll() is None
        finally:
            process.terminate()
            process.communicate(timeout=10)


def process_status(pid, field):
    """A number from /proc/PID/status: VmRSS and VmHWM in MiB, Threads as a count."""
    with open(f"/proc/{pid}/status") as f:
        value = next(line.split()[1] for line in f if line.startswith(field + ":"))
    return int(value) / 1024 if field.startswith("Vm") else int(value)


@needs_proc
def test_large_images_sent_at_once_keep_memory_bounded(trained_model):
    """16 clients at once send a 70 KB PNG that decodes to 4000x4000 RGBA (64 MB)."""
    big = png_bytes(Image.new("RGBA", (4000, 4000), (0, 0, 0, 0)))
    assert len(big) < 100_000
    with server_process(trained_model) as (pid, address):
        started = process_status(pid, "VmRSS")
        with ThreadPoolExecutor(max_workers=16) as pool:
            replies = list(pool.map(lambda _: raw_reply(address, (
                f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                f"Content-Length: {len(big)}\r\n\r\n").encode() + big), range(16)))
        peak = process_status(pid, "VmHWM")
        statuses = sorted(status for status, _, _ in replies)
        print(f"RSS at start {started:.0f} MiB, peak {peak:.0f} MiB; statuses {statuses}")
        assert set(statuses) <= {400, 503} and 400 in statuses  # a transparent image holds no digit
        assert all(headers.get("retry-after") == "1" for status, headers, _ in replies if status == 503)
        assert peak < 400


@needs_proc
@pytest.mark.slow
def test_slow_and_idle_connections_do_not_crowd_out_others(trained_model, test_pngs):
    """2,000 connections that send half a request and wait; normal requests are still answered."""
    with server_process(trained_model) as (pid, address):
        slow = []
        try:
            for _ in range(2000):
                s = socket.create_connection(address, timeout=30)
                s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n")
                slow.append(s)
            times = []
            for i in range(60):
                started = time.perf_counter()
                answer = predict(address, test_pngs[i % 20][0], timeout=10)
                times.append(time.perf_counter() - started)
                assert answer["digit"] in range(10)
            threads, rss = process_status(pid, "Threads"), process_status(pid, "VmRSS")
        finally:
            for s in slow:
                s.close()
    p99 = sorted(times)[int(0.99 * len(times))]
    print(f"under 2,000 slow connections: p99 {p99 * 1000:.0f} ms, {threads} threads, RSS {rss:.0f} MiB")
    assert p99 < 1.0 and threads < 20 and rss < 400


def closed_without_answer(server, data):
    """True if the server closes the connection (or resets it) instead of answering `data`."""
    try:
        with socket.create_connection(server, timeout=30) as s:
            s.sendall(data)
            return s.recv(4096) == b""
    except ConnectionError:
        return True


@needs_proc
def test_huge_headers_are_refused_without_holding_them(trained_model, test_pngs):
    with server_process(trained_model) as (pid, address):
        headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(6000))  # 6 MB
        with ThreadPoolExecutor(max_workers=10) as pool:
            closed = list(pool.map(lambda _: closed_without_answer(
                address, b"GET /model HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"), range(10)))
        peak = process_status(pid, "VmHWM")
        assert predict(address, test_pngs[0][0])["digit"] == test_pngs[0][1]
    assert all(closed)
    assert peak < 200


def in_process_server(answer, host="127.0.0.1", **limits):
    """The drawing page's server running in this process with some limits changed: (server, thread)."""
    server = web_server.make_server(host, 0, web_server.drawing_page(answer, {}),
                                    web_server.LIMITS._replace(**limits))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def test_a_request_trickled_byte_by_byte_meets_a_deadline():
    server, thread = in_process_server(lambda image: {"bytes": len(image)}, deadline=0.6)
    try:
        with socket.create_connection(server.server_address, timeout=30) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                      b"Content-Length: 100\r\n\r\n")
            started = time.monotonic()
            try:
                for _ in range(5):  # one byte every 0.25 s: each read is quick, the whole request is not
                    s.sendall(b"x")
                    time.sleep(0.25)
                reply = s.recv(4096)
            except ConnectionError:
                reply = b""
        assert reply == b"" and time.monotonic() - started < 2  # closed, unanswered, at the deadline
        status, _, body = request(server.server_address, "POST", "/predict", b"fine", {"Content-Type": "image/png"})
        assert status == 200 and json.loads(body) == {"bytes": 4}
    finally:
        server.shutdown()
        server.server_close()


def test_beyond_the_connection_limit_the_longest_waiting_is_closed():
    server, thread = in_process_server(lambda image: {"bytes": len(image)}, connections=20)
    try:
        idle = [socket.create_connection(server.server_address, timeout=30) for _ in range(40)]
        status, _, body = request(server.server_address, "POST", "/predict", b"fine", {"Content-Type": "image/png"})
        assert status == 200
        time.sleep(0.5)
        closed = 0
        for s in idle:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except ConnectionError:
                closed += 1
            s.close()
        assert closed >= 20
    finally:
        server.shutdown()
        server.server_close()


def test_a_model_whose_meta_says_odd_things_is_served_without_them(tmp_path, trained_model):
    params, meta = load_model(trained_model)
    from digits.model_file import save_model
    save_model(tmp_path / "odd.npz", params, {**meta, "test_accuracy": "<b>excellent</b>"})
    with serving(tmp_path / "odd.npz") as (_, url):
        status, _, body = request((urlsplit(url).hostname, urlsplit(url).port), "GET", "/model")
    assert status == 200 and json.loads(body)["test_accuracy"] is None


def test_a_server_open_to_the_network_answers_to_this_computers_names_and_addresses():
    server, thread = in_process_server(lambda image: {"bytes": len(image)}, host="0.0.0.0")
    port = server.server_address[1]
    try:
        for host, status in ((f"192.168.1.20:{port}", 200), (f"[fe80::1]:{port}", 200),
                             (f"{socket.gethostname()}:{port}", 200), (f"attacker.example:{port}", 403)):
            got, _, _ = request(("127.0.0.1", port), "GET", "/model", headers={"Host": host})
            assert got == status, host
    finally:
        server.shutdown()
        server.server_close()


# What a hostile client sends and browsers never do -----------------------------------------------

def replies(server, data, timeout=5):
    """Everything the server sends back to the bytes `data` until it closes or goes quiet."""
    with socket.create_connection(server, timeout=timeout) as s:
        s.sendall(data)
        reply = b""
        try:
            while chunk := s.recv(65536):
                reply += chunk
        except (socket.timeout, ConnectionError):
            pass
    return reply


HOST = b"Host: 127.0.0.1\r\n"


@pytest.mark.parametrize("data, status, words", [
    (b"POST /predict HTTP/1.1\r\n" + HOST + b"Content-Type: image/png\r\nContent-Length: " + b"9" * 5000
     + b"\r\n\r\nab", 413, "too large"),
    (b"GET http://evil.example/model HTTP/1.1\r\n" + HOST + b"\r\n", 400, "must be a path"),
    (b"GET //evil.example/draw.js HTTP/1.1\r\n" + HOST + b"\r\n", 400, "must be a path"),
    (b"GET /model HTTP/1.7\r\n" + HOST + b"\r\n", 400, "HTTP/1.7"),
    (b"GET /model HTTP/1.1\r\nHost: localhost:abc\r\n\r\n", 400, "port must be a number"),
    (b"GET /model HTTP/1.0\r\n\r\n", 400, "Host header"),
    (b"GET /model HTTP/1.1\r\n" + HOST + b"Sec-Fetch-Site: cross-site\r\n\r\n", 403, "other web pages"),
    (b"POST /predict HTTP/1.1\r\n" + HOST + b"Sec-Fetch-Site: same-site\r\nContent-Type: image/png\r\n"
     b"Content-Length: 2\r\n\r\nab", 403, "other web pages"),
], ids=["content-length-of-5000-digits", "absolute-form", "authority-as-path", "http-1.7", "host-port-abc",
        "http-1.0-no-host", "cross-site-fetch", "same-site-post"])
def test_requests_browsers_never_send_get_a_json_refusal(server, test_pngs, data, status, words):
    got, headers, body = raw_reply(server, data)
    assert (got, headers["content-type"]) == (status, "application/json")
    assert words in json.loads(body)["error"]
    assert predict(server, test_pngs[0][0])["digit"] == test_pngs[0][1]


@pytest.mark.parametrize("data", [
    b"GET /model HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    b"GET /mo\tdel HTTP/1.1\r\n" + HOST + b"\r\n",
    b"GET /\x1b]0;title\x07 HTTP/1.1\r\n" + HOST + b"\r\n",
    b"GET /model HTTP/1.1\r\n" + HOST + b"Host: evil.example\r\n\r\n",
    b"POST /predict HTTP/1.1\r\n" + HOST + b"Content-Type: image/png\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
], ids=["no-host", "tab-in-path", "escape-in-path", "two-hosts", "length-and-chunked"])
def test_requests_that_are_not_http_get_400_and_the_connection_closes(server, data):
    reply = replies(server, data)
    assert reply.startswith(b"HTTP/1.1 400 ") and reply.count(b"HTTP/1.1 ") == 1
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head and "not a request this server can read" in json.loads(body)["error"]


def test_a_body_on_a_get_is_read_as_its_body_not_as_a_request(server):
    smuggled = b"GET /draw.js HTTP/1.1\r\n" + HOST + b"\r\n"
    reply = replies(server, b"GET /model HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % len(smuggled)
                    + smuggled + b"GET /nope HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert re.findall(rb"HTTP/1.1 (\d+)", reply) == [b"200", b"404"] and b"javascript" not in reply


def test_expect_100_continue_is_answered_before_the_body_is_sent(server, test_pngs):
    png = test_pngs[0][0]
    with socket.create_connection(server, timeout=5) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\n" + HOST + b"Content-Type: image/png\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(png))
        assert s.recv(4096).startswith(b"HTTP/1.1 100 ")
        s.sendall(png)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 ") and json.loads(reply.partition(b"\r\n\r\n")[2])["digit"] == test_pngs[0][1]


def test_control_characters_in_a_request_are_escaped_in_the_log(capsys):
    server, thread = in_process_server(lambda image: {"bytes": len(image)})
    try:
        status, _, _ = raw_reply(server.server_address, b"GET /\x9b2J\x9b31m HTTP/1.1\r\n" + HOST + b"\r\n")
        assert status == 404
    finally:
        server.shutdown()
        server.server_close()
    log = capsys.readouterr().err
    assert "\x9b" not in log and '"GET /\\x9b2J\\x9b31m HTTP/1.1" 404' in log


@needs_proc
def test_images_beyond_those_the_server_can_take_are_refused_as_they_arrive(trained_model):
    """50 clients send a 4000x4000 PNG at once: 2 decode, 8 wait, the rest get 503 at once."""
    big = png_bytes(Image.new("L", (4000, 4000), 255))
    with server_process(trained_model) as (pid, address):
        def send(_):
            started = time.perf_counter()
            status, headers, _ = raw_reply(address, (
                f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                f"Content-Length: {len(big)}\r\n\r\n").encode() + big)
            return status, headers.get("retry-after"), time.perf_counter() - started
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(send, range(50)))
        threads = process_status(pid, "Threads")
    busy = [seconds for status, retry, seconds in results if status == 503 and retry == "1"]
    answered = [seconds for status, _, seconds in results if status == 400]  # a blank image: no digit
    print(f"50 uploads at once: {len(busy)} answered 503 (slowest after {max(busy, default=0):.2f} s), "
          f"{len(answered)} decoded (last after {max(answered):.2f} s); {threads} threads")
    assert len(busy) + len(answered) == 50 and len(busy) >= 30 and threads < 20


def test_a_model_whose_outputs_can_overflow_is_refused_at_start(tmp_path, trained_model):
    params, meta = load_model(trained_model)
    from digits.model_file import save_model
    save_model(tmp_path / "huge.npz", {**params, "W2": params["W2"] * 1e36}, meta)
    png = tmp_path / "digit.png"
    png.write_bytes(png_bytes(np.zeros((28, 28), np.uint8)))
    for options in (["--serve", "--port", "0"], ["--json", str(png)]):
        result = run_script("predict_image.py", "--model", tmp_path / "huge.npz", *options, cwd=tmp_path, timeout=60)
        assert_clean_error(result, "huge.npz", "overflow")
        assert "NaN" not in result.stdout and "Warning" not in result.stderr


def test_an_image_raw_cannot_convert_is_a_400(trained_model):
    import functools
    import predict_image

    params, _ = load_model(trained_model)
    lab = io.BytesIO()
    Image.new("LAB", (50, 50), (50, 0, 0)).save(lab, "TIFF")
    server, thread = in_process_server(functools.partial(predict_image.page_answer, params, raw=True,
                                                         max_pixels=web_server.MAX_PIXELS))
    try:
        status, _, body = request(server.server_address, "POST", "/predict", lab.getvalue(),
                                  {"Content-Type": "image/tiff"})
    finally:
        server.shutdown()
        server.server_close()
    assert status == 400 and "--raw cannot convert" in json.loads(body)["error"]


def test_the_answer_carries_what_the_page_draws_for_why(server, test_pngs, trained_model):
    import network

    params, _ = load_model(trained_model)
    answer = predict(server, test_pngs[0][0])
    why = answer["digits"][0]["why"]
    C, T = np.array(why["contributions"]), np.array(why["templates"])
    assert C.shape == T.shape == (10, 784)
    from digits import reader
    x = reader.digits_in(params, io.BytesIO(test_pngs[0][0]))[0][0].reshape(784, 1).astype(np.float32)
    np.testing.assert_allclose(answer["input"], x[:, 0], atol=6e-4)
    T_exact, c = network.explain(params, x)
    Z2 = network.forward_prop(params, x)[2][:, 0]
    np.testing.assert_allclose(T, T_exact, atol=6e-4)  # sent with 3 decimals
    np.testing.assert_allclose(C, x.T * T_exact, atol=6e-4)
    np.testing.assert_allclose(np.array(why["from_pixels"]) + why["constants"], Z2, atol=5e-3)
    np.testing.assert_allclose(why["constants"], c[:, 0], atol=1e-4)
    assert "why" not in answer  # once, under "digits"


def test_clients_that_leave_before_their_answer_still_count_until_it_is_made():
    """Sending an image and hanging up at once must not queue more work than the limits allow."""
    answered = []

    def slow_answer(image):
        time.sleep(0.3)
        answered.append(len(image))
        return {"bytes": len(image)}

    server, thread = in_process_server(slow_answer)
    try:
        started = time.monotonic()
        for _ in range(4):  # 10 at once, then the next 10 once they have hung up
            clients = [socket.create_connection(server.server_address, timeout=30) for _ in range(10)]
            for s in clients:
                s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                          b"Content-Length: 4\r\n\r\nabcd")
            time.sleep(0.05)
            for s in clients:
                s.close()
            time.sleep(0.05)
        done_meanwhile = web_server.LIMITS.decoders * math.ceil((time.monotonic() - started) / 0.3)
        seen = -1
        while seen != len(answered):  # until the workers have done all they were given
            seen = len(answered)
            time.sleep(0.4)
        limits = web_server.LIMITS
        assert len(answered) <= limits.decoders + limits.waiting + done_meanwhile, len(answered)
        status, _, body = request(server.server_address, "POST", "/predict", b"fine", {"Content-Type": "image/png"})
        assert status == 200  # and the server is free again
    finally:
        server.shutdown()
        server.server_close()


def test_a_small_loop_drawn_with_the_pages_pen_stays_open(server):
    """A 4 and a 0 drawn 140 px tall and 0.3 of their width on the pad, as the digits of a number
    are drawn, with the page's pen (PEN_WIDTH in web/draw.js), sent as the page sends them: the
    corner the 4 closes stays a hole in what the network sees (7 pixels of its 28 x 28 input); a
    pen of 20 px, the page's before, filled it in (no hole)."""
    strokes = (browser.squeezed(browser.DIGITS[4], 10, 0.3, 2 / 3)
               + browser.squeezed(browser.DIGITS[0], 85, 0.3, 2 / 3))
    answer = predict(server, png_bytes(browser.drawing(strokes)))
    inks = [np.array(digit["input"]).reshape(28, 28) > 0.5 for digit in answer["digits"]]
    holes = [np.count_nonzero(ndimage.binary_fill_holes(ink) & ~ink) for ink in inks]
    assert answer["number"] == "40" and all(hole > 0 for hole in holes), (answer["number"], holes)


@pytest.mark.parametrize("number, side", [("742", "left"), ("420", "left"), ("73", "left"), ("307", "right"),
                                          ("104", "right")])
def test_a_number_drawn_to_the_edge_of_the_pad_is_read_whole(server, number, side):
    """Digits 105 px tall drawn side by side, the first or the last touching the pad's edge, sent
    as the page sends them. A mark that touches a photo's edge is the sheet's edge or the table;
    the edge of a drawing is no sheet's, and a digit drawn up to it is a digit: each of these lost
    the digit at the edge (742 read 42, 420 read 20, 73 read 3, 307 read 30, 104 read 10)."""
    strokes = [stroke for k, digit in enumerate(number)
               for stroke in browser.squeezed(browser.DIGITS[int(digit)], 80 * k, 0.35, 0.5)]
    left, top, right, _ = browser.bounds(strokes)
    drawing = browser.drawing(browser.moved(strokes, 3 - left if side == "left" else 277 - right, 100 - top))
    assert predict(server, png_bytes(drawing)).get("number") == number


@pytest.mark.parametrize("number", ["22", "42"])
def test_a_number_standing_on_the_pads_bottom_edge_is_read_whole(server, number):
    """Digits 100 px tall drawn side by side on the pad's bottom edge, sent as the page sends
    them: the bases of the 2s lie along the edge, so that the pen's ink covers more than a
    twentieth of the image's border, and the drawing is no longer one of a flat border. Its white
    is still exactly one colour all around but there, as no photo's paper is: each lost the
    digits' feet to the edge (22 read 77, 42 read 2)."""
    strokes = [stroke for k, digit in enumerate(number)
               for stroke in browser.squeezed(browser.DIGITS[int(digit)], 75 * k, 0.45, 0.5)]
    left, _, right, bottom = browser.bounds(strokes)
    drawing = browser.drawing(browser.moved(strokes, 140 - (left + right) / 2, 276 - bottom))
    assert predict(server, png_bytes(drawing)).get("number") == number


@pytest.mark.parametrize("digits, boxes", [
    ("7", [(60, 3, 220, 250)]),
    ("2", [(60, 40, 220, 277)]),
    ("707", [(20, 3, 90, 130), (100, 3, 170, 130), (180, 3, 250, 130)]),
])
def test_a_stroke_drawn_along_the_pads_edge_is_a_stroke(server, digits, boxes):
    """Digits drawn into boxes on the pad, sent as the page sends them: a 7's bar along the top
    edge, a 2's base along the bottom edge. Beyond the edge of a drawing is its white, not more
    of the stroke along it: the stroke, taken to go on beyond the edge, was a broad surface and
    left out with the background (7 read 11, or 1 when the drawing was not yet taken for one made
    on a computer; 2 read 7; 707 read 101)."""
    strokes = [stroke for digit, box in zip(digits, boxes)
               for stroke in browser.fitted(browser.DIGITS[int(digit)], box)]
    answer = predict(server, png_bytes(browser.drawing(strokes)))
    assert answer.get("number", str(answer.get("digit"))) == digits
