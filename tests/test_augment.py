"""augment.py against independent references, and train.py --augment / --schedule as a user runs them."""

import numpy as np
import pytest
from scipy import ndimage

from digits import augment
import network
from conftest import run_script
from digits.model_file import load_model


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist["train"][0][:64]


def test_bilinear_sampling_matches_scipy_affine_transform(digits):
    """Our batched sampler against scipy.ndimage.affine_transform, image by image (order 1 = bilinear)."""
    rng = np.random.default_rng(3)
    A, offset, _ = augment.random_distortions(len(digits), rng, **augment.RANGES)
    ours = augment.distort(digits, np.random.default_rng(3), {**augment.RANGES, "pen": (0.0, 0.0)})
    for i, image in enumerate(digits):
        reference = ndimage.affine_transform(image.reshape(28, 28).astype(np.float64) / 255, A[i], offset[i, :, 0],
                                             order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(ours[:, i].reshape(28, 28), reference, atol=2e-3)


def test_pens_are_2x2_minimum_and_maximum_filters(digits):
    stack = augment.pens(digits).reshape(3, len(digits), 30, 30)
    padded = np.pad(digits.reshape(-1, 28, 28), ((0, 0), (1, 1), (1, 1)))
    for image, thinner, written, thicker in zip(padded, *stack):
        assert np.array_equal(written, image)
        # the 2x2 window of pixel (i, j) is rows i-1..i and columns j-1..j
        assert np.array_equal(thicker, ndimage.maximum_filter(image, size=2, mode="constant"))
        eroded = ndimage.minimum_filter(image, size=2, mode="constant")
        kept = eroded.sum() >= 0.5 * image.sum()  # a pen so thin it takes more than half the ink is not used
        assert np.array_equal(thinner, eroded if kept else image)
    assert 5 < sum(not np.array_equal(t, w) for t, w in zip(stack[0], stack[1])) < len(digits)


def test_distortions_keep_ranges_and_ink(digits):
    X = augment.distort(digits, np.random.default_rng(0))
    assert X.shape == (784, len(digits)) and X.dtype == np.float32 and X.flags["F_CONTIGUOUS"]
    assert 0 <= X.min() and X.max() <= 1
    ink_before = digits.sum(axis=1) / 255
    ink_after = X.sum(axis=0)
    assert np.all(ink_after > 0.25 * ink_before) and np.all(ink_after < 3 * ink_before)
    again = augment.distort(digits, np.random.default_rng(0))
    assert np.array_equal(X, again)
    assert not np.array_equal(X, augment.distort(digits, np.random.default_rng(1)))


def test_no_distortion_is_the_identity(digits):
    none = {"rotation": 0.0, "zoom": (1.0, 1.0), "shear": 0.0, "shift": 0.0, "pen": (0.0, 0.0)}
    X = augment.distort(digits, np.random.default_rng(0), none)
    np.testing.assert_allclose(X, network.normalize(digits), atol=1e-6)


def test_cosine_schedule_follows_its_formula():
    lrs = [network.learning_rate(0.1, e, 10, "cosine") for e in range(1, 11)]
    assert lrs[0] == pytest.approx(0.1) and lrs[5] == pytest.approx(0.05)
    assert all(a > b for a, b in zip(lrs, lrs[1:])) and 0 < lrs[-1] < 0.003
    assert network.learning_rate(0.1, 7, 10) == 0.1


AUGMENTED = ("--limit", "2000", "--epochs", "3", "--batch-size", "100", "--lr", "0.1", "--momentum", "0.9",
             "--augment", "--schedule", "cosine")


def test_augmented_training_is_reproducible_and_recorded(tmp_path):
    for name in ("a.npz", "b.npz"):
        result = run_script("train.py", *AUGMENTED, "--model", name, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "cosine schedule, augmented" in result.stdout
    (a, meta), (b, _) = load_model(tmp_path / "a.npz"), load_model(tmp_path / "b.npz")
    for name in a:
        assert a[name].tobytes() == b[name].tobytes()
    assert meta["augment"] is True and meta["schedule"] == "cosine"
    plain = run_script("train.py", *AUGMENTED[:-3], "--model", "c.npz", cwd=tmp_path)
    assert plain.returncode == 0
    c, meta_c = load_model(tmp_path / "c.npz")
    assert not np.array_equal(a["W1"], c["W1"]) and meta_c["augment"] is False
