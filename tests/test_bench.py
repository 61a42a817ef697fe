"""The benchmarks run and print their tables; the floor of a run trains nothing."""

import json
import os
import re

import matplotlib
import numpy as np
import pytest
from PIL import Image

import network
from conftest import assert_clean_error, run_script
from digits.model_file import load_model


@pytest.mark.slow
def test_quick_benchmark_prints_every_row(tmp_path):
    result = run_script("benchmarks/bench.py", "--quick", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Machine: ") and "| measurement | result |" in out
    for row in ("full-batch epoch", "mini-batch (128) epoch", "data loading",
                "ours vs scikit-learn MLPClassifier: fast recipe", "PyTorch (CPU)",
                "predict_image.py, one image", "peak memory", "full-batch epoch, BLAS threads",
                "mini-batch (128) epoch, BLAS threads", "augmenting one epoch of images",
                "augmented / plain mini-batch (128) epoch", "against its floor", "augmented recipe",
                "short augmented recipe", "2-megapixel JPEG photo", "MNIST-size PNGs"):
        assert row in out, row
    watched = re.findall(r"with --watch and a page following it / without.*\| training .* = ([\d.]+)x; "
                         r"whole process .* = ([\d.]+)x; the page updated (\d+) times a run \|", out)
    assert len(watched) == 2 and all(float(a) > 0 and float(b) > 0 and int(n) > 0 for a, b, n in watched)
    ratios = [float(r) for r in re.findall(r"products alone \| [\d.]+ s / [\d.]+ s = (\d+\.\d+)x \|", out)]
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
    floor = re.search(r"against its floor: .* alternating pairs? \| ([\d.]+) s / ([\d.]+) s = ([\d.]+)x \|", out)
    assert floor and all(float(v) > 0 for v in floor.groups())
    sklearn = re.search(r"scikit-learn.*\| ours [\d.]+ s \(([\d.]+)%\), theirs [\d.]+ s \(([\d.]+)%\); "
                        r"theirs / ours = [\d.]+x \|", out)
    assert sklearn and float(sklearn.group(1)) > 50 and float(sklearn.group(2)) > 50


def test_robustness_table_compares_models_on_distorted_test_digits(tmp_path, trained_model):
    result = run_script("benchmarks/robustness.py", trained_model, trained_model, "--limit", "300",
                        cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 7
    accuracies = [[float(cell.strip(" %")) for cell in row.split("|")[2:4]] for row in rows]
    assert all(a == b for a, b in accuracies)  # the same model twice: the same copies of the test set
    assert accuracies[0][0] > 90 and accuracies[-1][0] < accuracies[0][0]


def test_photo_table_of_photos_cropped_close_to_their_writing(tmp_path, trained_model):
    result = run_script("benchmarks/photos.py", trained_model, "--per-group", "1", "--mnist", "0", "--seed", "9",
                        "--framing", "close", "--folder", tmp_path / "images", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 12 and not any("MNIST" in row for row in rows)  # --mnist 0: no MNIST digits, no row
    photos = [Image.open(path) for path in (tmp_path / "images").glob("*.jpg")]
    assert len(photos) == 8 and all(p.width < 1000 and p.height < 750 for p in photos)  # the smallest frame


@pytest.mark.slow
def test_photo_table_of_numbers_whose_digits_are_photographed_one_at_a_time(tmp_path, trained_model):
    """--framing alone: each digit of a number is a photo of its own, and a number counts as read
    when predict_image.py, run here on the same folder, reads each of its digits."""
    result = run_script("benchmarks/photos.py", trained_model, "--per-group", "1", "--mnist", "0", "--seed", "13",
                        "--framing", "alone", "--folder", tmp_path / "images", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1].rstrip(" |")
            for line in result.stdout.splitlines() if line.startswith("| ") and "%" in line}
    answers = run_script("predict_image.py", "--json", "--model", trained_model, tmp_path / "images",
                         cwd=tmp_path, timeout=240)
    read = {os.path.basename(answer["path"]): answer for answer in map(json.loads, answers.stdout.splitlines())}
    names = sorted(read)
    singles = [name for name in names if "_single_" in name]
    assert len(singles) == 5 and all("-" not in name for name in singles)
    for family in ("plain", "ruled", "squared", "board", "screen"):
        digits = [re.fullmatch(rf"{family}_number_000-(\d)_(\d)\.(jpg|png)", name) for name in names
                  if name.startswith(f"{family}_number_")]
        assert 2 <= len(digits) <= 8 and [int(m.group(1)) for m in digits] == list(range(len(digits)))
        each = [str(read[m.group(0)].get("number", read[m.group(0)].get("digit"))) == m.group(2) for m in digits]
        shown = "a number of 2-8 digits, " + {"plain": "plain paper", "ruled": "ruled paper",
                                              "squared": "squared paper", "board": "chalk on a dark board",
                                              "screen": "made on a computer"}[family]
        assert rows[shown] == ("100.0%" if all(each) else "0.0%"), (family, each)


def test_photo_table_by_how_the_numbers_were_written(tmp_path, trained_model):
    result = run_script("benchmarks/photos.py", trained_model, "--per-group", "2", "--mnist", "0", "--seed", "9",
                        "--by-writing", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1].rstrip(" |")
            for line in result.stdout.splitlines() if line.startswith("| ") and "%" in line}
    numbers = round(float(rows["all numbers"].rstrip("%")) / 100 * 10)  # read right of 5 families x 2 numbers
    for group in (["hand: MNIST's digits redrawn", "hand: written stroke by stroke"],
                  ["no digits joined by a stroke", "some digits joined by a stroke"],
                  [row for row in rows if row.startswith("digits ")],
                  [row for row in rows if row.startswith("pen ")],
                  [row for row in rows if row.startswith("writing ")]):
        cells = [re.fullmatch(r"([\d.]+)% of (\d+)", rows[row]).groups() for row in group if row in rows]
        assert sum(int(n) for _, n in cells) == 10, group  # every number in one row of each group
        assert sum(round(float(share) / 100 * int(n)) for share, n in cells) == numbers


def test_photo_table_of_digits_written_in_a_font(tmp_path, trained_model):
    font = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    result = run_script("benchmarks/photos.py", trained_model, "--per-group", "1", "--mnist", "0", "--seed", "9",
                        "--font", font, "--by-writing", "--folder", tmp_path / "images", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1].rstrip(" |")
            for line in result.stdout.splitlines() if line.startswith("| ") and "%" in line}
    assert re.fullmatch(r"[\d.]+% of 5", rows["hand: a font's digits redrawn"])  # every number, in the font
    assert not any(row.startswith("hand: ") and "font" not in row for row in rows)
    assert len(os.listdir(tmp_path / "images")) == 10  # one digit and one number of each family


