"""generate_test_set.py as a user runs it, and the round trip into predict_image.py."""

import os
import re

import numpy as np
from PIL import Image

from conftest import assert_clean_error, run_script

GENERATE = "generate_test_set.py"


def sample_files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_exact_test_split_digits_and_a_contact_sheet(tmp_path, mnist):
    result = run_script(GENERATE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote 20 images" in result.stdout and "test_contact_sheet.png" in result.stdout
    names = sample_files(tmp_path / "test")
    assert names == [f"digit_{d}_sample_{k}.png" for d in range(10) for k in range(2)]
    images, labels = mnist["test"]
    for name in names:
        with Image.open(tmp_path / "test" / name) as image:
            assert image.size == (28, 28) and image.mode == "L"
            index = int(re.search(r"image (\d+)", image.text["Source"]).group(1))
            pixels = np.asarray(image)
        assert labels[index] == int(name.split("_")[1])
        assert np.array_equal(pixels.ravel(), images[index])  # exactly the test image
    with Image.open(tmp_path / "test_contact_sheet.png") as sheet:
        assert sheet.format == "PNG" and sheet.size[0] > 100 and sheet.size[1] > 500


def test_options_per_digit_out_and_seed(tmp_path):
    run_script(GENERATE, "--per-digit", "3", "--out", "a", "--seed", "1", cwd=tmp_path)
    run_script(GENERATE, "--per-digit", "3", "--out", "b", "--seed", "1", cwd=tmp_path)
    run_script(GENERATE, "--per-digit", "3", "--out", "c", "--seed", "2", cwd=tmp_path)
    assert len(sample_files(tmp_path / "a")) == 30
    def same_files(x, y):
        return [(tmp_path / x / n).read_bytes() == (tmp_path / y / n).read_bytes()
                for n in sample_files(tmp_path / "a")]
    assert all(same_files("a", "b")) and not all(same_files("a", "c"))


def test_rerun_replaces_its_own_files(tmp_path):
    assert run_script(GENERATE, cwd=tmp_path).returncode == 0
    result = run_script(GENERATE, "--seed", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_never_overwrites_a_file_it_did_not_write(tmp_path):
    (tmp_path / "test").mkdir()
    mine = tmp_path / "test" / "digit_4_sample_1.png"
    Image.new("L", (28, 28), 128).save(mine)
    before = mine.read_bytes()
    result = run_script(GENERATE, cwd=tmp_path)
    assert_clean_error(result, "digit_4_sample_1.png", "not written by generate_test_set.py")
    assert mine.read_bytes() == before
    assert sample_files(tmp_path / "test") == ["digit_4_sample_1.png"]  # nothing else written
    assert not (tmp_path / "test_contact_sheet.png").exists()


def test_bad_options(tmp_path):
    assert_clean_error(run_script(GENERATE, "--per-digit", "5000", cwd=tmp_path),
                       "--per-digit 5000", "only")
    assert_clean_error(run_script(GENERATE, "--per-digit", "0", cwd=tmp_path), "--per-digit")
    (tmp_path / "afile").write_text("x")
    assert_clean_error(run_script(GENERATE, "--out", "afile", cwd=tmp_path), "--out afile", "not a folder")
    assert_clean_error(run_script(GENERATE, "--data", "nowhere", cwd=tmp_path), "--data nowhere")
    assert_clean_error(run_script(GENERATE, "--seed", "-1", cwd=tmp_path), "--seed", "at least 0")


def test_round_trip_into_predict_image(tmp_path, trained_model):
    assert run_script(GENERATE, "--per-digit", "3", cwd=tmp_path).returncode == 0
    result = run_script("predict_image.py", "--model", trained_model, "test", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 30
    for line in lines:
        label, predicted = re.fullmatch(r"test/digit_(\d)_sample_\d\.png: (\d) \(confidence .*\)", line).groups()
        assert label == predicted, line


def test_a_fifo_in_the_folder_is_refused_not_waited_on(tmp_path):
    (tmp_path / "test").mkdir()
    os.mkfifo(tmp_path / "test" / "digit_3_sample_1.png")
    result = run_script(GENERATE, cwd=tmp_path, timeout=60)
    assert_clean_error(result, "digit_3_sample_1.png", "not a regular file")
    assert sample_files(tmp_path / "test") == ["digit_3_sample_1.png"]


def test_a_folder_with_only_the_test_split_is_enough(tmp_path, small_idx_dir):
    """Only MNIST's test images are written, so only the test split's two IDX files are read:
    a folder without the training files serves."""
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (small_idx_dir / name).unlink()
    result = run_script(GENERATE, "--data", str(small_idx_dir), "--per-digit", "1", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert len(sample_files(tmp_path / "test")) == 10
