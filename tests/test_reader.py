"""digits.reader, the Python way to read digits: the same answers as predict_image.py --json."""

import contextlib
import io
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

import browser
from conftest import assert_clean_error, run_script
from digits import reader
from digits.cli import InputError


@pytest.fixture(scope="module")
def model(trained_model):
    return reader.load(str(trained_model))


@pytest.fixture(scope="module")
def images(tmp_path_factory, mnist):
    """A PNG of one MNIST test digit (a 7) and a PNG of a drawn number (17)."""
    folder = tmp_path_factory.mktemp("reader")
    Image.fromarray(mnist["test"][0][0].reshape(28, 28)).save(folder / "seven.png")
    browser.drawing(browser.NUMBERS["17"]()).save(folder / "seventeen.png")
    return folder


@pytest.mark.parametrize("name", ["seven.png", "seventeen.png"])
def test_read_answers_what_the_cli_prints_as_json(images, model, trained_model, name):
    printed = json.loads(run_script("predict_image.py", "--json", "--model", trained_model, images / name,
                                    cwd=images).stdout)
    assert {"path": str(images / name), **reader.read(model, str(images / name))} == printed


def test_a_pil_image_and_numpy_arrays_answer_as_the_file_does(images, model):
    from_file = reader.read(model, str(images / "seventeen.png"))
    image = Image.open(images / "seventeen.png")
    gray = np.asarray(image.convert("L"))
    assert from_file["number"] == "17"
    for source in (image, gray, gray / 255.0, np.asarray(image.convert("RGB"))):
        assert reader.read(model, source) == from_file


def test_an_array_that_is_not_an_image_is_named_for_what_it_is(model):
    with pytest.raises(InputError, match=r"image: an image array is height x width.*shape \(2, 3, 7\)"):
        reader.read(model, np.zeros((2, 3, 7)))


def test_the_example_in_the_module_docstring_runs(images, trained_model, monkeypatch):
    example = re.findall(r"^    (.+)$", reader.__doc__.split("\n\n")[1], re.M)
    monkeypatch.chdir(images)
    (images / "model_mnist.npz").write_bytes(trained_model.read_bytes())
    (images / "photo.jpg").write_bytes((images / "seventeen.png").read_bytes())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec("\n".join(example), {})
    number, confidence = printed.getvalue().split()
    assert number == "17" and 0 < float(confidence) <= 1


def test_raw_on_an_image_it_cannot_convert_is_one_line(tmp_path, trained_model):
    Image.new("LAB", (40, 40)).save(tmp_path / "lab.tif")
    result = run_script("predict_image.py", "--raw", "--model", trained_model, tmp_path / "lab.tif", cwd=tmp_path)
    assert_clean_error(result, "lab.tif", "--raw cannot convert")
    assert os.path.exists(tmp_path / "lab.tif")
