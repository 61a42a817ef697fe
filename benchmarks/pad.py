"""Accuracy of models on digits and numbers drawn on the drawing page's pad, with pens of given widths.

    python benchmarks/pad.py model_mnist.npz augmented.npz --per-kind 120 --seed 1
    python benchmarks/pad.py augmented.npz --pen 20 14 --seed 3

Draws the same digits in the generator's hands (tests/photos.py, pad_drawing) once with each
pen (default: the page's, PEN_WIDTH in web/draw.js) on the 280x280 pad, black on white as the
page sends them: one digit, and numbers of 2 or 3 digits drawn small enough to fit. Writes them
to a temporary folder (or to --folder, kept), reads them with predict_image.py --json (what
the page's server does with a drawing) and prints a Markdown table of the share read exactly,
per pen and kind, for each model.
"""

import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import browser  # noqa: E402
import photos  # noqa: E402
from digits import cli, mnist_data  # noqa: E402

# benchmarks/photos.py, which reads a folder of images named as these are (its own name is taken
# by tests/photos.py, which makes them)
_spec = importlib.util.spec_from_file_location("photo_benchmark", os.path.join(ROOT, "benchmarks", "photos.py"))
photo_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(photo_benchmark)

LARGEST_NUMBER = 3  # numbers have 2 to this many digits: more do not fit on the pad at a size people draw


def write_drawings(folder, per_kind, seed, pens):
    """per_kind drawings of one digit and of a number for each pen, named
    pad<pen>_<single or number>_<k>_<label>.png. Each drawing is made from a stream of its own
    (the seed, the kind and k), so that every pen draws the same digits in the same hand,
    whichever other pens are asked for."""
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    images = images.reshape(-1, 28, 28)
    for number, kind in enumerate(("single", "number")):
        for k in range(per_kind):
            for pen in pens:
                rng = np.random.default_rng([seed, number, k])
                count = 1 if kind == "single" else int(rng.integers(2, LARGEST_NUMBER + 1))
                data, label = photos.pad_drawing(rng, images, labels, count, pen)
                with open(os.path.join(folder, f"pad{pen}_{kind}_{k:03d}_{label}.png"), "wb") as f:
                    f.write(data)


def table(models, pens, results):
    """The Markdown table of shares read exactly: a row per pen and kind, a column per model."""
    rows = ["| drawn on the pad | " + " | ".join(f"`{os.path.basename(m)}`" for m in models) + " |",
            "| --- |" + " --- |" * len(models)]
    for kind, what in (("single", "one digit"), ("number", f"a number of 2-{LARGEST_NUMBER} digits")):
        for pen in pens:
            mark = " (the page's)" if pen == browser.PEN_WIDTH else ""
            cells = [r[f"pad{pen}", kind] for r in results]
            rows.append(f"| {what}, pen {pen} px{mark} | "
                        + " | ".join(f"{right / total:.1%} of {total}" for right, total in cells) + " |")
    return "\n".join(rows)


def main():
    p = cli.ArgumentParser(prog="benchmarks/pad.py",
                           description="Accuracy of models on digits and numbers drawn on the drawing page's pad.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--per-kind", type=cli.positive_int, default=120,
                   help="drawings of one digit, and of numbers, for each pen (default: %(default)s)")
    p.add_argument("--pen", type=lambda text: cli.whole_number(text, 1, photos.PAD // 4), nargs="+",
                   default=[browser.PEN_WIDTH], metavar="PX",
                   help=f"widths of the pen in px on the {photos.PAD}x{photos.PAD} pad, 1 to {photos.PAD // 4} "
                        "(default: the page's, %(default)s)")
    p.add_argument("--seed", type=cli.seed_number, default=1, help="seed of the drawings (default: %(default)s)")
    p.add_argument("--folder", default=None,
                   help="a new or empty folder to write the drawings to and keep them in "
                        "(default: a temporary folder)")
    args = p.parse_args()
    pens = list(dict.fromkeys(args.pen))
    _, rights = photo_benchmark.write_and_read(args.models, args.folder,
                                               lambda folder: write_drawings(folder, args.per_kind, args.seed, pens))
    print(table(args.models, pens, [photo_benchmark.group_counts(right) for right in rights]))


if __name__ == "__main__":
    cli.run_main("benchmarks/pad.py", main)
