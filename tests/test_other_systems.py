"""Where Linux's extras are missing (macOS, Windows): the scripts and both pages still work.

tests/without_linux.py runs a script with /proc/stat, /proc/meminfo, os.sched_getaffinity,
os.sysconf, the `resource` module and ctypes.CDLL(None) taken away; the functions that use
them are also tested one by one.
"""

import builtins
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from conftest import ROOT, request, run_script
from digits import machine, web_server
from digits.model_file import load_model

WITHOUT_LINUX = os.path.join(ROOT, "tests", "without_linux.py")
TINY = ("--limit", "1000", "--epochs", "3", "--batch-size", "50", "--lr", "0.1", "--momentum", "0.9")


def without_proc(monkeypatch):
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if str(file).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", file)
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", fake_open)


def test_without_proc_and_sysconf_memory_is_unknown_and_not_checked(monkeypatch):
    without_proc(monkeypatch)
    monkeypatch.delattr(os, "sysconf", raising=False)
    assert machine.available_memory() is None
    machine.check_memory(60_000, 100_000, "float64", None)  # would need about 500 GiB: not refused


def test_without_proc_stat_other_programs_count_as_idle(monkeypatch):
    without_proc(monkeypatch)
    before = machine.cpu_usage()
    assert before[1] is None and machine.busy_elsewhere(before, machine.cpu_usage()) == 0.0


def test_without_sched_getaffinity_all_cores_are_used(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert machine.usable_cores() == (os.cpu_count() or 1)
    assert machine.blas_threads(None, False, 0.0) == machine.usable_cores()


def test_without_resource_the_server_starts_with_its_own_limits(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)
    assert web_server.raise_file_limit(512) is None
    server = web_server.make_server("127.0.0.1", 0, web_server.drawing_page(lambda image: {}, {"ok": 1}))
    try:
        assert server.limits.connections == web_server.LIMITS.connections
    finally:
        server.server_close()


def test_train_py_trains_without_linux(tmp_path):
    result = run_script(WITHOUT_LINUX, os.path.join(ROOT, "train.py"), *TINY, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "BLAS thread" in result.stdout and load_model(tmp_path / "model_mnist.npz")[1]["epochs_completed"] == 3


def test_predict_image_py_reads_files_without_linux(tmp_path, trained_model):
    """Without os.O_NONBLOCK (Windows), images and models are still opened as regular files."""
    photo = os.path.join(ROOT, "docs", "photo-number.jpg")
    result = run_script(WITHOUT_LINUX, os.path.join(ROOT, "predict_image.py"), "--model", trained_model, "--json",
                        photo, "missing.png", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "missing.png: file not found" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["number"].isdigit()


def test_both_pages_serve_and_stop_on_ctrl_c_without_linux(tmp_path, trained_model):
    for command in (["predict_image.py", "--serve", "--port", "0", "--model", str(trained_model)],
                    ["train.py", *TINY[:2], "--epochs", "100000", "--batch-size", "50", "--watch", "--port", "0"]):
        process = subprocess.Popen([sys.executable, WITHOUT_LINUX, os.path.join(ROOT, command[0]), *command[1:]],
                                   cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = process.stdout.readline().split()[-1]
            address = (urlsplit(url).hostname, urlsplit(url).port)
            status, kind, body = request(address, "GET", "/")
            assert status == 200 and kind.startswith("text/html")
            if command[0] == "train.py":  # the page follows the run until it has started training
                for _ in range(600):
                    if json.loads(request(address, "GET", "/state?version=0&page=t")[2])["status"]["state"] == "training":
                        break
                    time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert "Traceback" not in err, err
        assert process.returncode == (0 if command[0] == "predict_image.py" else 130), err
