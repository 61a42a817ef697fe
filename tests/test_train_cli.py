"""train.py as a user runs it: a subprocess, real files, real signals."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, assert_clean_error, run_script
from digits.model_file import load_model

TINY = ("--limit", "1000", "--epochs", "3", "--batch-size", "50", "--lr", "0.1", "--momentum", "0.9")


def arrays(path):
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in ("W1", "b1", "W2", "b2")}


def test_help_lists_every_option(tmp_path):
    result = run_script("train.py", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--epochs", "--lr", "--batch-size", "--momentum", "--hidden", "--seed",
                   "--source", "--data", "--model", "--limit", "--quiet", "--dtype", "--watch", "--port"):
        assert option in result.stdout


def test_tiny_run_writes_a_loadable_model(tmp_path):
    result = run_script("train.py", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Test accuracy:" in result.stdout and "Per-digit accuracy:" in result.stdout
    assert "Model written to model_mnist.npz" in result.stdout
    params, meta = load_model(tmp_path / "model_mnist.npz")
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (128, 784), "b1": (128, 1), "W2": (10, 128), "b2": (10, 1)}
    for key in ("epochs", "lr", "batch_size", "momentum", "hidden", "seed", "source",
                "test_accuracy", "train_seconds", "created"):
        assert key in meta
    assert meta["epochs"] == 3 and meta["batch_size"] == 50 and meta["source"] == "bundled"
    reported = float(result.stdout.split("Test accuracy: ")[1].split()[0])
    assert meta["test_accuracy"] == pytest.approx(reported, abs=5e-5)
    assert reported > 0.8
    with np.load(tmp_path / "model_mnist.npz", allow_pickle=False) as npz:
        assert json.loads(str(npz["meta"]))["hidden"] == 128  # plain JSON, no pickle


def test_plain_output_when_not_a_terminal(tmp_path):
    result = run_script("train.py", *TINY, cwd=tmp_path)
    assert "epoch 1/3  loss" in result.stdout and "test acc" in result.stdout
    quiet = run_script("train.py", *TINY, "--quiet", cwd=tmp_path)
    assert "epoch 1/3" not in quiet.stdout and "Test accuracy:" in quiet.stdout


def test_hidden_size_and_float64(tmp_path):
    result = run_script("train.py", *TINY, "--hidden", "16", "--dtype", "float64", "--model", "h16.npz",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    params, meta = load_model(tmp_path / "h16.npz")
    assert params["W1"].shape == (16, 784) and params["W1"].dtype == np.float64
    assert meta["hidden"] == 16


def test_full_batch_default_algorithm(tmp_path):
    result = run_script("train.py", "--limit", "2000", "--epochs", "30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "full-batch gradient descent" in result.stdout
    meta = load_model(tmp_path / "model_mnist.npz")[1]
    assert meta["batch_size"] is None and meta["lr"] == 1.0
    assert meta["history"][-1]["loss"] < meta["history"][0]["loss"]


def test_same_seed_gives_identical_arrays(tmp_path):
    """With the BLAS threads fixed (--threads), as the README says: left to itself, train.py takes
    the cores other programs leave free, and sums in another order with another number of them."""
    for name in ("a.npz", "b.npz"):
        assert run_script("train.py", *TINY, "--seed", "7", "--threads", "1", "--model", name, cwd=tmp_path).returncode == 0
    run_script("train.py", *TINY, "--seed", "8", "--threads", "1", "--model", "c.npz", cwd=tmp_path)
    a, b, c = (arrays(tmp_path / n) for n in ("a.npz", "b.npz", "c.npz"))
    for name in a:
        assert a[name].tobytes() == b[name].tobytes()
    assert not np.array_equal(a["W1"], c["W1"])


@pytest.mark.parametrize("args, words", [
    (("--epochs", "0"), ["--epochs", "at least 1"]),
    (("--lr", "-1"), ["--lr", "greater than 0"]),
    (("--lr", "nan"), ["--lr", "finite"]),
    (("--batch-size", "0"), ["--batch-size", "at least 1"]),
    (("--momentum", "1"), ["--momentum", "below 1"]),
    (("--epochs", "ten"), ["--epochs", "whole number"]),
    (("--data", "/nonexistent"), ["--data /nonexistent", "no such folder"]),
    (("--source", "web"), ["--source", "invalid choice"]),
    (("--source", "openml", "--data", "."), ["either --source or --data"]),
    (("--model", "no/such/folder/m.npz"), ["--model", "does not exist"]),
    (("--model", "https://example.com/m.npz"), ["--model https://example.com/m.npz: a web address",
                                                "give a file name such as model_mnist.npz"]),
    (("--plot", "http://example.com/r.png"), ["--plot http://example.com/r.png: a web address", "report.png"]),
    (("--seed", "-1"), ["--seed", "at least 0"]),
    (("--hidden", "10000000"), ["--hidden 10000000", "GiB", "smaller --hidden"]),
])
def test_bad_values_give_one_line_errors(tmp_path, args, words):
    assert_clean_error(run_script("train.py", *args, cwd=tmp_path), *words)


def test_divergence_leaves_an_existing_model_untouched(tmp_path):
    model = tmp_path / "model_mnist.npz"
    model.write_bytes(b"the user's precious model")
    result = run_script("train.py", "--lr", "1000", "--limit", "2000", cwd=tmp_path)
    assert_clean_error(result, "diverged", "smaller learning rate", "--lr 100")
    assert model.read_bytes() == b"the user's precious model"
    assert sorted(os.listdir(tmp_path)) == ["model_mnist.npz"]  # no temporary files left behind


def test_ctrl_c_saves_progress_and_exits_130(tmp_path):
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--limit", "5000", "--epochs", "100000"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    while not first.startswith("epoch"):
        first = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "Interrupted during epoch" in out and "saving what was learned so far" in out
    params, meta = load_model(tmp_path / "model_mnist.npz")
    assert meta["interrupted"] is True
    assert 1 <= meta["epochs_completed"] < 100000


def test_progress_bar_on_a_terminal(tmp_path):
    """With stdout on a (pseudo-)terminal the epochs show as a progress bar, not as lines."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *TINY], cwd=tmp_path,
                               stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(leader)
    text = output.decode(errors="replace")
    assert process.returncode == 0
    assert "3/3" in text and "epoch/s" in text and "loss=" in text
    assert "epoch 1/3  loss" not in text
    assert "Test accuracy:" in text


