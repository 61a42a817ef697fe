"""What the scikit-learn and PyTorch versions of the fast recipe share: options, data, result line."""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from digits import mnist_data  # noqa: E402


def recipe_arguments(description):
    """--epochs (default 15, as the recipe) and --limit (first N training images)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--limit", type=int, default=None)
    return p.parse_args()


def recipe_data(limit):
    """(X, y, X_test, y_test): images as float32 rows in [0, 1], labels as int64."""
    data = mnist_data.load_mnist()
    images, labels = data["train"]
    X = images[:limit].astype(np.float32) / 255
    X_test = data["test"][0].astype(np.float32) / 255
    return X, labels[:limit], X_test, data["test"][1]


def print_result(test_accuracy, train_seconds):
    """The one JSON line bench.py reads."""
    print(json.dumps({"test_accuracy": float(test_accuracy), "train_seconds": train_seconds}))
