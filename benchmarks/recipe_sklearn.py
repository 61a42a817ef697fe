"""The fast recipe with scikit-learn's MLPClassifier: 784-128-10, SGD, batch 128, lr 0.1, momentum 0.9.

    python benchmarks/recipe_sklearn.py [--epochs N] [--limit N]

Prints one JSON line: test accuracy and training seconds. Run as a whole process by bench.py.
"""

import time
import warnings

import numpy as np
from recipe_common import print_result, recipe_arguments, recipe_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def main():
    args = recipe_arguments(__doc__.splitlines()[0])
    X, y, X_test, y_test = recipe_data(args.limit)
    model = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="sgd", alpha=0.0,
                          batch_size=128, learning_rate_init=0.1, momentum=0.9,
                          nesterovs_momentum=False, max_iter=args.epochs, shuffle=True,
                          tol=0.0, n_iter_no_change=args.epochs + 1, random_state=0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - started
    print_result(np.mean(model.predict(X_test) == y_test), seconds)


if __name__ == "__main__":
    main()
