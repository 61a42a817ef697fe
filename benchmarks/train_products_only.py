"""train.py with every training step cut down to its five matrix products: the floor of a run.

    python benchmarks/train_products_only.py [train.py's options]

Everything else is train.py's own: start-up, loading, the choice of BLAS threads, the
evaluation on the test set, the model file. Each step gathers its batch's columns of X and
multiplies as a real step does (forward: W1 Xb, W2 A1; backward: dZ2 A1^T, W2^T dZ2,
dZ1 Xb^T), with the same batches in the same order; nothing else of the step is done, so the
weights stay as initialised. bench.py runs it as a whole process beside the real recipe.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import network  # noqa: E402
import train  # noqa: E402


def matrix_products(params, X, columns_of_epoch):
    """The five matrix products of every step of one epoch, and nothing else."""
    W1, W2 = params["W1"], params["W2"]
    for columns in columns_of_epoch:
        Xb = X[:, columns]
        Z1 = W1 @ Xb  # Z1 stands in for A1 and dZ1, Z2 for dZ2: the same shapes, the same products
        Z2 = W2 @ Z1
        Z2 @ Z1.T
        W2.T @ Z2
        Z1 @ Xb.T


def products_only(params, X, Y, lr, epochs, batch_size=None, momentum=0.0, seed=0, after_step=None,
                  schedule="constant", inputs=None):
    """network.gradient_descent with each step cut to its matrix products, the same batches in the
    same order.
    """
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        matrix_products(params, X, network.batches(X.shape[1], batch_size, rng))
        yield epoch, 1.0, 0.0  # a loss below train.py's divergence limit


if __name__ == "__main__":
    network.gradient_descent = products_only
    train.cli.run_main(train.PROG, train.main, interrupted="interrupted; no model was written")
