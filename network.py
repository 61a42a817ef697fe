"""A two-layer neural network in NumPy: 784 inputs -> 128 ReLU -> 10 softmax.

Every function is one step of the algorithm the README derives, in its notation:

    X   (784, m)   pixels / 255, one column per image
    Y   (10, m)    one-hot labels
    Z1 = W1 X + b1        A1 = ReLU(Z1)                       (128, m)
    Z2 = W2 A1 + b2       A2 = softmax(Z2)                    (10, m)
    L  = -(1/m) sum(Y * log A2)
    dZ2 = A2 - Y          dW2 = (1/m) dZ2 A1^T    db2 = (1/m) sum_columns(dZ2)
    dA1 = W2^T dZ2        dZ1 = dA1 * ReLU'(Z1)
    dW1 = (1/m) dZ1 X^T   db1 = (1/m) sum_columns(dZ1)
    p  <- p - lr dp       (with momentum: v <- mu v + dp,  p <- p - lr v)
    lr_e = lr (1 + cos(pi (e - 1) / E)) / 2    in epoch e of E, with the cosine schedule
    T = W2 diag(m) W1     c = W2 (m * b1) + b2    m = 1[Z1 > 0]: for one input x, Z2 = T x + c

Parameters travel as a dict {"W1", "b1", "W2", "b2"}, the same keys as the model file.
"""

import math

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def init_params(n_x=784, n_h=128, n_y=10, seed=0, dtype=np.float32):
    """Weights drawn from N(0, 1) * 0.01, biases zero.

    Small weights keep Z1 and Z2 near zero at the start, so the first softmax is
    almost uniform (loss close to ln 10) and no unit starts saturated; random
    weights make the hidden units differ from each other, so they can learn
    different features.
    """
    rng = np.random.default_rng(seed)
    return {
        "W1": (rng.standard_normal((n_h, n_x)) * 0.01).astype(dtype),
        "b1": np.zeros((n_h, 1), dtype),
        "W2": (rng.standard_normal((n_y, n_h)) * 0.01).astype(dtype),
        "b2": np.zeros((n_y, 1), dtype),
    }


def normalize(images, dtype=np.float32):
    """X: images (m, 784) of uint8 pixels -> (784, m) floats in [0, 1].

    X is stored column-major, so each image's 784 pixels are contiguous in memory
    and picking a mini-batch's columns X[:, columns] copies whole blocks; the
    maths is unchanged.
    """
    X = np.empty((images.shape[1], images.shape[0]), dtype, order="F")
    np.multiply(images.T, dtype(1 / 255), out=X)
    return X


def one_hot(y, n_classes=10, dtype=np.float32):
    """Y: labels (m,) -> (n_classes, m) with Y[y[i], i] = 1 and zeros elsewhere."""
    Y = np.zeros((n_classes, y.size), dtype)
    Y[y, np.arange(y.size)] = 1
    return Y


def relu(Z):
    """ReLU(Z) = max(Z, 0), elementwise."""
    return np.maximum(Z, 0)


def relu_derivative(Z):
    """ReLU'(Z): 1 where Z > 0, else 0 (as booleans, which multiply as 1 and 0)."""
    return Z > 0


def softmax(Z):
    """A = exp(Z) / sum_rows(exp(Z)), column by column.

    Subtracting each column's maximum first leaves the result unchanged but keeps
    exp() from overflowing for large logits.
    """
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    E /= E.sum(axis=0, keepdims=True)
    return E


def forward_prop(params, X):
    """Z1 = W1 X + b1, A1 = ReLU(Z1), Z2 = W2 A1 + b2, A2 = softmax(Z2)."""
    Z1 = params["W1"] @ X
    Z1 += params["b1"]
    A1 = relu(Z1)
    Z2 = params["W2"] @ A1
    Z2 += params["b2"]
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def cross_entropy(Z2, Y):
    """L = -(1/m) sum(Y * log A2), from the logits Z2.

    log A2 = Z2 - log(sum_rows(exp(Z2))) is computed with the column maximum
    subtracted, so it is finite for any finite Z2: no log(0), no overflow.
    """
    shifted = Z2 - Z2.max(axis=0, keepdims=True)
    log_A2 = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * log_A2, dtype=np.float64) / Y.shape[1])


