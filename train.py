"""Train the 784-128-10 network on MNIST and write model_mnist.npz.

    python train.py                                       # full-batch gradient descent
    python train.py --batch-size 128 --lr 0.1 --momentum 0.9 --epochs 15   # fast recipe
    python train.py --watch          # and watch it learn at http://127.0.0.1:8001/
"""

import argparse
import datetime
import math
import os
import shlex
import signal
import sys
import time

import numpy as np

import network
from digits import cli, machine, mnist_data
from digits.model_file import save_model
from digits.report import progress_reporter, training_report_png

PROG = "train.py"
# With small initial weights every class starts at probability 1/10, so the loss
# starts at ln 10. A loss far above that means the steps are too large.
DIVERGED_LOSS = 3 * math.log(10)


def parse_args(argv=None):
    p = cli.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a 784-128-10 NumPy network on MNIST and save it as an .npz model.\n"
                    "Default: full-batch gradient descent on the bundled copy of MNIST (no network).",
        epilog="examples:\n"
               "  python train.py                    # the original's algorithm: about 96% test accuracy\n"
               "  python train.py --batch-size 128 --lr 0.1 --momentum 0.9 --epochs 15\n"
               "                                     # the fast recipe: about 98% in seconds\n"
               "  python train.py --batch-size 128 --lr 0.1 --momentum 0.9 --epochs 15 --watch\n"
               "                                     # the same, watched live in the browser\n"
               "  python train.py --limit 5000 --epochs 50 --batch-size 64 --lr 0.05 --momentum 0.9 "
               "--model experiment.npz --plot report.png",
    )
    p.add_argument("--epochs", type=cli.positive_int, default=500, metavar="N",
                   help="passes over the training set (default: %(default)s)")
    p.add_argument("--lr", type=cli.positive_float, default=1.0, metavar="X",
                   help="learning rate, the step size of each update (default: %(default)s)")
    p.add_argument("--batch-size", type=cli.positive_int, default=None, metavar="N",
                   help="examples per step, for shuffled mini-batch SGD "
                        "(default: all of them, i.e. full-batch gradient descent)")
    p.add_argument("--momentum", type=cli.momentum_float, default=0.0, metavar="X",
                   help="momentum coefficient in [0, 1) (default: %(default)s, plain gradient descent)")
    p.add_argument("--augment", action="store_true",
                   help="train on randomly distorted copies of the training images, a new distortion "
                        "of every image in every epoch (rotation, slant, size, position, pen width)")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="learning rate over the epochs: constant, or cosine, falling from --lr towards 0 "
                        "(default: %(default)s)")
    p.add_argument("--hidden", type=cli.positive_int, default=128, metavar="N",
                   help="units in the hidden layer (default: %(default)s)")
    p.add_argument("--seed", type=cli.seed_number, default=0, metavar="N",
                   help="seed for the initial weights and the shuffling; the same seed, data and "
                        "options give the same weights (default: %(default)s)")
    mnist_data.add_source_arguments(p)
    p.add_argument("--limit", type=cli.positive_int, default=None, metavar="N",
                   help="train on the first N training images only (for quick experiments)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point type of the training arithmetic (default: %(default)s)")
    p.add_argument("--model", metavar="PATH", default="model_mnist.npz",
                   help="where to write the trained model (default: %(default)s)")
    p.add_argument("--plot", metavar="PNG", default=None,
                   help="also write a training report figure: loss and accuracy over the epochs, "
                        "confusion matrix, first-layer weights, misclassified test digits")
    p.add_argument("--threads", type=cli.positive_int, default=None, metavar="N",
                   help="threads for the matrix products (default: the cores other programs leave "
                        "free while the data loads, one fewer with --augment; OPENBLAS_NUM_THREADS or "
                        "OMP_NUM_THREADS, if set, are kept)")
    p.add_argument("--watch", action="store_true",
                   help="serve a page that shows the network while it learns: loss and accuracy, the "
                        "weights W1, the confusion matrix, test digits; with a Stop button")
    cli.add_page_options(p, "--watch", 8001)
    p.add_argument("--quiet", action="store_true",
                   help="no progress output while training; print only the results")
    args = p.parse_args(argv)
    mnist_data.check_source_arguments(p, args)
    cli.check_page_options(p, args, "--watch", "training page", 8001)
    return args


def interrupted_path(path):
    """model_mnist.npz -> model_mnist.interrupted.npz: where an interrupted run keeps what it learned."""
    stem, ext = os.path.splitext(path)
    return f"{stem}.interrupted{ext or '.npz'}"


def describe_algorithm(args):
    """E.g. 'mini-batch SGD (batch size 128), lr 0.1, momentum 0.9, cosine schedule, augmented'."""
    algorithm = (f"mini-batch SGD (batch size {args.batch_size})" if args.batch_size
                 else "full-batch gradient descent")
    extras = ", cosine schedule" if args.schedule == "cosine" else ""
    extras += ", augmented" if args.augment else ""
    return f"{algorithm}, lr {args.lr}, momentum {args.momentum}{extras}"