def test_long_runs_store_a_short_history(tmp_path):
    result = run_script("train.py", "--limit", "500", "--epochs", "230", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    history = load_model(tmp_path / "model_mnist.npz")[1]["history"]
    assert [r["epoch"] for r in history] == [*range(4, 229, 4), 230]


def test_an_oversized_network_is_refused_before_the_data_is_loaded(tmp_path):
    result = run_script("train.py", "--hidden", "10000000", "--data", tmp_path / "no-such-folder", cwd=tmp_path)
    assert_clean_error(result, "--hidden 10000000", "memory")


def test_a_fifo_as_model_is_refused(tmp_path):
    os.mkfifo(tmp_path / "m.npz")
    assert_clean_error(run_script("train.py", *TINY, "--model", "m.npz", cwd=tmp_path), "--model m.npz",
                       "not a regular file")


def limit_file_size(size):
    """For preexec_fn: files larger than `size` bytes cannot be written (as on a full disk)."""
    def limit():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_a_report_that_cannot_be_written_does_not_hide_the_results(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *TINY, "--hidden", "16",
                             "--plot", "report.png"], cwd=tmp_path, capture_output=True, text=True,
                            preexec_fn=limit_file_size(80_000), timeout=120)
    assert_clean_error(result, "cannot write report.png", "the model was written to model_mnist.npz")
    assert result.returncode == 1
    assert "Test accuracy:" in result.stdout and "Model written to model_mnist.npz" in result.stdout
    assert load_model(tmp_path / "model_mnist.npz")[1]["hidden"] == 16
    assert not (tmp_path / "report.png").exists()


def interrupt_training(folder, signum, *args):
    """Start a long training run in `folder`, send `signum` once it reports an epoch; the finished process."""
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--limit", "5000", "--epochs", "100000", *args],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    while not line.startswith("epoch"):
        line = process.stdout.readline()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_an_interrupted_run_never_replaces_a_model(tmp_path, signum, code):
    model = tmp_path / "model_mnist.npz"
    model.write_bytes(b"the user's 98% model")
    returncode, out, err = interrupt_training(tmp_path, signum)
    assert returncode == code, err
    assert "Traceback" not in err
    assert model.read_bytes() == b"the user's 98% model"
    assert "model_mnist.npz is kept as it was; this run's model goes to model_mnist.interrupted.npz" in out
    assert "Model written to model_mnist.interrupted.npz" in out
    meta = load_model(tmp_path / "model_mnist.interrupted.npz")[1]
    assert meta["interrupted"] is True and 1 <= meta["epochs_completed"] < 100000
    assert sorted(os.listdir(tmp_path)) == ["model_mnist.interrupted.npz", "model_mnist.npz"]


def test_sigterm_without_a_model_keeps_what_was_learned(tmp_path):
    returncode, out, err = interrupt_training(tmp_path, signal.SIGTERM, "--model", "m.npz")
    assert returncode == 143 and "Traceback" not in err
    assert "Model written to m.npz" in out and load_model(tmp_path / "m.npz")[1]["interrupted"] is True


def test_one_epoch_is_said_in_the_singular(tmp_path):
    result = run_script("train.py", *TINY[:2], "--epochs", "1", "--threads", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ", 1 epoch, seed 0, 1 BLAS thread\n" in result.stdout and "s for 1 epoch\n" in result.stdout


def test_blas_threads_follow_the_option_the_environment_and_a_busy_machine(tmp_path):
    result = run_script("train.py", *TINY, "--threads", "1", cwd=tmp_path)
    assert ", 1 BLAS thread\n" in result.stdout and load_model(tmp_path / "model_mnist.npz")[1]["threads"] == 1
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    assert ", 1 BLAS thread\n" in run_script("train.py", *TINY, cwd=tmp_path, env=env).stdout
    cores = len(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        result = run_script("train.py", *TINY, cwd=tmp_path)
    finally:
        busy.kill()
        busy.wait()
    threads = load_model(tmp_path / "model_mnist.npz")[1]["threads"]
    assert threads <= max(1, cores - 1), result.stdout


def test_a_c_library_that_cannot_be_named_is_no_error(monkeypatch):
    """On Windows ctypes.CDLL(None) raises TypeError; elsewhere a C library may lack mallopt."""
    import ctypes

    from digits import machine

    for failure in (TypeError("'NoneType' object is not iterable"), OSError("no C library"),
                    AttributeError("mallopt")):
        def refuse(name, failure=failure):
            raise failure
        monkeypatch.setattr(ctypes, "CDLL", refuse)
        machine.keep_freed_memory()  # returns, having changed nothing
