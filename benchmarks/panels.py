"""Accuracy of models on digits shown in a panel of a larger image made on a computer.

    python benchmarks/panels.py model_mnist.npz augmented.npz --per-kind 50 --seed 3

Writes the images (tests/photos.py, panel_image) to a temporary folder (or to --folder, kept):
an MNIST test digit as matplotlib shows it (a plot), a digit or a written number pasted on a
slide, and one drawn on the canvas of a paint program (a screenshot), in turn; reads them with
predict_image.py --json (as a user would) and prints a Markdown table of the images read
exactly, per kind, for each model.
"""

import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import photos  # noqa: E402
from digits import cli, mnist_data  # noqa: E402

# benchmarks/photos.py, which reads a folder of images named as these are (its own name is taken
# by tests/photos.py, which makes them)
_spec = importlib.util.spec_from_file_location("photo_benchmark", os.path.join(ROOT, "benchmarks", "photos.py"))
photo_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(photo_benchmark)


def write_panels(folder, per_kind, seed):
    """per_kind images of each of photos.PANEL_KINDS, made in turn, named
    <kind>_<single or number>_<k>_<label>.png."""
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    images = images.reshape(-1, 28, 28)
    rng = np.random.default_rng(seed)
    for k in range(per_kind * len(photos.PANEL_KINDS)):
        kind = photos.PANEL_KINDS[k % len(photos.PANEL_KINDS)]
        data, label = photos.panel_image(rng, images, labels, kind)
        with open(os.path.join(folder, f"{kind}_{'single' if len(label) == 1 else 'number'}_{k:03d}_{label}.png"),
                  "wb") as f:
            f.write(data)


def table(models, results):
    """The Markdown table: images read exactly of each kind (and of those, single digits and
    numbers), a column per model."""
    rows = ["| images | " + " | ".join(f"`{os.path.basename(m)}`" for m in models) + " |",
            "| --- |" + " --- |" * len(models)]
    names = {"plot": "a digit in a plot (matplotlib)", "slide": "pasted on a slide",
             "screenshot": "drawn on a paint program's canvas (a screenshot)"}
    for kind in photos.PANEL_KINDS:
        for what in ("single", "number"):
            cells = [r.get((kind, what), (0, 0)) for r in results]
            if cells[0][1]:
                rows.append(f"| {names[kind]}, {'one digit' if what == 'single' else 'a number'} | "
                            + " | ".join(f"{right} of {total}" for right, total in cells) + " |")
    return "\n".join(rows)


def main():
    p = cli.ArgumentParser(prog="benchmarks/panels.py",
                           description="Accuracy of models on digits shown in a panel of a larger image: "
                                       "a plot, a slide, a screenshot of a paint program.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--per-kind", type=cli.positive_int, default=50, help="images of each kind (default: 50)")
    p.add_argument("--seed", type=cli.seed_number, default=3, help="seed of the images (default: %(default)s)")
    p.add_argument("--folder", default=None,
                   help="a new or empty folder to write the images to and keep them in (default: a temporary folder)")
    args = p.parse_args()
    _, rights = photo_benchmark.write_and_read(args.models, args.folder,
                                               lambda folder: write_panels(folder, args.per_kind, args.seed))
    print(table(args.models, [photo_benchmark.group_counts(right) for right in rights]))


if __name__ == "__main__":
    cli.run_main("benchmarks/panels.py", main)
