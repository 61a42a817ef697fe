"""Each preprocessing step on images whose right answer is known."""

import numpy as np
import pytest
from PIL import Image

from digits import preprocess
from digits.cli import InputError


def test_mnist_digits_pass_through_essentially_unchanged(mnist):
    images = mnist["test"][0][:500]
    changed = 0
    for pixels in images:
        out = preprocess.to_mnist(Image.fromarray(pixels.reshape(28, 28)))
        changed += not np.allclose(out, pixels.reshape(28, 28) / 255, atol=2 / 255)
    assert changed <= 10  # a few are shifted by a pixel or restretched, the rest are identical


def test_dark_on_light_is_inverted_and_light_on_dark_is_not():
    gray = np.ones((40, 40), np.float32)
    gray[10:30, 18:22] = 0
    assert preprocess.make_ink_light(gray)[20, 20] == 1
    assert preprocess.make_ink_light(1 - gray)[20, 20] == 1


def test_remove_background_maps_paper_to_0_and_ink_to_1():
    rng = np.random.default_rng(0)
    gray = 0.3 + rng.normal(0, 0.02, (100, 100)).astype(np.float32)
    gray[30:70, 45:55] = 0.9
    out = preprocess.remove_background(gray)
    assert np.mean(out[:20] == 0) > 0.99
    assert np.all(out[30:70, 45:55] > 0.95)


def test_uneven_light_is_removed_with_the_background():
    """Paper lit from the left: 0.8 at one edge, 0.45 at the other; ink 0.15 darker everywhere."""
    cols = np.indices((120, 160))[1]
    paper = 0.8 - 0.35 * cols / 159
    ink = np.zeros((120, 160), bool)
    ink[30:90, 20:26] = ink[30:90, 130:136] = True  # a stroke in the light and one in the shade
    light = preprocess.make_ink_light(np.where(ink, paper - 0.15, paper).astype(np.float32))
    out = preprocess.remove_background(light)
    assert np.all(out[ink] > 0.9) and np.all(out[~ink] < 0.1)


def test_blank_image_has_no_digit():
    with pytest.raises(InputError, match="no digit found"):
        preprocess.remove_background(np.full((50, 50), 0.7, np.float32), "blank.png")


def test_crop_ignores_specks_of_noise():
    gray = np.zeros((100, 100), np.float32)
    gray[40:60, 45:50] = 1
    gray[5, 90] = gray[95, 3] = 0.8  # lone specks
    assert preprocess.crop_to_ink(gray).shape == (20, 5)


def test_scale_keeps_aspect_ratio_and_centre_of_mass_lands_at_14_14():
    tall = np.ones((100, 40), np.float32)
    scaled = preprocess.scale_to_box(tall)
    assert scaled.shape == (20, 8)
    placed = preprocess.centre_by_mass(scaled)
    rows, cols = np.indices(placed.shape)
    assert placed.shape == (28, 28)
    assert (rows * placed).sum() / placed.sum() == pytest.approx(14, abs=0.5)
    assert (cols * placed).sum() / placed.sum() == pytest.approx(14, abs=0.5)


@pytest.mark.parametrize("ink_value", [0, 255])
def test_ink_in_the_alpha_channel(ink_value):
    rgba = np.zeros((60, 60, 4), np.uint8)
    rgba[..., :3] = ink_value
    rgba[15:45, 28:32, 3] = 255  # an opaque bar on a transparent canvas
    out = preprocess.to_mnist(Image.fromarray(rgba, "RGBA"))
    assert out.max() == 1 and out[14, 14] == 1 and out[0, 0] == 0
    assert np.count_nonzero(out) < 100