def backward_prop(params, X, Y, Z1, A1, A2):
    """Gradients of L with respect to W1, b1, W2, b2 (the README's derivation)."""
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = (dZ2 @ A1.T) / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1 * relu_derivative(Z1)
    dW1 = dZ1 @ X.T
    dW1 /= m  # in place: at (128, 784), dW1 is the largest array of the step
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def update_params(params, grads, lr, velocity=None, momentum=0.0):
    """p <- p - lr dp for each parameter; with momentum, v <- mu v + dp, p <- p - lr v.

    Updates params (and velocity) in place.
    """
    for name in PARAM_NAMES:
        step = grads[name]
        if momentum:
            velocity[name] *= momentum
            velocity[name] += step
            step = velocity[name]
        params[name] -= lr * step


def predict_proba(params, X):
    """A2 for inputs X (784, m): each column holds the 10 class probabilities."""
    return forward_prop(params, X)[3]


def accuracy(A2, y):
    """Fraction of columns whose most probable class equals the label y."""
    return float(np.mean(A2.argmax(axis=0) == y))


def learning_rate(lr, epoch, epochs, schedule="constant"):
    """The step size of epoch `epoch` (1 to `epochs`): lr throughout, or with the cosine schedule
    lr (1 + cos(pi (epoch - 1) / epochs)) / 2, which falls smoothly from lr towards 0.
    """
    if schedule == "cosine":
        return lr * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2
    return lr


def batches(m, batch_size, rng):
    """The column index sets of one epoch: all m at once, or shuffled and cut into batch_size pieces."""
    if batch_size is None or batch_size >= m:
        return [slice(None)]
    order = rng.permutation(m)
    return [order[start:start + batch_size] for start in range(0, m, batch_size)]


def gradient_descent(params, X, Y, lr, epochs, batch_size=None, momentum=0.0, seed=0,
                     after_step=None, schedule="constant", inputs=None):
    """Train params in place; after each epoch yield (epoch, loss, train accuracy).

    batch_size None is full-batch gradient descent: one step per epoch on all m
    columns of X. Otherwise each epoch visits the columns in a new random order,
    one step per batch of batch_size columns (mini-batch SGD). The step size of
    each epoch follows `schedule` (see learning_rate). inputs(epoch_batches), if
    given, replaces the columns X[:, columns] of each batch with other inputs for
    the same images (train.py --augment: freshly distorted copies). The loss and
    accuracy yielded are averages over the epoch's steps, each measured on its
    batch just before that batch's update.

    after_step(epoch, done, loss, accuracy), if given, is called after every step
    with the fraction of the epoch done and the epoch's averages so far; if it
    returns True, the partial epoch is yielded and training ends there.
    """
    m = X.shape[1]
    y = Y.argmax(axis=0).astype(np.uint8)  # the labels, a byte each: a batch's are quick to gather
    velocity = {name: np.zeros_like(p) for name, p in params.items()} if momentum else None
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        loss_sum = correct = seen = 0
        lr_epoch = learning_rate(lr, epoch, epochs, schedule)
        epoch_batches = batches(m, batch_size, rng)
        epoch_inputs = (X[:, columns] for columns in epoch_batches) if inputs is None else inputs(epoch_batches)
        for columns, Xb in zip(epoch_batches, epoch_inputs):
            yb = y[columns]
            Yb = one_hot(yb, len(Y), Y.dtype)
            Z1, A1, Z2, A2 = forward_prop(params, Xb)
            grads = backward_prop(params, Xb, Yb, Z1, A1, A2)
            update_params(params, grads, lr_epoch, velocity, momentum)
            n = Xb.shape[1]
            loss_sum += cross_entropy(Z2, Yb) * n
            correct += int(np.count_nonzero(A2.argmax(axis=0) == yb))
            seen += n
            if after_step is not None and after_step(epoch, seen / m, loss_sum / seen, correct / seen):
                epoch_inputs.close()
                yield epoch, loss_sum / seen, correct / seen
                return
        yield epoch, loss_sum / seen, correct / seen


def explain(params, x):
    """Why the network answers what it does for one input x (784, 1): (T, c) with Z2 = T x + c.

    The units that fire, m = 1[Z1 > 0] (h, 1), are fixed for this x, and ReLU(Z1) = m * Z1, so
    Z2 = W2 (m * (W1 x + b1)) + b2 = T x + c with T = W2 diag(m) W1 (10, 784), the template of
    each digit for this input, and c = W2 (m * b1) + b2 (10, 1). Pixel i adds x_i T[d, i] to the
    logit Z2[d] of digit d; those 784 contributions and c[d] add up to Z2[d] exactly.
    """
    Z1 = params["W1"] @ x + params["b1"]
    m = relu_derivative(Z1)
    T = (params["W2"] * m.T) @ params["W1"]
    c = params["W2"] @ (m * params["b1"]) + params["b2"]
    return T, c
