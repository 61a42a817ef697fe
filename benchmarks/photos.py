"""Accuracy of models on photos of handwritten digits and numbers on notebook paper (tests/photos.py).

    python benchmarks/photos.py model_mnist.npz augmented.npz --per-group 40 --seed 3

Writes the photos to a temporary folder, reads them with predict_image.py --json (as a
user would) and prints a Markdown table: the share read exactly, per family and kind.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import photos  # noqa: E402
from digits import mnist_data  # noqa: E402

KINDS = ("single", "number")


def write_photos(folder, per_group, seed):
    """per_group photos of each family and kind, named <family>_<kind>_<k>_<label>.jpg."""
    images, labels = mnist_data.load_mnist()["test"]
    rng = np.random.default_rng(seed)
    for family in photos.FAMILIES:
        for kind in KINDS:
            for k in range(per_group):
                count = 1 if kind == "single" else int(rng.integers(2, 7))
                data, label = photos.make_photo(rng, images.reshape(-1, 28, 28), labels, family, count)
                with open(os.path.join(folder, f"{family}_{kind}_{k:03d}_{label}.jpg"), "wb") as f:
                    f.write(data)


def read_right(folder, model):
    """{(family, kind): (read exactly, photos)} for one model."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "predict_image.py"), "--json", "--model", model,
                          folder], capture_output=True, text=True).stdout
    counts = collections.defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        answer = json.loads(line)
        family, kind, _, label = os.path.basename(answer["path"])[:-4].split("_")
        counts[family, kind][0] += answer.get("number", str(answer.get("digit", ""))) == label
        counts[family, kind][1] += 1
    return counts


def main():
    p = argparse.ArgumentParser(description="Accuracy of models on photos of digits and numbers on paper.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--per-group", type=int, default=40, help="photos of each family and kind (default: 40)")
    p.add_argument("--seed", type=int, default=3, help="seed of the photos (default: %(default)s)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        write_photos(folder, args.per_group, args.seed)
        results = [read_right(folder, model) for model in args.models]
    print("| photos | " + " | ".join(f"`{os.path.basename(m)}`" for m in args.models) + " |")
    print("| --- |" + " --- |" * len(args.models))
    for kind in KINDS:
        for family in photos.FAMILIES:
            cells = [f"{r[family, kind][0] / r[family, kind][1]:.1%}" for r in results]
            print(f"| {kind}, {family} paper | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
