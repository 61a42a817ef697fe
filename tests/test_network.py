"""The maths of network.py against independent references: finite differences and the formulas."""

import numpy as np
import pytest

import network


def small_problem(m=7, n_x=12, n_h=5, seed=1):
    rng = np.random.default_rng(seed)
    params = network.init_params(n_x, n_h, 10, seed=seed, dtype=np.float64)
    for name in params:  # larger than the 0.01 start so every term matters
        params[name] = rng.standard_normal(params[name].shape)
    X = rng.random((n_x, m))
    y = rng.integers(0, 10, m)
    return params, X, network.one_hot(y, dtype=np.float64), y


def loss(params, X, Y):
    return network.cross_entropy(network.forward_prop(params, X)[2], Y)


def test_backprop_matches_finite_differences():
    params, X, Y, _ = small_problem()
    Z1, A1, _, A2 = network.forward_prop(params, X)
    grads = network.backward_prop(params, X, Y, Z1, A1, A2)
    eps = 1e-6
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            saved = p[index]
            p[index] = saved + eps
            up = loss(params, X, Y)
            p[index] = saved - eps
            down = loss(params, X, Y)
            p[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        error = np.linalg.norm(grads[name] - numeric) / np.linalg.norm(grads[name] + numeric)
        assert error < 1e-6, (name, error)


def test_gradients_follow_the_readme_formulas():
    params, X, Y, _ = small_problem()
    m = X.shape[1]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = np.exp(Z2) / np.exp(Z2).sum(axis=0)
    dZ2 = A2 - Y
    dZ1 = (params["W2"].T @ dZ2) * (Z1 > 0)
    ours_Z1, ours_A1, _, ours_A2 = network.forward_prop(params, X)
    np.testing.assert_allclose(ours_A2, A2)
    grads = network.backward_prop(params, X, Y, ours_Z1, ours_A1, ours_A2)
    np.testing.assert_allclose(grads["W2"], dZ2 @ A1.T / m)
    np.testing.assert_allclose(grads["b2"], dZ2.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(grads["W1"], dZ1 @ X.T / m)
    np.testing.assert_allclose(grads["b1"], dZ1.mean(axis=1, keepdims=True))


def test_softmax_columns_are_probabilities_even_for_huge_logits():
    Z = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 0.0, 1.0], [0.0, 0.0, 0.0, 2.0]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = network.softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-6)
    assert A[0, 0] == 1 and A[1, 1] == 1
    np.testing.assert_allclose(A[:, 2], 1 / 3, rtol=1e-6)
    expected = np.exp([3.0, 1.0, 2.0]) / np.exp([3.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(A[:, 3], expected, rtol=1e-6)


def test_cross_entropy_is_finite_for_huge_logits():
    Z2 = np.array([[1e4, -1e4], [-1e4, 1e4]], np.float32)
    Y = np.array([[0, 0], [1, 1]], np.float32)  # first column confidently wrong
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = network.cross_entropy(Z2, Y)
    assert np.isfinite(value)
    assert value == pytest.approx(1e4, rel=1e-6)  # (2e4 + 0) / 2


def test_cross_entropy_of_uniform_prediction_is_ln10():
    assert network.cross_entropy(np.zeros((10, 5)), network.one_hot(np.arange(5))) == pytest.approx(np.log(10))


def test_one_hot():
    Y = network.one_hot(np.array([3, 0, 9, 3]))
    assert Y.shape == (10, 4) and Y.dtype == np.float32
    assert Y.sum(axis=0).tolist() == [1, 1, 1, 1]
    assert Y.argmax(axis=0).tolist() == [3, 0, 9, 3]


def test_normalize_lays_out_features_by_samples_in_unit_range():
    images = np.array([[0, 255, 51], [255, 0, 102]], np.uint8)  # 2 images, 3 pixels
    X = network.normalize(images)
    assert X.shape == (3, 2) and X.dtype == np.float32
    np.testing.assert_allclose(X, [[0, 1], [1, 0], [0.2, 0.4]], rtol=1e-6)


def test_init_params_shapes_scale_and_seed():
    params = network.init_params(seed=3)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (128, 784), "b1": (128, 1), "W2": (10, 128), "b2": (10, 1)}
    assert all(v.dtype == np.float32 for v in params.values())
    assert not params["b1"].any() and not params["b2"].any()
    assert 0.009 < params["W1"].std() < 0.011
    same = network.init_params(seed=3)
    other = network.init_params(seed=4)
    assert np.array_equal(params["W1"], same["W1"])
    assert not np.array_equal(params["W1"], other["W1"])


def test_update_params_plain_and_with_momentum():
    params = {name: np.ones(2) for name in network.PARAM_NAMES}
    grads = {name: np.full(2, 0.5) for name in network.PARAM_NAMES}
    network.update_params(params, grads, lr=0.1)
    np.testing.assert_allclose(params["W1"], 0.95)
    velocity = {name: np.zeros(2) for name in network.PARAM_NAMES}
    network.update_params(params, grads, 0.1, velocity, momentum=0.9)  # v = 0.5
    network.update_params(params, grads, 0.1, velocity, momentum=0.9)  # v = 0.95
    np.testing.assert_allclose(velocity["b2"], 0.95)
    np.testing.assert_allclose(params["b2"], 0.95 - 0.1 * 0.5 - 0.1 * 0.95)


def test_full_batch_step_lowers_the_loss():
    params, X, Y, _ = small_problem(m=50)
    before = loss(params, X, Y)
    for _ in network.gradient_descent(params, X, Y, lr=0.1, epochs=5):
        pass
    assert loss(params, X, Y) < before


def test_gradient_descent_stops_after_the_current_step():
    params, X, Y, _ = small_problem(m=40)
    calls = []
    records = list(network.gradient_descent(params, X, Y, 0.1, epochs=3, batch_size=10,
                                            after_step=lambda *step: calls.append(step) or len(calls) == 2))
    assert len(calls) == 2  # two steps taken, then stopped inside epoch 1
    assert [r[0] for r in records] == [1]
    assert [(epoch, done) for epoch, done, _, _ in calls] == [(1, 0.25), (1, 0.5)]
    assert records[0][1:] == calls[-1][2:]  # the partial epoch's averages, as after_step saw them


def test_after_step_sees_the_epochs_running_averages():
    params, X, Y, _ = small_problem(m=40)
    calls = []
    records = list(network.gradient_descent(params, X, Y, 0.1, epochs=2, batch_size=16,
                                            after_step=lambda *step: calls.append(step)))
    assert [(epoch, done) for epoch, done, _, _ in calls] == [(1, 0.4), (1, 0.8), (1, 1.0),
                                                              (2, 0.4), (2, 0.8), (2, 1.0)]
    assert [records[0][1:], records[1][1:]] == [calls[2][2:], calls[5][2:]]


def test_training_on_a_subset_generalises(mnist):
    """5,000 training images, 5 mini-batch epochs: over 90% on 2,000 unseen test images."""
    images, labels = mnist["train"]
    X, Y = network.normalize(images[:5000]), network.one_hot(labels[:5000])
    params = network.init_params(seed=0)
    records = list(network.gradient_descent(params, X, Y, 0.1, 5, batch_size=64, momentum=0.9))
    assert records[-1][1] < records[0][1]  # loss fell
    test_images, test_labels = mnist["test"]
    A2 = network.predict_proba(params, network.normalize(test_images[:2000]))
    assert network.accuracy(A2, test_labels[:2000]) > 0.90


# Why this answer: the network is linear around each input --------------------------------------

def inputs_like_digits(rng, n):
    """n inputs in [0, 1] (784, 1), mostly 0 as MNIST's are."""
    return [(rng.random((784, 1)) * (rng.random((784, 1)) < 0.25)).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="module")
def models(trained_model):
    from digits.model_file import load_model
    return {"trained": load_model(trained_model)[0], "untrained": network.init_params(seed=3)}


@pytest.mark.parametrize("which", ["trained", "untrained"])
def test_contributions_and_constant_add_up_to_the_logits(models, which):
    params = models[which]
    for x in inputs_like_digits(np.random.default_rng(1), 20):
        T, c = network.explain(params, x)
        Z2 = network.forward_prop(params, x)[2]
        contributions = T * x.T  # (10, 784): x_i T[d, i]
        scale = np.abs(contributions).sum(axis=1, keepdims=True) + np.abs(c)
        assert np.all(np.abs(contributions.sum(axis=1, keepdims=True) + c - Z2) <= 1e-5 * scale + 1e-6)


def test_templates_are_the_gradient_of_the_logits_by_finite_differences(models):
    params = {k: v.astype(np.float64) for k, v in models["trained"].items()}
    rng = np.random.default_rng(2)
    for x in inputs_like_digits(rng, 5):
        x = x.astype(np.float64)
        T, _ = network.explain(params, x)
        Z1 = params["W1"] @ x + params["b1"]
        eps = 1e-6
        assert np.abs(Z1).min() > 10 * eps * np.abs(params["W1"]).max()  # no unit switches within eps
        for i in rng.choice(784, 40, replace=False):
            step = np.zeros_like(x)
            step[i] = eps
            numeric = (network.forward_prop(params, x + step)[2] - network.forward_prop(params, x - step)[2]) / (2 * eps)
            np.testing.assert_allclose(numeric[:, 0], T[:, i], atol=1e-6)


def test_the_map_of_one_digit_against_another_adds_up_to_the_difference_of_their_logits(models):
    params = models["trained"]
    for x in inputs_like_digits(np.random.default_rng(4), 10):
        T, c = network.explain(params, x)
        Z2 = network.forward_prop(params, x)[2][:, 0].astype(np.float64)
        for d, r in ((7, 1), (3, 8), (0, 6)):
            difference = (x[:, 0] * (T[d] - T[r])).sum(dtype=np.float64)
            assert abs(difference + (c[d, 0] - c[r, 0]) - (Z2[d] - Z2[r])) < 1e-4


def test_the_readme_equation_of_the_templates(models):
    """T = W2 diag(m) W1, c = W2 diag(m) b1 + b2 with m = 1[Z1 > 0], written out with diag()."""
    params = {k: v.astype(np.float64) for k, v in models["trained"].items()}
    x = inputs_like_digits(np.random.default_rng(5), 1)[0].astype(np.float64)
    m = (params["W1"] @ x + params["b1"] > 0)[:, 0].astype(np.float64)
    T, c = network.explain(params, x)
    np.testing.assert_allclose(T, params["W2"] @ np.diag(m) @ params["W1"], atol=1e-12)
    np.testing.assert_allclose(c, params["W2"] @ np.diag(m) @ params["b1"] + params["b2"], atol=1e-12)
