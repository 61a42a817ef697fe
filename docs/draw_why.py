"""Draw docs/why.png: why the network reads a 7: what each pixel adds to the logits of 7 and of 1,
7 against 1, and the ten templates T[d] the network uses for this one input.

    python docs/draw_why.py [--model model_mnist.npz]
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import network  # noqa: E402
from digits import cli, mnist_data, reader  # noqa: E402


def signed(ax, values, title):
    """A 28x28 map in the report's colours: red positive, blue negative, white 0, scaled to its largest |value|."""
    limit = max(np.abs(values).max(), 1e-9)
    ax.imshow(values.reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(title, fontsize=9)


def main():
    p = cli.ArgumentParser(prog="docs/draw_why.py", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="model_mnist.npz", help="model file (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "why.png"),
                   help="where to write the figure (default: %(default)s)")
    args = p.parse_args()
    params = reader.load(args.model)
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    seven = images[int(np.flatnonzero(labels == 7)[0])]
    x = network.normalize(seven[None])  # (784, 1)
    C, c, T = reader.contributions(params, x)
    Z2 = network.forward_prop(params, x)[2][:, 0]

    fig, axes = plt.subplots(3, 5, figsize=(8.4, 5.6))
    axes[0, 0].imshow(x.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("the input x", fontsize=9)
    for ax, d in ((axes[0, 1], 7), (axes[0, 2], 1)):
        sign = "-" if c[d] < 0 else "+"
        signed(ax, C[d], f"x T[{d}]: Z2[{d}] =\n{C[d].sum():.2f} {sign} {abs(c[d]):.2f} = {Z2[d]:.2f}")
    signed(axes[0, 3], C[7] - C[1], f"7 against 1:\n{C[7].sum() - C[1].sum():.2f} from the pixels")
    axes[0, 4].axis("off")
    axes[0, 4].text(0, 0.5, "red: pushes towards\nthe digit, blue:\nagainst; each map\nscaled to its own\n"
                    "largest value", fontsize=8, va="center")
    for d in range(10):
        signed(axes[1 + d // 5, d % 5], T[d], f"template T[{d}]")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Why 7: Z2 = T x + c, with the units that fire for this x fixed", fontsize=11)
    fig.tight_layout()
    cli.write_atomically(args.out, lambda f: fig.savefig(f, format="png", dpi=100))
    print(f"Figure written to {args.out}")


if __name__ == "__main__":
    cli.run_main("docs/draw_why.py", main)
