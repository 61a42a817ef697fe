"""Draw rede-neural-flow.png, the diagram of training shown in the README.

    python docs/draw_flow.py [--out rede-neural-flow.png]
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from digits import cli  # noqa: E402

BLUE, GREEN, ORANGE, PURPLE, GRAY = "#dbe9f6", "#dff0d8", "#fde9d0", "#ece2f4", "#f2f2f2"

# (x centre, y centre, width, height, title, detail, colour); the canvas is 16 x 9 units.
STEPS = {
    "load": (2.1, 7.5, 3.9, 1.3, "1. Load MNIST", "60,000 train + 10,000 test\n28x28 images, uint8", GRAY),
    "prep": (2.1, 5.3, 3.9, 1.5, "2. Normalise, one-hot",
             "X = pixels / 255  (784, m)\nY = one_hot(y)    (10, m)", GRAY),
    "init": (2.1, 3.0, 3.9, 1.5, "3. Initialise",
             "W1, W2 ~ N(0, 1) x 0.01\nb1, b2 = 0", GRAY),
    "forward": (8.4, 7.2, 4.8, 1.6, "4. Forward pass",
                "Z1 = W1 X + b1   A1 = ReLU(Z1)\nZ2 = W2 A1 + b2  A2 = softmax(Z2)", BLUE),
    "loss": (13.4, 7.2, 4.4, 1.6, "5. Loss (cross-entropy)",
             "L = -(1/m) sum(Y log A2)", ORANGE),
    "backward": (13.4, 3.9, 4.4, 2.4, "6. Backpropagation",
                 "dZ2 = A2 - Y\ndW2 = dZ2 A1^T / m\ndZ1 = W2^T dZ2 * (Z1 > 0)\ndW1 = dZ1 X^T / m",
                 PURPLE),
    "update": (8.4, 3.9, 4.4, 1.6, "7. Update",
               "W <- W - lr dW\nb <- b - lr db", GREEN),
    "save": (8.4, 0.95, 4.4, 1.1, "8. Save model_mnist.npz", "W1 b1 W2 b2 + metadata", GRAY),
}
ARROWS = [("load", "bottom", "prep", "top"), ("prep", "bottom", "init", "top"),
          ("init", "right", "forward", "left"), ("forward", "right", "loss", "left"),
          ("loss", "bottom", "backward", "top"), ("backward", "left", "update", "right"),
          ("update", "top", "forward", "bottom"), ("update", "bottom", "save", "top")]


def edge(step, which):
    """The midpoint of one edge ('left', 'right', 'top', 'bottom') of a step's box."""
    x, y, w, h = STEPS[step][:4]
    dx, dy = {"left": (-w / 2, 0), "right": (w / 2, 0), "top": (0, h / 2), "bottom": (0, -h / 2)}[which]
    return x + dx, y + dy


def draw(out):
    fig, ax = plt.subplots(figsize=(16, 9))
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 9)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((4.8, 2.55), 11.0, 6.25, boxstyle="round,pad=0.05,rounding_size=0.3",
                                facecolor="none", edgecolor="#888888", linestyle="--", linewidth=1.5))
    ax.text(10.3, 8.45, "repeated: once per epoch (full batch) or once per mini-batch",
            ha="center", fontsize=13, color="#555555", style="italic")
    for x, y, w, h, title, detail, colour in STEPS.values():
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04,rounding_size=0.15",
                                    facecolor=colour, edgecolor="#333333", linewidth=1.4))
        ax.text(x, y + h / 2 - 0.3, title, ha="center", va="center", fontsize=14, weight="bold")
        ax.text(x, y - 0.2, detail, ha="center", va="center", fontsize=12, family="monospace",
                linespacing=1.4)
    for a, a_edge, b, b_edge in ARROWS:
        (x0, y0), (x1, y1) = edge(a, a_edge), edge(b, b_edge)
        if x0 != x1 and y0 != y1:  # an elbow: across, up or down, then across into the box
            middle = (x0 + x1) / 2
            ax.plot([x0, middle, middle], [y0, y0, y1], color="#333333", linewidth=2)
            x0, y0 = middle, y1
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=22,
                                     linewidth=2, color="#333333"))
    ax.text(8.0, -0.05, "network: 784 inputs  ->  128 ReLU units  ->  10 softmax outputs",
            ha="center", fontsize=13, weight="bold", color="#1f4e79")
    cli.write_atomically(out, lambda f: fig.savefig(f, format="png", dpi=75, bbox_inches="tight"))
    plt.close(fig)


def main():
    p = cli.ArgumentParser(prog="docs/draw_flow.py", description="Draw the training diagram.")
    p.add_argument("--out", default=os.path.join(ROOT, "rede-neural-flow.png"),
                   help="where to write the figure (default: rede-neural-flow.png)")
    out = p.parse_args().out
    cli.check_output_path("--out", out, "rede-neural-flow.png")
    draw(out)


if __name__ == "__main__":
    cli.run_main("docs/draw_flow.py", main)
