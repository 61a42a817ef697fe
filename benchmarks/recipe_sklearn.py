"""The fast recipe with scikit-learn's MLPClassifier: 784-128-10, SGD, batch 128, lr 0.1, momentum 0.9.

    python benchmarks/recipe_sklearn.py [--epochs N] [--limit N]

Prints one JSON line: test accuracy and training seconds. Run as a whole process by bench.py.
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import mnist_data  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    data = mnist_data.load_mnist()
    images, labels = data["train"]
    X = images[:args.limit].astype(np.float32) / 255
    y = labels[:args.limit]
    X_test = data["test"][0].astype(np.float32) / 255
    model = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="sgd", alpha=0.0,
                          batch_size=128, learning_rate_init=0.1, momentum=0.9,
                          nesterovs_momentum=False, max_iter=args.epochs, shuffle=True,
                          tol=0.0, n_iter_no_change=args.epochs + 1, random_state=0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - started
    accuracy = float(np.mean(model.predict(X_test) == data["test"][1]))
    print(json.dumps({"test_accuracy": accuracy, "train_seconds": seconds}))


if __name__ == "__main__":
    main()
