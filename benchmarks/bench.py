"""Measure the project's speed on this machine and print a Markdown table.

    python benchmarks/bench.py            # the full benchmark (a few minutes)
    python benchmarks/bench.py --quick    # small sizes, one run each: a smoke test

Every figure comes from this one run. Whole-process figures are wall-clock times of
a fresh `python ...` process, from start to exit (medians over --repeats runs);
speed comparisons are ratios of figures measured side by side in this run.
"""

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import socket
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from digits import augment, cli  # noqa: E402
from digits import mnist_data  # noqa: E402
import network  # noqa: E402
from digits.model_file import load_model  # noqa: E402
from train_products_only import matrix_products  # noqa: E402

RECIPE = ["--batch-size", "128", "--lr", "0.1", "--momentum", "0.9"]
AUGMENTED = [*RECIPE, "--augment", "--schedule", "cosine"]


def run_process(args, cwd, alongside=None):
    """(wall seconds, peak resident memory in MiB, stdout) of one whole `python args` process.

    alongside(stop), if given, runs in a thread of this process while the process runs;
    stop is a threading.Event set when it has ended.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        stop = threading.Event()
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=out, stderr=err, text=True)
        if alongside is not None:
            follower = threading.Thread(target=alongside, args=(stop,))
            follower.start()
        _, status, usage = os.wait4(process.pid, 0)  # reaps the child: its own rusage
        seconds = time.perf_counter() - started
        stop.set()
        if alongside is not None:
            follower.join()
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{err.read()}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def timed_runs(args, cwd, repeats):
    """Median wall seconds of `repeats` whole-process runs, and the last run's stdout."""
    times, out = [], ""
    for _ in range(repeats):
        seconds, _, out = run_process(args, cwd)
        times.append(seconds)
    return statistics.median(times), out