def test_the_floor_is_train_py_with_steps_cut_to_their_products(tmp_path):
    result = run_script("benchmarks/train_products_only.py", "--limit", "500", "--epochs", "2", "--batch-size", "128",
                        "--quiet", "--model", "floor.npz", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Test accuracy: " in result.stdout and "Model written to floor.npz" in result.stdout
    params, meta = load_model(str(tmp_path / "floor.npz"))
    untrained = network.init_params()
    assert meta["epochs_completed"] == 2 and meta["batch_size"] == 128
    assert all(np.array_equal(params[name], untrained[name]) for name in network.PARAM_NAMES)


def test_panel_table_of_digits_shown_in_a_plot_a_slide_and_a_screenshot(tmp_path, trained_model):
    result = run_script("benchmarks/panels.py", trained_model, "--per-kind", "2", "--seed", "9",
                        "--folder", tmp_path / "images", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and " of " in line]
    counts = [re.fullmatch(r"\| .* \| (\d+) of (\d+) \|", row).groups() for row in rows]
    assert sum(int(total) for _, total in counts) == 6 and all(int(right) <= int(total) for right, total in counts)
    names = sorted(path.name for path in (tmp_path / "images").glob("*.png"))
    assert [name.split("_")[0] for name in names] == ["plot", "plot", "screenshot", "screenshot", "slide", "slide"]


def test_pad_table_draws_the_same_digits_with_each_pen(tmp_path, trained_model):
    result = run_script("benchmarks/pad.py", trained_model, "--per-kind", "2", "--pen", "20", "9", "--seed", "9",
                        "--folder", tmp_path / "images", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and " of " in line]
    assert [re.match(r"\| (one digit|a number of 2-3 digits), pen (\d+) px", row).groups() for row in rows] == [
        ("one digit", "20"), ("one digit", "9"), ("a number of 2-3 digits", "20"), ("a number of 2-3 digits", "9")]
    assert all(re.search(r"\| \d+\.\d% of 2 \|$", row) for row in rows)
    names = sorted(path.name for path in (tmp_path / "images").glob("*.png"))
    assert len(names) == 8
    by_pen = {pen: [name.split("_", 1)[1] for name in names if name.startswith(f"pad{pen}_")] for pen in (20, 9)}
    assert by_pen[20] == by_pen[9] and [len(name.split("_")[2].split(".")[0]) > 1 for name in by_pen[9]] == [
        True, True, False, False]  # the same digits with each pen: numbers, then single digits (sorted by name)
    with Image.open(tmp_path / "images" / names[0]) as drawing:
        assert drawing.size == (280, 280)


def test_a_missing_model_is_named_in_one_line_before_any_work(tmp_path):
    for script in ("benchmarks/robustness.py", "benchmarks/photos.py", "benchmarks/panels.py",
                   "benchmarks/pad.py"):
        result = run_script(script, "plain.npz", cwd=tmp_path, timeout=60)
        assert_clean_error(result, "model plain.npz: file not found",
                           "train one with: python train.py --model plain.npz (with the options of its recipe in the README)")
        assert os.listdir(tmp_path) == []


def test_bad_options_are_named_in_one_line_and_nothing_is_written(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    (tmp_path / "a_file").write_text("kept")
    cases = [("benchmarks/photos.py", ["--per-group", "0"], "argument --per-group: must be at least 1, got 0"),
             ("benchmarks/photos.py", ["--per-group", "20000"],
              "--mnist: must be at most 10000, got 20000 from --per-group"),
             ("benchmarks/photos.py", ["--folder", "mine"], "--folder mine: not empty; give a new or empty folder"),
             ("benchmarks/photos.py", ["--folder", "a_file"], "--folder a_file: not a folder"),
             ("benchmarks/photos.py", ["--font", "a_file"], "--font a_file: not a font with digits that FreeType can"),
             ("benchmarks/photos.py", ["--font", "no_such.ttf"], "--font no_such.ttf: no such file"),
             ("benchmarks/photos.py", ["--font", "mine"], "--font mine: is a folder; give a .ttf or .otf font file"),
             ("benchmarks/panels.py", ["--per-kind", "0"], "argument --per-kind: must be at least 1, got 0"),
             ("benchmarks/panels.py", ["--folder", "mine"], "--folder mine: not empty; give a new or empty folder"),
             ("benchmarks/pad.py", ["--pen", "0"], "argument --pen: must be at least 1, got 0"),
             ("benchmarks/pad.py", ["--folder", "a_file"], "--folder a_file: not a folder"),
             ("benchmarks/robustness.py", ["--limit", "0"], "argument --limit: must be at least 1, got 0")]
    for script, options, message in cases:
        assert_clean_error(run_script(script, "plain.npz", *options, cwd=tmp_path, timeout=60), message)
    assert sorted(os.listdir(tmp_path)) == ["a_file", "mine"] and os.listdir(tmp_path / "mine") == ["notes.txt"]
