"""Accuracy of models on photos and images of handwritten digits and numbers (tests/photos.py).

    python benchmarks/photos.py model_mnist.npz augmented.npz --per-group 40 --seed 3
    python benchmarks/photos.py model_mnist.npz --framing far --seed 21

Writes the images to a temporary folder (or to --folder, kept), reads them with
predict_image.py --json (as a user would) and prints a Markdown table: the share read
exactly, per family and kind, and of MNIST test digits scaled up to 280x280, white on black.
"""

import collections
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import photos  # noqa: E402
from digits import cli, mnist_data  # noqa: E402
from digits.model_file import load_model  # noqa: E402

KINDS = ("single", "number")
LARGEST_NUMBER = 8  # numbers have 2 to this many digits
MNIST_TEST_DIGITS = 10_000


def write_photos(folder, per_group, seed, mnist_per_group=None, framing="normal"):
    """per_group images of each family and kind, named <family>_<kind>_<k>_<label>.<ext>, and
    mnist_per_group (default: per_group) MNIST test digits at 280x280, white on black. Framed
    otherwise (photos.FRAMINGS), each photo is the one of the same seed's normal framing, with
    the same writing on the same sheet, framed far or close, or turned."""
    images, labels = mnist_data.load_mnist()["test"]
    images = images.reshape(-1, 28, 28)
    rng = np.random.default_rng(seed)
    for family in photos.FAMILIES:
        for kind in KINDS:
            for k in range(per_group):
                count = 1 if kind == "single" else int(rng.integers(2, LARGEST_NUMBER + 1))
                framed = copy.deepcopy(rng)
                data, label = photos.make_photo(rng, images, labels, family, count)
                if framing != "normal":
                    data, label = photos.make_photo(framed, images, labels, family, count, framing=framing)
                extension = "png" if family == "screen" else "jpg"
                with open(os.path.join(folder, f"{family}_{kind}_{k:03d}_{label}.{extension}"), "wb") as f:
                    f.write(data)
    for k in rng.choice(len(images), per_group if mnist_per_group is None else mnist_per_group, replace=False):
        with open(os.path.join(folder, f"mnist280_single_{k:05d}_{labels[k]}.png"), "wb") as f:
            f.write(photos.mnist_on_black(images[k], rng=rng))


def read_right(folder, model):
    """{(family, kind): [read exactly, images]} for one model."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "predict_image.py"), "--json", "--model", model,
                          folder], capture_output=True, text=True).stdout
    counts = collections.defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        answer = json.loads(line)
        family, kind, _, label = os.path.splitext(os.path.basename(answer["path"]))[0].split("_")
        counts[family, kind][0] += answer.get("number", str(answer.get("digit", ""))) == label
        counts[family, kind][1] += 1
    return counts


def table(models, results):
    """The Markdown table of shares read exactly: a row per family and kind, a column per model."""
    rows = ["| images | " + " | ".join(f"`{os.path.basename(m)}`" for m in models) + " |",
            "| --- |" + " --- |" * len(models)]
    names = {"plain": "plain paper", "ruled": "ruled paper", "squared": "squared paper",
             "board": "chalk on a dark board", "screen": "made on a computer"}
    for kind in KINDS:
        for family in photos.FAMILIES:
            what = "one digit" if kind == "single" else f"a number of 2-{LARGEST_NUMBER} digits"
            cells = [f"{r[family, kind][0] / r[family, kind][1]:.1%}" for r in results]
            rows.append(f"| {what}, {names[family]} | " + " | ".join(cells) + " |")
    for label, families in (("all single digits on paper", photos.PAPER_FAMILIES),
                            ("all numbers", photos.FAMILIES)):
        kind = "single" if "single" in label else "number"
        cells = [f"{sum(r[f, kind][0] for f in families) / sum(r[f, kind][1] for f in families):.1%}"
                 for r in results]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    if results[0]["mnist280", "single"][1]:  # none with --mnist 0
        rows.append("| MNIST test digits at 280x280, white on black | "
                    + " | ".join(f"{r['mnist280', 'single'][0] / r['mnist280', 'single'][1]:.1%}" for r in results)
                    + " |")
    return "\n".join(rows)


def main():
    p = cli.ArgumentParser(prog="benchmarks/photos.py",
                           description="Accuracy of models on photos of digits and numbers.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--per-group", type=cli.positive_int, default=40,
                   help="images of each family and kind (default: 40)")
    p.add_argument("--mnist", type=lambda text: cli.whole_number(text, 0, MNIST_TEST_DIGITS), default=None,
                   metavar="N", help="MNIST digits at 280x280, white on black, 0 to 10,000 (default: --per-group)")
    p.add_argument("--seed", type=cli.seed_number, default=3, help="seed of the images (default: %(default)s)")
    p.add_argument("--framing", choices=photos.FRAMINGS, default="normal",
                   help="how a photo is taken: as people hold a phone (normal), "
                        f"{photos.FAR} times as wide and tall around the same writing (far), cropped "
                        f"close around the writing (close), or with the sheet turned {photos.TURNED} degrees "
                        "more (turned); images made on a computer are the same in all (default: %(default)s)")
    p.add_argument("--folder", default=None,
                   help="a new or empty folder to write the images to and keep them in (default: a temporary folder)")
    args = p.parse_args()
    if args.mnist is None and args.per_group > MNIST_TEST_DIGITS:
        p.error(f"argument --mnist: must be at most {MNIST_TEST_DIGITS}, got {args.per_group} from --per-group")
    if args.folder and os.path.lexists(args.folder) and (not os.path.isdir(args.folder) or os.listdir(args.folder)):
        raise cli.InputError(f"--folder {args.folder}: {'not empty' if os.path.isdir(args.folder) else 'not a folder'}"
                             "; give a new or empty folder for the images")
    for model in args.models:  # a missing model: one line, before any image is made
        load_model(model)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or scratch
        os.makedirs(folder, exist_ok=True)
        write_photos(folder, args.per_group, args.seed, args.mnist, args.framing)
        results = [read_right(folder, model) for model in args.models]
    print(table(args.models, results))


if __name__ == "__main__":
    cli.run_main("benchmarks/photos.py", main)