def paired_runs(ours, theirs, cwd, repeats):
    """Run ours and theirs in turn, `repeats` times each; return
    (median seconds of ours, median seconds of theirs, median of the pairs' ratios theirs/ours,
    the last stdout of ours, the last stdout of theirs).

    Taking the ratio pair by pair cancels most of the drift in a shared machine's speed.
    """
    ours_times, their_times, ratios = [], [], []
    for _ in range(repeats):
        a, _, ours_out = run_process(ours, cwd)
        b, _, their_out = run_process(theirs, cwd)
        ours_times.append(a)
        their_times.append(b)
        ratios.append(b / a)
    return (statistics.median(ours_times), statistics.median(their_times), statistics.median(ratios),
            ours_out, their_out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_follower(port):
    """alongside for run_process: follows the training page on `port` as its browser tab does
    (GET /state for what changed, at most 4 times a second) and counts the answers with news.
    """
    def follow(stop):
        have = {"version": 0, "points": 0, "snapshots": 0}
        while not stop.is_set():
            asked = time.monotonic()
            query = "&".join(f"{k}={v}" for k, v in have.items())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/state?{query}&page=bench", timeout=15) as r:
                    state = json.load(r)
                have = {"version": state["version"], "points": state["from_point"] + len(state["points"]),
                        "snapshots": state["from_snapshot"] + len(state["snapshots"])}
                follow.updates += 1
            except OSError:  # not serving yet, or no more
                pass
            stop.wait(max(0.0, 0.25 - (time.monotonic() - asked)))
    follow.updates = 0
    return follow


def watch_row(train_args, label, cwd, repeats):
    """The cost of --watch with a page following it: alternating runs without and with it,
    compared as training time (train_seconds in the model's meta) and as whole process.
    """
    model = os.path.join(cwd, train_args[train_args.index("--model") + 1])
    times = {"plain": [], "watched": [], "plain training": [], "watched training": []}
    ratios, training_ratios, updates = [], [], []
    for _ in range(repeats):
        plain, _, _ = run_process(train_args, cwd)
        plain_training = load_model(model)[1]["train_seconds"]
        port = free_port()
        follow = page_follower(port)
        watched, _, _ = run_process([*train_args, "--watch", "--port", str(port)], cwd, follow)
        watched_training = load_model(model)[1]["train_seconds"]
        for name, value in zip(times, (plain, watched, plain_training, watched_training)):
            times[name].append(value)
        ratios.append(watched / plain)
        training_ratios.append(watched_training / plain_training)
        updates.append(follow.updates)
    median = {name: statistics.median(values) for name, values in times.items()}
    return (f"{label} with --watch and a page following it / without, {repeats} alternating "
            f"pair{'s' if repeats > 1 else ''} (medians)",
            f"training {median['watched training']:.2f} s / {median['plain training']:.2f} s = "
            f"{statistics.median(training_ratios):.3f}x; whole process {median['watched']:.2f} s / "
            f"{median['plain']:.2f} s = {statistics.median(ratios):.3f}x; the page updated "
            f"{statistics.median(updates):.0f} times a run")


def fast_recipe_watch_rows(ours, epochs, cwd, repeats, quick=False):
    """watch_row for the fast recipe with the BLAS threads train.py picks, and (unless quick)
    with 1 and 2.
    """
    return [watch_row([*ours, *threads], f"fast recipe ({epochs} epochs{', ' if threads else ''}"
                                         f"{' '.join(threads)})", cwd, repeats)
            for threads in ([], ["--threads", "1"], ["--threads", "2"])[:1 if quick else 3]]


def epoch_vs_products(X, Y, batch_size, repeats):
    """(median seconds of one training epoch, median seconds of its matrix products alone)."""
    params = network.init_params()
    epochs = network.gradient_descent(params, X, Y, 0.1, repeats + 1, batch_size, momentum=0.9)
    next(epochs)  # the first epoch also pays for one-time set-up
    rng = np.random.default_rng(1)
    epoch_times, product_times = [], []
    for _ in range(repeats):  # interleaved, so drift in the machine's speed hits both alike
        started = time.perf_counter()
        next(epochs)
        epoch_times.append(time.perf_counter() - started)
        columns_of_epoch = network.batches(X.shape[1], batch_size, rng)
        started = time.perf_counter()
        matrix_products(params, X, columns_of_epoch)
        product_times.append(time.perf_counter() - started)
    return statistics.median(epoch_times), statistics.median(product_times)


def epoch_seconds(X, Y, batch_size, repeats, inputs=None):
    """Median seconds of one training epoch (after one epoch of warm-up)."""
    params = network.init_params()
    epochs = network.gradient_descent(params, X, Y, 0.1, repeats + 1, batch_size, momentum=0.9, inputs=inputs)
    next(epochs)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        next(epochs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def augmentation_seconds(images, repeats):
    """Median seconds to distort every training image once, in batches of 128, in this thread."""
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for columns in network.batches(len(images), 128, rng):
            augment.distort(images[columns], rng)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextlib.contextmanager
def busy_core():
    """Another process keeping one core busy, as on a computer that is doing other things."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        process.kill()
        process.wait()


def thread_rows(X, Y, images, repeats):
    """Rows: each workload with 1 and with 2 BLAS threads, on a quiet machine and with a core busy."""
    from threadpoolctl import threadpool_limits

    workloads = [("full-batch epoch", lambda: epoch_seconds(X, Y, None, repeats)),
                 ("mini-batch (128) epoch", lambda: epoch_seconds(X, Y, 128, repeats)),
                 ("augmenting one epoch of images", lambda: augmentation_seconds(images, repeats))]
    rows = []
    for name, measure in workloads:
        cells = []
        for load, context in (("quiet", contextlib.nullcontext), ("one core busy", busy_core)):
            with context():
                seconds = {}
                for threads in (1, 2):
                    with threadpool_limits(threads, user_api="blas"):
                        seconds[threads] = measure()
            cells.append(f"{load}: {seconds[1]:.3f} s with 1 thread, {seconds[2]:.3f} s with 2")
        rows.append((f"{name}, BLAS threads", "; ".join(cells)))
    return rows


def augmented_epoch_ratio(X, Y, images, repeats):
    """(plain epoch seconds, augmented epoch seconds, median of the pairs' ratios): mini-batch 128,
    1 BLAS thread as train.py chooses, the distortions made in a second thread.
    """
    from threadpoolctl import threadpool_limits

    plain, augmented, ratios = [], [], []
    with threadpool_limits(1, user_api="blas"):
        for _ in range(repeats):
            plain.append(epoch_seconds(X, Y, 128, 1))
            inputs = augment.distorted_batches(images, np.random.default_rng(1))
            augmented.append(epoch_seconds(X, Y, 128, 1, inputs))
            ratios.append(augmented[-1] / plain[-1])
    return statistics.median(plain), statistics.median(augmented), statistics.median(ratios)


def floor_row(ours, cwd, repeats, epochs):
    """The fast recipe against its floor: the same train.py run with each step cut to its five
    matrix products (benchmarks/train_products_only.py), whole processes, alternating pairs.
    """
    floor = [os.path.join(ROOT, "benchmarks", "train_products_only.py"), *ours[1:], "--model", "floor.npz"]
    floor_seconds, ours_seconds, ratio, _, _ = paired_runs(floor, ours, cwd, repeats)
    threads = load_model(os.path.join(cwd, "m.npz"))[1]["threads"]
    return (f"fast recipe ({epochs} epochs), whole process, against its floor: the same run with each "
            f"step cut to its matrix products (`benchmarks/train_products_only.py`), {threads} BLAS "
            f"thread(s), median of {repeats} alternating pair{'s' if repeats > 1 else ''}",
            f"{ours_seconds:.2f} s / {floor_seconds:.2f} s = {ratio:.2f}x")


def photo_rows(data, work, quick):
    """Rows: a 12-megapixel JPEG photo (2 megapixels if quick) of a digit and of a 6-digit number on
    ruled paper, and a folder of MNIST-size PNGs, each through predict_image.py as a whole process.
    """
    from PIL import Image

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import photos

    images, labels = data["test"]
    predict = os.path.join(ROOT, "predict_image.py")
    rows, times = [], {}
    size = (1600, 1200) if quick else (4000, 3000)
    megapixels = size[0] * size[1] / 1e6
    for count, what in ((1, "a digit"), (6, "a 6-digit number")):
        jpeg, label = photos.make_photo(np.random.default_rng(5), images.reshape(-1, 28, 28), labels, "ruled",
                                        count, size=size, quality=90)
        with open(os.path.join(work, f"photo{count}.jpg"), "wb") as f:
            f.write(jpeg)
        times[count], out = timed_runs([predict, "--model", "m.npz", f"photo{count}.jpg"], work, 1 if quick else 5)
        answer = out.split(": ", 1)[-1].split()  # "5 (confidence ...)" or "number 123456 (confidence ...)"
        read = answer[1] if answer[0] == "number" else answer[0]
        rows.append((f"predict_image.py, a {megapixels:.0f}-megapixel JPEG photo of {what} on ruled paper, "
                     "whole process",
                     f"{times[count]:.2f} s (written: {label}; read: {read})"
                     + (f"; {times[count] - times[1]:+.2f} s against one digit" if count > 1 else "")))
    count = 100 if quick else 1000
    folder = os.path.join(work, "pngs")
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        Image.fromarray(images[i].reshape(28, 28)).save(os.path.join(folder, f"{i:04d}.png"))
    seconds, _ = timed_runs([predict, "--model", "m.npz", "pngs"], work, 1 if quick else 3)
    rows.append((f"predict_image.py, a folder of {count:,} MNIST-size PNGs, whole process",
                 f"{seconds:.2f} s, {count / seconds:.0f} images/s"))
    return rows


def accuracy_from(out):
    """Test accuracy from the JSON line a competitor's recipe script prints."""
    return json.loads(out.strip().splitlines()[-1])["test_accuracy"]


def ours_accuracy(out):
    """Test accuracy from train.py's output."""
    return float(out.split("Test accuracy: ")[1].split()[0])


def machine_description():
    from threadpoolctl import threadpool_info

    blas = next((f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                 for i in threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]),
                "unknown BLAS")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, {blas}")


def main():
    p = cli.ArgumentParser(prog="benchmarks/bench.py", description="Benchmark training and prediction on this machine.")
    p.add_argument("--quick", action="store_true", help="small sizes and one run each (a smoke test)")
    p.add_argument("--repeats", type=cli.positive_int, default=5, help="runs per whole-process figure (default 5)")
    p.add_argument("--watch-only", action="store_true", help="only the rows of what train.py --watch costs")
    args = p.parse_args()
    repeats = 1 if args.quick else args.repeats
    limit = ["--limit", "5000"] if args.quick else []
    recipe_epochs = ["--epochs", "1"] if args.quick else ["--epochs", "15"]
    rows = []
    work = tempfile.mkdtemp(prefix="bench-")
    machine = machine_description()  # NumPy's BLAS, before any competitor loads its own
    train = os.path.join(ROOT, "train.py")
    ours = [train, *RECIPE, *recipe_epochs, *limit, "--quiet", "--model", "m.npz"]
    default = ["--limit", "5000", "--epochs", "2"] if args.quick else []
    default_label = "quick stand-in for the default run" if args.quick else "default run (`python train.py`)"
    watch_rows = [lambda: fast_recipe_watch_rows(ours, recipe_epochs[1], work, repeats, args.quick),
                  lambda: [watch_row([train, *default, "--quiet", "--model", "default.npz"], default_label, work,
                                     1 if args.quick else 2)]]
    if args.watch_only:
        print_table(machine, [row for rows_of in watch_rows for row in rows_of()])
        return

    # First, while this process is small: the peak memory Linux reports for a child is at least this
    # process's own peak so far (measured: 597 MiB for `python -c pass` after a 600 MB array).
    default_run = run_process([train, *default, "--quiet", "--model", "default.npz"], work)
    started = time.perf_counter()
    data = mnist_data.load_mnist()
    load_seconds = time.perf_counter() - started
    images, labels = data["train"]
    if args.quick:
        images, labels = images[:5000], labels[:5000]
    X, Y = network.normalize(images), network.one_hot(labels)
    m = X.shape[1]
    for batch_size, name in ((None, "full-batch"), (128, "mini-batch (128)")):
        epoch, products = epoch_vs_products(X, Y, batch_size, repeats=3 if args.quick else 8)
        rows.append((f"{name} epoch, m = {m:,}: whole epoch / its matrix products alone",
                     f"{epoch:.3f} s / {products:.3f} s = {epoch / products:.2f}x"))
    rows.append(("data loading (bundled IDX files, in process)", f"{load_seconds:.2f} s"))
    rows += thread_rows(X, Y, images, repeats=1 if args.quick else 3)
    plain, augmented, ratio = augmented_epoch_ratio(X, Y, images, repeats=2 if args.quick else 5)
    rows.append(("augmented / plain mini-batch (128) epoch, 1 BLAS thread, distortions made in a second "
                 "thread, median of alternating pairs",
                 f"{augmented:.3f} s / {plain:.3f} s = {ratio:.2f}x"))

    competitors = [("scikit-learn MLPClassifier", "recipe_sklearn.py", "sklearn"),
                   ("PyTorch (CPU)", "recipe_torch.py", "torch")]
    for name, script, module in competitors:
        try:
            __import__(module)
        except ImportError:
            rows.append((f"{name}, same recipe", f"skipped: {module} is not installed"))
            continue
        theirs = [os.path.join(ROOT, "benchmarks", script), *recipe_epochs, *limit]
        ours_seconds, their_seconds, ratio, ours_out, their_out = paired_runs(ours, theirs, work, repeats)
        rows.append((f"ours vs {name}: fast recipe ({recipe_epochs[1]} epochs), whole process, "
                     f"median of {repeats} alternating runs",
                     f"ours {ours_seconds:.2f} s ({ours_accuracy(ours_out):.2%}), theirs {their_seconds:.2f} s "
                     f"({accuracy_from(their_out):.2%}); theirs / ours = {ratio:.2f}x"))

    rows.append(floor_row(ours, work, repeats, int(recipe_epochs[1])))
    rows += watch_rows[0]()

    for name, epochs in (("augmented recipe", "60"), ("short augmented recipe", "30")):
        run = [train, *AUGMENTED, "--epochs", "1" if args.quick else epochs, *limit, "--quiet", "--model", "a.npz"]
        seconds, _, out = run_process(run, work)
        rows.append((f"{name} (`{' '.join(AUGMENTED)} --epochs {epochs}`), whole process",
                     f"{seconds:.1f} s, test accuracy {ours_accuracy(out):.2%}"))

    from PIL import Image
    Image.fromarray(data["test"][0][0].reshape(28, 28)).save(os.path.join(work, "seven.png"))
    predict, _ = timed_runs([os.path.join(ROOT, "predict_image.py"), "--model", "m.npz", "seven.png"],
                            work, 1 if args.quick else 5)
    rows.append(("predict_image.py, one image, whole process", f"{predict:.2f} s"))

    seconds, memory, out = default_run
    rows.append((f"{default_label}, whole process", f"{seconds:.1f} s, test accuracy {ours_accuracy(out):.2%}, "
                                                     f"peak memory {memory:.0f} MiB"))
    rows += watch_rows[1]()
    rows += photo_rows(data, work, args.quick)

    print_table(machine, rows)


def print_table(machine, rows):
    print(f"Machine: {machine}")
    print()
    print("| measurement | result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    cli.run_main("benchmarks/bench.py", main)
