"""Draw docs/augmentation.png: training digits beside distorted copies, as --augment makes them.

    python docs/draw_augmentation.py
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from digits import augment, cli  # noqa: E402
from digits import mnist_data  # noqa: E402


def main():
    p = cli.ArgumentParser(prog="docs/draw_augmentation.py",
                           description="Draw training digits beside randomly distorted copies of them.")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "augmentation.png"),
                   help="where to write the figure (default: %(default)s)")
    p.add_argument("--copies", type=cli.positive_int, default=6,
                   help="distorted copies per digit (default: %(default)s)")
    args = p.parse_args()
    cli.check_output_path("--out", args.out, "augmentation.png")
    images, labels = mnist_data.load_mnist(splits=("train",))["train"]
    chosen = [int(np.flatnonzero(labels == d)[0]) for d in range(10)]
    rng = np.random.default_rng(0)
    copies = [augment.distort(images[chosen], rng) for _ in range(args.copies)]  # one epoch's worth each

    fig, axes = plt.subplots(10, args.copies + 1, figsize=(1.05 * (args.copies + 1), 10.6))
    for row, index in enumerate(chosen):
        axes[row, 0].imshow(images[index].reshape(28, 28), cmap="gray", vmin=0, vmax=255)
        for k, X in enumerate(copies):
            axes[row, k + 1].imshow(X[:, row].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("training\nimage", fontsize=9)
    for k in range(args.copies):
        axes[0, k + 1].set_title(f"epoch {k + 1}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("--augment: a new random distortion of every image in every epoch", fontsize=10)
    fig.tight_layout()
    cli.write_atomically(args.out, lambda f: fig.savefig(f, format="png", dpi=70))
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    cli.run_main("docs/draw_augmentation.py", main)
