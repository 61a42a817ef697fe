"""Accuracy of models on distorted copies of the MNIST test set, one kind of distortion at a time.

    python benchmarks/robustness.py model_mnist.npz augmented.npz

Each copy distorts every one of the 10,000 test digits at random within one range
(fixed seed, so every model sees the same copy), then re-centres it as digits/preprocess.py
does: cropped to its ink and placed with its centre of mass at (14, 14).
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import network  # noqa: E402
from digits import augment, cli, mnist_data, preprocess  # noqa: E402
from digits.model_file import load_model  # noqa: E402

NONE = {"rotation": 0.0, "zoom": (1.0, 1.0), "shear": 0.0, "shift": 0.0, "pen": (0.0, 0.0)}
KINDS = {
    "none (the test set as it is)": None,
    "rotated up to 20° either way": {**NONE, "rotation": 20.0},
    "scaled by 0.7 to 1.2": {**NONE, "zoom": (0.7, 1.2)},
    "slanted (shear up to 0.4)": {**NONE, "shear": 0.4},
    "thinner pen (2x2 minimum)": {**NONE, "pen": (1.0, 0.0)},
    "thicker pen (2x2 maximum)": {**NONE, "pen": (0.0, 1.0)},
    "all of these at once (each pen half the time)": {"rotation": 20.0, "zoom": (0.7, 1.2), "shear": 0.4,
                                                      "shift": 0.0, "pen": (0.5, 0.5)},
}


def recentred(X):
    """Each column of X (784, n) cropped to its ink and placed with its centre of mass at (14, 14)."""
    out = np.empty_like(X)
    for i in range(X.shape[1]):
        digit = X[:, i].reshape(28, 28)
        out[:, i] = preprocess.centre_by_mass(preprocess.crop_to_ink(digit)).ravel() if digit.any() else 0
    return out


def distorted_test_sets(images, seed):
    """{kind: X (784, n)}: the test images under each kind of distortion, re-centred."""
    sets = {}
    for k, (kind, ranges) in enumerate(KINDS.items()):
        if ranges is None:
            sets[kind] = network.normalize(images)
        else:
            sets[kind] = recentred(augment.distort(images, np.random.default_rng((seed, k)), ranges))
    return sets


def main():
    p = cli.ArgumentParser(prog="benchmarks/robustness.py",
                           description="Accuracy of models on distorted copies of the MNIST test set.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--seed", type=cli.seed_number, default=0, help="seed of the distortions (default: %(default)s)")
    p.add_argument("--limit", type=cli.positive_int, default=None, metavar="N",
                   help="use the first N test images only")
    args = p.parse_args()
    models = [load_model(path)[0] for path in args.models]  # a missing model: one line, before any work
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    images, labels = images[:args.limit], labels[:args.limit]
    sets = distorted_test_sets(images, args.seed)
    print("| test digits | " + " | ".join(f"`{os.path.basename(m)}`" for m in args.models) + " |")
    print("| --- |" + " --- |" * len(models))
    for kind, X in sets.items():
        cells = [f"{network.accuracy(network.predict_proba(params, X.astype(params['W1'].dtype)), labels):.2%}"
                 for params in models]
        print(f"| {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    cli.run_main("benchmarks/robustness.py", main)
