"""How a training run reports: its progress while it trains, and after training one figure of
what a learner wants to see.

The figure: loss and accuracy over the epochs, the confusion matrix on the test set, the
first-layer weights W1 as 28x28 images, and test digits the network got wrong.
"""

import io
import shutil
import sys
import time

import numpy as np

import network


def progress_reporter(epochs, quiet):
    """A report(record) function for a run of `epochs` epochs: a progress bar on a terminal,
    periodic lines otherwise, nothing if `quiet`.
    """
    if quiet:
        return lambda record: None
    if sys.stdout.isatty():
        from tqdm import tqdm

        size = shutil.get_terminal_size()  # 80x24 where the terminal does not tell its size
        bar = tqdm(total=epochs, unit="epoch", file=sys.stdout, ncols=size.columns, nrows=size.lines)

        shown = {}

        def report(record):
            shown["loss"] = f"{record['loss']:.4f}"
            shown["train acc"] = f"{record['train_accuracy']:.4f}"
            if "test_accuracy" in record:
                shown["test acc"] = f"{record['test_accuracy']:.4f}"
            bar.set_postfix(shown, refresh=False)
            bar.update(record["epoch"] - bar.n)
            if record["epoch"] == epochs:
                bar.close()
        return report

    print_every = max(1, epochs // 10)
    started = time.perf_counter()

    def report(record):
        if record["epoch"] % print_every == 0 or record["epoch"] in (1, epochs):
            test = record.get("test_accuracy")
            test_text = f"  test acc {test:.4f}" if test is not None else ""
            print(f"epoch {record['epoch']:>{len(str(epochs))}}/{epochs}"
                  f"  loss {record['loss']:.4f}  train acc {record['train_accuracy']:.4f}{test_text}"
                  f"  {time.perf_counter() - started:.1f}s", flush=True)
    return report


def confusion_matrix(predicted, y, n_classes=10):
    """C[i, j] = number of test images of digit i that the network called j."""
    C = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(C, (y, predicted), 1)
    return C


def training_report_png(params, history, X_test, y_test, title):
    """The report as PNG bytes (matplotlib, no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    A2 = network.predict_proba(params, X_test)
    predicted = A2.argmax(axis=0)
    C = confusion_matrix(predicted, y_test)

    fig = plt.figure(figsize=(15, 13), layout="constrained")
    fig.suptitle(title, fontsize=14)
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[1.15, 1.25, 0.55])

    ax_loss, ax_acc, ax_conf = top.subplots(1, 3, width_ratios=[1, 1, 1.05])
    epochs = [r["epoch"] for r in history]
    ax_loss.plot(epochs, [r["loss"] for r in history], color="tab:red")
    ax_loss.set(title="Training loss (cross-entropy)", xlabel="epoch", ylabel="loss", yscale="log")
    ax_loss.grid(alpha=0.3, which="both")
    ax_acc.plot(epochs, [r["train_accuracy"] for r in history], label="train", color="tab:blue")
    tested = [r for r in history if "test_accuracy" in r]
    ax_acc.plot([r["epoch"] for r in tested], [r["test_accuracy"] for r in tested], "o-",
                markersize=3, label="test (never trained on)", color="tab:green")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="fraction correct")
    ax_acc.legend(loc="lower right")
    ax_acc.grid(alpha=0.3)
    if tested:
        ax_acc.set_ylim(max(0.0, min(r["test_accuracy"] for r in tested[len(tested) // 5:]) - 0.05), 1.0)

    ax_conf.imshow(np.log1p(C), cmap="Blues")
    for i in range(10):
        for j in range(10):
            if C[i, j]:
                ax_conf.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=7,
                             color="white" if i == j else "black")
    ax_conf.set(title=f"Confusion matrix, test set (accuracy {np.mean(predicted == y_test):.2%})",
                xlabel="predicted digit", ylabel="true digit", xticks=range(10), yticks=range(10))

    W1 = params["W1"]
    shown = min(W1.shape[0], 64)
    middle.suptitle(f"First-layer weights: the rows of W1 of hidden units 0-{shown - 1} (of {W1.shape[0]}) "
                    "as 28x28 images; red = positive, blue = negative", fontsize=11)
    axes = middle.subplots(4, 16, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < shown:
            w = W1[k].reshape(28, 28)
            limit = np.abs(w).max() or 1
            ax.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"unit {k}", fontsize=7, pad=2)

    wrong = np.flatnonzero(predicted != y_test)[:12]
    bottom.suptitle("Test digits the network got wrong: true digit -> what it said (confidence)",
                    fontsize=11)
    axes = bottom.subplots(1, 12, squeeze=False).ravel()
    for ax, index in zip(axes, [*wrong, *[None] * (12 - len(wrong))]):
        ax.axis("off")
        if index is not None:
            ax.imshow(X_test[:, index].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{y_test[index]} -> {predicted[index]} ({A2[predicted[index], index]:.2f})",
                         fontsize=9, color="tab:red")

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()