def evaluate(params, X, y):
    """(accuracy, per-digit accuracies) of the network on inputs X (784, m) with labels y."""
    predictions = network.predict_proba(params, X).argmax(axis=0)
    correct = predictions == y
    per_digit = np.bincount(y, weights=correct, minlength=10) / np.maximum(np.bincount(y, minlength=10), 1)
    return float(correct.mean()), per_digit


def train(params, X, Y, args, should_stop, report, test=None, inputs=None, watch=None):
    """Run gradient descent on params (in place) and return the history of the run.

    inputs, if given, makes the inputs of each batch (see network.gradient_descent);
    watch, if given, sees every step (the training page, digits/watch.py).

    With test = (X_test, y_test), the test accuracy is measured every 1/50th of the
    epochs and at the end, for progress lines and the report; without, training is
    not slowed by it. report(record) is called with each epoch's record. Raises
    FloatingPointError if the loss diverges.
    """
    eval_every = max(1, args.epochs // 50)
    history = []

    def after_step(epoch, done, loss, accuracy):
        if watch is not None:
            watch.step(params, epoch, done, loss, accuracy)
        return should_stop()

    steps = network.gradient_descent(params, X, Y, args.lr, args.epochs, args.batch_size,
                                     args.momentum, args.seed, after_step, args.schedule, inputs)
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch, loss, train_accuracy in steps:
            if not loss < DIVERGED_LOSS:  # also true for NaN
                raise FloatingPointError(f"training diverged at epoch {epoch} (loss {loss:.3g})")
            record = {"epoch": epoch, "loss": loss, "train_accuracy": train_accuracy}
            if test is not None and (epoch % eval_every == 0 or epoch == args.epochs or should_stop()):
                record["test_accuracy"] = evaluate(params, *test)[0]
            history.append(record)
            report(record)
    return history


def every_nth(records, n):
    """Every n-th record and the last one: a history short enough to store with the model."""
    kept = records[n - 1::n]
    return kept if records[-1:] == kept[-1:] else kept + records[-1:]


def open_watch(args):
    """The training page, served from now on (--watch); its address is printed."""
    from digits import watch

    page = watch.open_watch(args.host, args.port, args.epochs)
    print(cli.page_address("Training page", args.host, page.server.server_address[1]), flush=True)
    return page


def main(argv=None):
    args = parse_args(argv)
    machine.keep_freed_memory()
    usage_at_start = machine.cpu_usage()  # what other programs do while the data loads decides the threads
    signal.signal(signal.SIGTERM, cli.raise_terminated)  # until training starts: stop as Ctrl-C does
    cli.check_output_path("--model", args.model, "model_mnist.npz")
    if args.plot is not None:
        cli.check_output_path("--plot", args.plot, "report.png")
    machine.check_memory(min(args.limit or 60_000, 60_000), args.hidden, args.dtype, args.batch_size)
    watch = open_watch(args) if args.watch else None
    try:
        return load_train_and_save(args, usage_at_start, watch)
    finally:
        if watch is not None:
            if watch.status["state"] == "over":
                watch.farewell()  # the open pages fetch the final state before the server goes
            watch.close()


def load_train_and_save(args, usage_at_start, watch):
    """Load MNIST, train, save the model, print the results and write the report; the exit code."""
    stopped_by = []  # the signal that asked training to stop
    if watch is not None:
        watch.on_stop = lambda: stopped_by.append(signal.SIGINT)  # the page's Stop button is Ctrl-C
    images, X, Y, X_test, y_test = load_data(args)
    threads = machine.use_blas_threads(args.threads, args.augment, usage_at_start)
    if not args.quiet:
        print(f"Training 784-{args.hidden}-10 with {describe_algorithm(args)}, "
              f"{cli.counted(args.epochs, 'epoch')}, seed {args.seed}, {cli.counted(threads, 'BLAS thread')}")
    if stopped_by:  # Stop was pressed while the data loaded: as Ctrl-C then, no model
        watch.finish(None, "stopped", "Stopped while MNIST was loading: no model was written.")
        raise KeyboardInterrupt

    params = network.init_params(n_h=args.hidden, seed=args.seed, dtype=np.dtype(args.dtype).type)
    cli.stop_on_signals(stopped_by)  # from here on, Ctrl-C and SIGTERM end training cleanly
    if watch is not None:
        watch.data_loaded(X_test, y_test, [
            ["network", f"784-{args.hidden}-10, {args.dtype}"], ["algorithm", describe_algorithm(args)],
            ["epochs", f"{args.epochs:,}"], ["training images", f"{X.shape[1]:,}"], ["seed", str(args.seed)],
            ["BLAS threads", str(threads)], ["model", args.model],
            ["command", shlex.join(["python", "train.py", *sys.argv[1:]])]])
        watch.start(params)
    history, train_seconds = train_or_explain(params, X, Y, images, (X_test, y_test), args, stopped_by, watch)

    test_accuracy, per_digit = evaluate(params, X_test, y_test)
    epochs_done = history[-1]["epoch"] if history else 0
    meta = model_meta(args, history, bool(stopped_by), threads, test_accuracy, train_seconds)
    model_path = save(params, meta, args)
    correct = round(test_accuracy * X_test.shape[1])
    print(f"Test accuracy: {test_accuracy:.4f} ({correct}/{X_test.shape[1]} held-out test images)")
    print("Per-digit accuracy: " + "  ".join(f"{d}: {a:.3f}" for d, a in enumerate(per_digit)))
    print(f"Training time: {train_seconds:.1f}s for {cli.counted(epochs_done, 'epoch')}")
    print(f"Model written to {cli.printable(model_path)}", flush=True)
    if watch is not None:
        ended = (f"Stopped during epoch {epochs_done} of {args.epochs}" if stopped_by
                 else f"Trained for {cli.counted(epochs_done, 'epoch')}")
        watch.finish(params, "stopped" if stopped_by else "finished",
                     f"{ended} in {train_seconds:.1f} s: test accuracy {test_accuracy:.2%}.",
                     model=os.path.abspath(model_path), command=shlex.join(
                         ["python", "predict_image.py", "--serve"]
                         + ([] if model_path == "model_mnist.npz" else ["--model", model_path])))
    if args.plot is not None:
        write_report(params, history, X_test, y_test, args, model_path, epochs_done)
    if stopped_by:
        return 143 if stopped_by[0] == signal.SIGTERM else 130
    return 0


def load_data(args):
    """MNIST as training needs it: (training images as loaded, X, Y, X_test, y_test)."""
    dtype = np.dtype(args.dtype).type
    started = time.perf_counter()
    data = mnist_data.load_mnist(args.source, args.data)
    images, labels = data["train"]
    if args.limit is not None:
        images, labels = images[:args.limit], labels[:args.limit]
    X, Y = network.normalize(images, dtype), network.one_hot(labels, dtype=dtype)
    X_test, y_test = network.normalize(data["test"][0], dtype), data["test"][1]
    if not args.quiet:
        source = args.data if args.data is not None else args.source
        print(f"Loaded MNIST ({source}): {X.shape[1]} training and {X_test.shape[1]} test images "
              f"in {time.perf_counter() - started:.2f}s")
    return images, X, Y, X_test, y_test


def train_or_explain(params, X, Y, images, test, args, stopped_by, watch):
    """train() with --augment's distorted batches, measured: (history, seconds). A diverging run
    becomes an InputError that says what to try (and the page says so too).
    """
    inputs = None
    if args.augment:
        from digits import augment

        inputs = augment.distorted_batches(images, np.random.default_rng((args.seed, 1)))
    started = time.perf_counter()
    try:
        report = progress_reporter(args.epochs, args.quiet)
        history = train(params, X, Y, args, lambda: bool(stopped_by), report,
                        None if args.quiet and args.plot is None else test, inputs, watch)
    except FloatingPointError as e:
        message = (f"{e}; try a smaller learning rate, e.g. --lr {args.lr / 10:g} "
                   f"({args.model} was not written)")
        if watch is not None:
            watch.finish(None, "failed", message[0].upper() + message[1:])
        raise cli.InputError(message) from None
    return history, time.perf_counter() - started


def model_meta(args, history, interrupted, threads, test_accuracy, train_seconds):
    """What the model file says of the run that made it."""
    return {
        "epochs": args.epochs, "epochs_completed": history[-1]["epoch"] if history else 0,
        "interrupted": interrupted,
        "lr": args.lr, "batch_size": args.batch_size, "momentum": args.momentum,
        "augment": args.augment, "schedule": args.schedule, "threads": threads,
        "hidden": args.hidden, "seed": args.seed, "limit": args.limit, "dtype": args.dtype,
        "source": args.data if args.data is not None else args.source,
        "test_accuracy": test_accuracy, "train_seconds": round(train_seconds, 3),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "history": every_nth(history, max(1, len(history) // 50)),
    }


def save(params, meta, args):
    """Write the model to --model, or beside it if the run was interrupted and --model exists;
    the path written.
    """
    model_path = args.model
    if meta["interrupted"]:
        print(f"Interrupted during epoch {meta['epochs_completed']}/{args.epochs}: "
              "saving what was learned so far.")
        if os.path.lexists(args.model):  # an interrupted run never replaces a model
            model_path = interrupted_path(args.model)
            print(f"{cli.printable(args.model)} is kept as it was; this run's model goes to "
                  f"{cli.printable(model_path)}.")
    save_model(model_path, params, meta)
    return model_path


def write_report(params, history, X_test, y_test, args, model_path, epochs_done):
    """The training report figure, written to --plot."""
    title = f"784-{args.hidden}-10 network, {cli.counted(epochs_done, 'epoch')} of {describe_algorithm(args)}"
    png = training_report_png(params, history, X_test, y_test, title)
    try:
        cli.write_atomically(args.plot, lambda f: f.write(png))
    except cli.InputError as e:
        raise cli.InputError(f"{e} (the model was written to {model_path})") from None
    print(f"Training report written to {cli.printable(args.plot)}")


if __name__ == "__main__":
    cli.run_main(PROG, main, interrupted="interrupted; no model was written")
