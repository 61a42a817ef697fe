"""predict_image.py as a user runs it: prompt, batches, options and every kind of bad input."""

import json
import os
import re
import signal
import shutil
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

import network
from conftest import ROOT, assert_clean_error, heic_photo, run_script
from rendered_digits import ink_mask, write_rendered_digits

PREDICT = "predict_image.py"


@pytest.fixture(scope="module")
def digits(tmp_path_factory, mnist):
    """A folder with the first 20 MNIST test digits as PNGs named <index>_<label>.png."""
    folder = tmp_path_factory.mktemp("digits")
    images, labels = mnist["test"]
    for i in range(20):
        Image.fromarray(images[i].reshape(28, 28)).save(folder / f"{i:02d}_{labels[i]}.png")
    return folder


def run_predict(*args, cwd, model, input=None):
    return run_script(PREDICT, "--model", model, *args, cwd=cwd, input=input)


def test_prompt_prints_digit_and_confidence(tmp_path, digits, trained_model):
    result = run_predict(cwd=tmp_path, model=trained_model, input=f"{digits / '00_7.png'}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Image path: ")
    lines = result.stdout[len("Image path: "):].splitlines()
    assert lines[0] == "Predicted digit: 7"
    assert re.fullmatch(r"Confidence: 0\.\d{4}|Confidence: 1\.0000", lines[1])
    assert len(lines) == 2


def test_prompt_accepts_a_quoted_path_with_spaces(tmp_path, digits, trained_model):
    spaced = tmp_path / "my digit.png"
    spaced.write_bytes((digits / "01_2.png").read_bytes())
    result = run_predict(cwd=tmp_path, model=trained_model, input=f"  '{spaced}'  \n")
    assert "Predicted digit: 2" in result.stdout, result.stderr


def test_prompt_ctrl_d_exits_cleanly(tmp_path, trained_model):
    result = run_predict(cwd=tmp_path, model=trained_model, input="")
    assert_clean_error(result, "no image path given", "python predict_image.py digit.png")


@pytest.mark.skipif(sys.platform == "win32", reason="started with its input closed: POSIX's fork and exec")
def test_started_with_no_input_at_all_it_asks_nothing_and_says_what_to_do(tmp_path, trained_model):
    """Started by a scheduler, a service or pythonw, the script has no input to ask for a path on."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, PREDICT), "--model", str(trained_model)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: os.close(0))
    assert_clean_error(result, "no image path given", "python predict_image.py digit.png")
    assert result.stdout == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here, a file that is always full")
@pytest.mark.parametrize("script", [PREDICT, "train.py", "generate_test_set.py"], ids=["predict", "train", "generate"])
def test_output_to_a_full_disk_is_one_error_line(tmp_path, digits, trained_model, script):
    args = {PREDICT: ["--model", trained_model, digits / "00_7.png"],
            "train.py": ["--limit", "500", "--epochs", "1", "--model", "new.npz"],
            "generate_test_set.py": []}[script]
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)], cwd=tmp_path,
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert_clean_error(result, f"{script}: error: cannot write its output: No space left on device")
    assert not (tmp_path / "new.npz").exists()


def test_a_reader_that_stops_reading_ends_the_script_quietly(tmp_path, digits, trained_model):
    """`predict_image.py FOLDER | head -1`: once the pipe is closed, the script stops, exit 1, nothing on stderr."""
    for k in range(200):
        shutil.copy(digits / "00_7.png", tmp_path / f"{k:03d}.png")
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, PREDICT), "--model", str(trained_model),
                                str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 1 and err == "", err
    assert first.startswith(f"{tmp_path / '000.png'}: 7 ")


def test_prompt_ctrl_c_exits_cleanly(tmp_path, trained_model):
    # Started as from a terminal, with SIGINT's default meaning: a shell without job control starts a
    # background job (`pytest &` in a script) with SIGINT ignored, and so its children ignore Ctrl-C.
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, PREDICT), "--model", str(trained_model)],
                               cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout.read(len("Image path: ")) == "Image path: "
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err and "Predicted" not in out


def test_batch_of_files_and_folders(tmp_path, digits, trained_model):
    result = run_predict(digits / "00_7.png", digits, cwd=tmp_path, model=trained_model)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 21
    correct = 0
    for line in lines:
        match = re.fullmatch(r"(.+\.png): (\d) \(confidence (0\.\d{4}|1\.0000)\)", line)
        assert match, line
        correct += match.group(1).endswith(f"_{match.group(2)}.png")
    assert correct >= 19


def test_top_k(tmp_path, digits, trained_model):
    result = run_predict("--top", "3", digits / "00_7.png", cwd=tmp_path, model=trained_model)
    top = result.stdout.split("top 3: ")[1].split(", ")
    assert len(top) == 3 and top[0].startswith("7: ")
    probabilities = [float(t.split(": ")[1]) for t in top]
    assert probabilities == sorted(probabilities, reverse=True)
    prompted = run_predict("--top", "2", cwd=tmp_path, model=trained_model, input=f"{digits / '00_7.png'}\n")
    assert re.search(r"^Top 2: 7: \d\.\d{4}, \d: \d\.\d{4}$", prompted.stdout, re.M)
    assert_clean_error(run_predict("--top", "11", cwd=tmp_path, model=trained_model), "--top", "at most 10")


def test_json_lines(tmp_path, digits, trained_model):
    (tmp_path / "bad.png").write_text("not an image")
    result = run_predict("--json", digits / "00_7.png", tmp_path / "bad.png", cwd=tmp_path, model=trained_model)
    assert result.returncode == 1
    good, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert good["digit"] == 7 and good["path"].endswith("00_7.png")
    assert len(good["probabilities"]) == 10 and sum(good["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert good["confidence"] == max(good["probabilities"])
    assert bad["path"].endswith("bad.png") and "not an image" in bad["error"]


def test_show_draws_the_network_input(tmp_path, digits, trained_model):
    result = run_predict("--show", digits / "00_7.png", cwd=tmp_path, model=trained_model)
    lines = result.stdout.splitlines()
    assert len(lines) == 29
    assert all(len(line) == 56 for line in lines[:28])
    assert lines[0].strip() == "" and "@" in "".join(lines[:28])


def test_raw_is_the_plain_resize(tmp_path, trained_model):
    """--raw feeds the grayscale image squashed to 28x28; by default the digit is found and read."""
    from predict_image import render

    mask = np.asarray(ink_mask(3, "DejaVuSans.ttf", 150, 0))
    page = np.full((400, 300), 255, np.uint8)
    page[100:100 + mask.shape[0], 60:60 + mask.shape[1]] -= mask
    Image.fromarray(page).save(tmp_path / "three.png")
    raw = run_predict("--show", "--raw", tmp_path / "three.png", cwd=tmp_path, model=trained_model)
    squashed = np.asarray(Image.fromarray(page).resize((28, 28)), np.float32) / 255
    assert raw.stdout.splitlines()[:28] == render(squashed).splitlines()
    ours = run_predict("--json", tmp_path / "three.png", cwd=tmp_path, model=trained_model)
    assert json.loads(ours.stdout)["digit"] == 3


@pytest.mark.slow
def test_mnist_test_set_as_png_files_matches_the_arrays(tmp_path, mnist, trained_model):
    """A fifth of the test digits (2,000) through the image path: within 0.1 points of the arrays."""
    import network
    from digits.model_file import load_model

    images, labels = mnist["test"]
    images, labels = images[:2000], labels[:2000]
    for i, image in enumerate(images):
        Image.fromarray(image.reshape(28, 28)).save(tmp_path / f"{i:05d}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    predicted = np.array([json.loads(line)["digit"] for line in result.stdout.splitlines()])
    via_images = np.mean(predicted == labels)
    params, _ = load_model(trained_model)
    direct = network.accuracy(network.predict_proba(params, network.normalize(images)), labels)
    print(f"MNIST test set: arrays {direct:.4f}, PNG files through predict_image.py {via_images:.4f}")
    assert abs(via_images - direct) <= 0.001


def test_rendered_digits_far_better_than_raw(tmp_path, trained_model):
    labels = write_rendered_digits(tmp_path, per_style_and_digit=2)
    accuracy = {}
    for mode in ((), ("--raw",)):
        result = run_predict("--json", *mode, tmp_path, cwd=tmp_path, model=trained_model)
        answers = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(answers) == len(labels)
        accuracy[mode] = np.mean([a["digit"] == labels[a["path"]] for a in answers])
    print(f"Rendered digits ({len(labels)}): preprocessed {accuracy[()]:.3f}, --raw {accuracy[('--raw',)]:.3f}")
    # the tests' model reads 0.864 of these (0.893 with seeds 1 and 2 of the images), the fast
    # recipe 0.93 to 0.99: the floor leaves room for another processor's rounding, far above raw
    assert accuracy[()] >= 0.8
    assert accuracy[("--raw",)] <= 0.30


def test_exif_orientation_is_applied(tmp_path, trained_model):
    mask = np.asarray(ink_mask(7, "DejaVuSans.ttf", 120, 0))
    page = np.full((300, 300), 255, np.uint8)
    page[60:60 + mask.shape[0], 80:80 + mask.shape[1]] -= mask
    stored = Image.fromarray(np.rot90(page)).convert("RGB")  # camera held sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and the tag says: rotate 90 degrees clockwise to view
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=90)
    result = run_predict("--json", tmp_path / "photo.jpg", cwd=tmp_path, model=trained_model)
    assert json.loads(result.stdout)["digit"] == 7


def test_predict_path_imports_neither_sklearn_nor_matplotlib_nor_scipy_spatial(tmp_path, digits, trained_model):
    """Reading an image loads what reading needs: not training's packages, nor scipy.spatial (64 ms
    of every run; convex_hull is the project's own)."""
    result = subprocess.run([sys.executable, "-X", "importtime", os.path.join(ROOT, PREDICT),
                             "--model", str(trained_model), str(digits / "00_7.png")],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "numpy" in imported and "PIL" in imported
    assert not {"sklearn", "matplotlib", "tqdm", "scipy.spatial"} & imported


def run_predict_as_main(*args, cwd, before="", after="", env=None):
    """Run predict_image.py with `args` as `python predict_image.py` does (as __main__, by runpy), in
    a Python that runs the code `before` first and the code `after` once the script has ended; the
    exit code is the script's."""
    code = ("import runpy, sys\n" + before
            + f"sys.argv = sys.argv[1:]; sys.path.insert(0, {ROOT!r})\n"
            "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n    ended = 0\n"
            "except SystemExit as stop:\n    ended = stop.code\n" + after + "sys.exit(ended)\n")
    return subprocess.run([sys.executable, "-c", code, os.path.join(ROOT, PREDICT), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True)


def test_images_are_read_with_one_blas_thread_unless_the_user_chose(tmp_path, digits, trained_model):
    """predict_image.py run as a script, then the BLAS libraries' threads: 1 as it sets them before
    NumPy loads (a second one only spins between its small products), or the user's choice."""
    threads_used = ("from threadpoolctl import threadpool_info\n"
                    "print(sorted({pool['num_threads'] for pool in threadpool_info()"
                    " if pool['user_api'] == 'blas'}))\n")
    unset = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    for chosen, threads in (({}, "[1]"), ({"OPENBLAS_NUM_THREADS": "2"}, "[2]"), ({"OMP_NUM_THREADS": "2"}, "[2]")):
        result = run_predict_as_main("--model", trained_model, digits / "00_7.png", cwd=tmp_path,
                                     after=threads_used, env={**unset, **chosen})
        assert result.returncode == 0, result.stderr
        read, shown = result.stdout.splitlines()
        assert re.search(r"00_7\.png: 7 \(confidence [01]\.\d{4}\)$", read), result.stdout
        assert shown == threads, (chosen, result.stdout)


def test_a_heic_photo_is_read_upright_as_its_jpeg_is_and_found_in_a_folder(tmp_path, trained_model):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(os.path.join(ROOT, "docs", "photo-number.jpg"), photos / "a.jpg")
    heic_photo(photos / "a.jpg", photos / "b.HEIC")
    result = run_predict("--json", photos, cwd=tmp_path, model=trained_model)
    assert result.returncode == 0, result.stderr
    jpeg, heic = (json.loads(line) for line in result.stdout.splitlines())
    assert heic["path"].endswith("b.HEIC") and jpeg["number"] == heic["number"] == "2577", result.stdout
    for a, b in zip(jpeg["digits"], heic["digits"]):  # upright: the same boxes, in the same pixels
        assert np.abs(np.subtract(a["box"], b["box"])).max() <= 3, (a["box"], b["box"])


def test_a_damaged_heic_photo_is_refused_as_damaged(tmp_path, digits, trained_model):
    heic_photo(digits / "00_7.png", tmp_path / "whole.heic")
    whole = (tmp_path / "whole.heic").read_bytes()
    (tmp_path / "cut.heic").write_bytes(whole[:len(whole) // 2])
    result = run_predict(tmp_path / "cut.heic", cwd=tmp_path, model=trained_model)
    assert_clean_error(result, "cut.heic", "cannot decode image", "HEIC/HEIF file, damaged or truncated")
    assert "pip install" not in result.stderr  # pillow-heif is there: the file is what is wrong


def test_without_pillow_heif_a_heic_photo_is_refused_with_what_to_install(tmp_path, digits, trained_model):
    heic_photo(digits / "00_7.png", tmp_path / "photo.heic")
    taken_away = "sys.modules['pillow_heif'] = None  # `import pillow_heif` raises ImportError\n"
    result = run_predict_as_main("--model", trained_model, tmp_path / "photo.heic", digits / "00_7.png",
                                 cwd=tmp_path, before=taken_away)
    assert result.returncode == 1 and re.search(r"00_7\.png: 7 \(confidence", result.stdout), result.stdout
    assert_clean_error(result, "photo.heic", "HEIC", "pip install pillow-heif")


# Bad input ------------------------------------------------------------------------------------

def bad_files(folder):
    """{name: (path, words in the error)} of image files that cannot be classified."""
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("hello, not an image")
    good = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), np.uint8))
    good.save(folder / "whole.png")
    (folder / "truncated.png").write_bytes((folder / "whole.png").read_bytes()[:2000])
    Image.new("1", (9000, 9000)).save(folder / "bomb.png")  # 81 megapixels in a tiny file
    Image.new("L", (100, 100), 255).save(folder / "blank.png")
    Image.new("RGB", (200, 200), "white").save(folder / "scan.pdf")  # a page, as a scanner saves it
    (folder / "drawing.svg").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<!-- made in a vector editor -->\n'
                                        '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
                                        '<path d="M4 4 H24 L12 24" stroke="black" fill="none"/></svg>\n')
    return {
        "missing": (folder / "missing.png", ["missing.png", "file not found"]),
        "web": ("https://example.com/seven.png", ["https://example.com/seven.png", "a web address", "download it"]),
        "empty": (folder / "empty.png", ["empty.png", "empty file"]),
        "text": (folder / "text.png", ["text.png", "not an image"]),
        "truncated": (folder / "truncated.png", ["truncated.png", "cannot decode"]),
        "bomb": (folder / "bomb.png", ["bomb.png", "too large"]),
        "blank": (folder / "blank.png", ["blank.png", "no digit found"]),
        "pdf": (folder / "scan.pdf", ["scan.pdf", "a PDF document", "as PNG or JPEG"]),
        "svg": (folder / "drawing.svg", ["drawing.svg", "an SVG drawing", "export it as PNG"]),
    }


@pytest.mark.parametrize("case", ["missing", "web", "empty", "text", "truncated", "bomb", "blank", "pdf", "svg"])
def test_bad_image_gives_one_line(tmp_path, trained_model, case):
    path, words = bad_files(tmp_path)[case]
    assert (tmp_path / "bomb.png").stat().st_size < 100_000
    assert_clean_error(run_predict(path, cwd=tmp_path, model=trained_model), *words)


def test_folder_without_images(tmp_path, trained_model):
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "empty-folder" / "notes.txt").write_text("no pictures here")
    assert_clean_error(run_predict(tmp_path / "empty-folder", cwd=tmp_path, model=trained_model),
                       "empty-folder", "no image files")


def test_batch_goes_on_past_bad_images(tmp_path, digits, trained_model):
    cases = bad_files(tmp_path)
    paths = [digits / "00_7.png", *(p for p, _ in cases.values()), digits / "01_2.png"]
    result = run_predict(*paths, cwd=tmp_path, model=trained_model)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{digits / '00_7.png'}: 7 (confidence ")
    assert lines[1].startswith(f"{digits / '01_2.png'}: 2 (confidence ")
    assert len(result.stderr.strip().splitlines()) == len(cases)
    assert "Traceback" not in result.stderr


def test_a_fault_brought_out_by_one_image_is_reported_for_it_and_the_others_are_still_read(tmp_path, digits,
                                                                                             trained_model):
    """A fault of the reading itself (here made to happen for one file) costs that file's answer
    alone: one line naming it, the exit code 1, no traceback, the other images read."""
    folder = tmp_path / "batch"
    folder.mkdir()
    for name, source in (("a.png", "00_7.png"), ("b_odd.png", "01_2.png"), ("c.png", "01_2.png")):
        shutil.copy(digits / source, folder / name)
    faulty = (f"sys.path.insert(0, {ROOT!r})\n"
              "from digits import preprocess\n"
              "to_digits = preprocess.to_digits\n"
              "def faulty(image, path='image', read=None):\n"
              "    if 'odd' in str(path):\n"
              "        raise ValueError('operands could not be broadcast together')\n"
              "    return to_digits(image, path, read)\n"
              "preprocess.to_digits = faulty\n")
    for flags in ((), ("--json",)):
        result = run_predict_as_main(*flags, "--model", trained_model, folder, cwd=tmp_path, before=faulty)
        assert_clean_error(result, "b_odd.png", "could not be read", "fault of predict_image.py",
                           "ValueError: operands could not be broadcast together", "report")
        lines = result.stdout.splitlines()
        if flags:
            answers = [json.loads(line) for line in lines]
            assert [a.get("digit") for a in answers] == [7, None, 2] and "b_odd.png" in answers[1]["error"]
        else:
            assert re.search(r"a\.png: 7 \(confidence", lines[0]) and re.search(r"c\.png: 2 \(confidence", lines[1])
            assert len(lines) == 2, result.stdout


def write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def original_model(dtype=np.float64, hidden=128):
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((hidden, 784)).astype(dtype) * 0.01, "b1": np.zeros((hidden, 1), dtype),
            "W2": rng.standard_normal((10, hidden)).astype(dtype) * 0.01, "b2": np.zeros((10, 1), dtype)}


@pytest.mark.parametrize("make, words", [
    (None, ["nothing.npz", "file not found", "train.py"]),
    (lambda p: p.write_bytes(b"PK\x03\x04 garbage"), ["not a readable .npz"]),
    (lambda p: write_npz(p, **{**original_model(), "W2": np.zeros((10, 64))}), ["W2", "shape (10, 64)"]),
    (lambda p: write_npz(p, W1=np.zeros((128, 784))), ["missing", "b1"]),
    (lambda p: write_npz(p, **{**original_model(), "b2": np.array([{"evil": 1}] * 10, dtype=object)}),
     ["pickled"]),
    (lambda p: write_npz(p, **{**original_model(), "W1": np.full((128, 784), np.nan)}), ["W1", "NaN"]),
])
def test_bad_model_gives_one_line(tmp_path, digits, make, words):
    model = tmp_path / "nothing.npz"
    if make is not None:
        make(model)
    assert_clean_error(run_predict(digits / "00_7.png", cwd=tmp_path, model=model), *words)


def test_a_model_given_as_a_web_address_is_named_as_one(tmp_path, digits):
    result = run_predict(digits / "00_7.png", cwd=tmp_path, model="https://example.com/model_mnist.npz")
    assert_clean_error(result, "model https://example.com/model_mnist.npz: a web address, not a file here",
                       "download it")


def test_original_float64_model_without_meta_works(tmp_path, digits, trained_model):
    with np.load(trained_model) as npz:
        write_npz(tmp_path / "original.npz", **{k: npz[k].astype(np.float64) for k in ("W1", "b1", "W2", "b2")})
    ours = run_predict("--json", digits / "00_7.png", cwd=tmp_path, model=trained_model)
    theirs = run_predict("--json", digits / "00_7.png", cwd=tmp_path, model=tmp_path / "original.npz")
    assert theirs.returncode == 0, theirs.stderr
    assert json.loads(theirs.stdout)["digit"] == json.loads(ours.stdout)["digit"] == 7
    assert json.loads(theirs.stdout)["confidence"] == pytest.approx(json.loads(ours.stdout)["confidence"], abs=1e-4)


def test_prompt_with_a_folder_lists_each_image(tmp_path, digits, trained_model):
    result = run_predict(cwd=tmp_path, model=trained_model, input=f"{digits}\n")
    lines = result.stdout[len("Image path: "):].splitlines()
    assert len(lines) == 20 and all(re.search(r"\.png: \d \(confidence", line) for line in lines)


PEN_STROKES = {  # digits drawn with a pen tool on an 800 x 800 canvas
    0: lambda draw, width: draw.ellipse((280, 150, 520, 650), outline=0, width=width),
    1: lambda draw, width: draw.line([(380, 220), (430, 150), (430, 650)], fill=0, width=width),
    2: lambda draw, width: (draw.arc((260, 150, 540, 400), 180, 40, fill=0, width=width),
                            draw.line([(525, 320), (260, 650), (560, 650)], fill=0, width=width)),
    4: lambda draw, width: draw.line([(480, 650), (480, 150), (250, 480), (560, 480)], fill=0, width=width),
    7: lambda draw, width: draw.line([(250, 180), (550, 180), (360, 650)], fill=0, width=width),
}


@pytest.mark.parametrize("pen_width", [4, 30])
def test_pen_drawings_thin_or_thick_are_read(tmp_path, trained_model, pen_width):
    from PIL import ImageDraw

    for digit, stroke in PEN_STROKES.items():
        canvas = Image.new("L", (800, 800), 255)
        stroke(ImageDraw.Draw(canvas), pen_width)
        canvas.save(tmp_path / f"drawn_{digit}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["digit"] for a in answers] == sorted(PEN_STROKES)


# Odd files ------------------------------------------------------------------------------------

def test_a_fifo_is_refused_not_waited_on(tmp_path, digits, trained_model):
    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    assert_clean_error(run_predict(fifo, cwd=tmp_path, model=trained_model), "f.png", "not a regular file", "FIFO")
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "a.png")
    (folder / "b.png").write_bytes((digits / "00_7.png").read_bytes())
    result = run_predict(folder, cwd=tmp_path, model=trained_model)
    assert result.returncode == 1 and result.stdout.startswith(f"{folder / 'b.png'}: 7 ")
    assert "a.png: not a regular file" in result.stderr
    assert_clean_error(run_predict(digits / "00_7.png", cwd=tmp_path, model=fifo), "model", "not a regular file")


def dark_gray_seven(size=200):
    """A 7 of ink 0.3 on paper 1.0, as floats in [0, 1]."""
    mask = np.asarray(ink_mask(7, "DejaVuSans.ttf", 120, 0), np.float32) / 255
    page = np.ones((size, size), np.float32)
    page[40:40 + mask.shape[0], 50:50 + mask.shape[1]] -= 0.7 * mask
    return page


@pytest.mark.parametrize("kind", ["16-bit PNG", "32-bit integer TIFF", "float TIFF", "float TIFF 0-255",
                                  "8-bit PNG"])
def test_every_pixel_depth_is_read_at_its_real_range(tmp_path, trained_model, kind):
    page = dark_gray_seven()
    image = {"16-bit PNG": lambda: Image.fromarray((page * 65535).astype(np.uint16)),
             "32-bit integer TIFF": lambda: Image.fromarray((page * 65535).astype(np.int32), "I"),
             "float TIFF": lambda: Image.fromarray(page, "F"),
             "float TIFF 0-255": lambda: Image.fromarray(page * 255, "F"),
             "8-bit PNG": lambda: Image.fromarray((page * 255).astype(np.uint8))}[kind]()
    path = tmp_path / ("seven.tif" if "TIFF" in kind else "seven.png")
    image.save(path)
    result = run_predict("--json", path, cwd=tmp_path, model=trained_model)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["digit"] == 7 and answer["confidence"] > 0.8, (Image.open(path).mode, answer)


def test_a_photo_saved_in_black_and_white_or_as_a_gif_is_read_as_the_photo_is(tmp_path, trained_model):
    """docs/example-digit.jpg, a photo of a 4, saved as Pillow saves an image converted to black and
    white (mode 1) at its size and at half of it, or to the web's palette (mode P, as a PNG and as a
    GIF), its shades drawn in dots (dithering). Its ink, found pixel by pixel, was dots: the
    black-and-white photo was blank, halved a 6, the palette ones 8s. Smoothed first, each is a 4."""
    photo = Image.open(os.path.join(ROOT, "docs", "example-digit.jpg"))
    photo.convert("1").save(tmp_path / "black_and_white.png")
    photo.resize((photo.width // 2, photo.height // 2)).convert("1").save(tmp_path / "half.png")
    photo.convert("P").save(tmp_path / "palette.png")
    photo.convert("P").save(tmp_path / "photo.gif")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    assert result.stderr == "", result.stderr
    answers = {os.path.basename(answer["path"]): answer.get("digit", answer.get("error"))
               for answer in map(json.loads, result.stdout.splitlines())}
    assert answers == dict.fromkeys(["black_and_white.png", "half.png", "palette.png", "photo.gif"], 4), answers


def test_a_digit_shown_in_a_plot_or_pasted_on_a_page_is_read_without_the_page(tmp_path, mnist, trained_model):
    """An MNIST test digit shown with matplotlib, as people look at one (imshow: axes and their
    numbers, a title, a colour bar, the default colours or grey ones, saved as PNG or JPEG), and
    digits pasted on a slide with a caption, light on dark or dark on light. The dark image on
    the white figure was taken for ink (a 0, an 8) and the axes' numbers for the writing; read
    as the panel each shows them in, the digits are read."""
    images, labels = mnist["test"]
    pictures = [(0, {"cmap": "gray"}, "title", ".png"), (1, {}, "off", ".png"), (2, {"cmap": "gray_r"}, "colorbar", ".png"),
                (3, {"cmap": "gray"}, "off", ".jpg"), (4, {}, "colorbar", ".png"), (5, {"cmap": "gray"}, "", ".jpg")]
    expected = {}
    for index, colours, extra, suffix in pictures:
        figure = Figure(figsize=(5, 4), dpi=100)
        axes = figure.subplots()
        shown = axes.imshow(images[index].reshape(28, 28), **colours)
        if extra == "title":
            axes.set_title(f"Test image {index}: label {labels[index]}")
        elif extra == "off":
            axes.axis("off")
        elif extra == "colorbar":
            figure.colorbar(shown)
        figure.savefig(tmp_path / f"plot{index}{suffix}")
        expected[f"plot{index}{suffix}"] = str(labels[index])
    font = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"), 28)
    for name, indices, page, light in (("slide.png", [6], (236, 236, 236), True), ("dark.png", [7, 11], (40, 40, 46), False)):
        tile = np.hstack([images[i].reshape(28, 28) for i in indices])
        tile = Image.fromarray(tile if light else 255 - tile).resize((tile.shape[1] * 5, 140), Image.Resampling.NEAREST)
        slide = Image.new("RGB", (900, 600), page)
        slide.paste(tile.convert("RGB"), (300, 250))
        ImageDraw.Draw(slide).text((300, 190), "Input image", fill=(30, 30, 30) if light else (220, 220, 220), font=font)
        slide.save(tmp_path / name)
        expected[name] = "".join(str(labels[i]) for i in indices)
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    assert result.stderr == "", result.stderr
    answers = {os.path.basename(answer["path"]): answer.get("number", str(answer.get("digit", answer.get("error"))))
               for answer in map(json.loads, result.stdout.splitlines())}
    assert answers == expected


def test_a_digit_scaled_up_without_smoothing_is_read_as_when_scaled_up_smoothly(tmp_path, mnist, trained_model):
    """30 MNIST test digits scaled up to 140-448 px as an image viewer or matplotlib scales them
    (nearest neighbour: each pixel a square) and smoothly (bilinear). The squares' staircase edges
    made other inputs: 2 of the 30 were read as another digit than the smooth ones, and the two
    readings' probabilities differed by 0.071 on average (half their summed absolute differences);
    smoothed as if scaled up smoothly, they agree."""
    images, labels = mnist["test"]
    for i in range(30):
        size = (140, 224, 300, 448)[i % 4]
        digit = Image.fromarray(images[i].reshape(28, 28))
        digit.resize((size, size), Image.Resampling.NEAREST).save(tmp_path / f"squares{i:02d}.png")
        digit.resize((size, size), Image.Resampling.BILINEAR).save(tmp_path / f"smooth{i:02d}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    assert result.stderr == "", result.stderr
    answers = {os.path.basename(answer["path"]): answer for answer in map(json.loads, result.stdout.splitlines())}
    pairs = [(answers[f"squares{i:02d}.png"], answers[f"smooth{i:02d}.png"]) for i in range(30)]
    assert [a["digit"] for a, _ in pairs] == [b["digit"] for _, b in pairs]
    apart = [np.abs(np.subtract(a["probabilities"], b["probabilities"])).sum() / 2 for a, b in pairs]
    assert np.mean(apart) < 0.035, apart


def saved_npy(path):
    np.save(path.with_suffix(".npy"), np.zeros((128, 784)))
    path.with_suffix(".npy").rename(path)


def zip_of_text(path):
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        for name in ("W1", "b1", "W2", "b2"):
            z.writestr(f"{name}.npy", b"just some text, not an array")


def huge_claim(path):
    """An .npz whose W1 is only a header claiming 10**9 hidden units (5.7 TiB of float64)."""
    import io
    import zipfile
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**9, 784)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W1.npy", header.getvalue())
        for name, array in original_model().items():
            if name != "W1":
                buffer = io.BytesIO()
                np.save(buffer, array)
                z.writestr(f"{name}.npy", buffer.getvalue())


def meta_list(path):
    write_npz(path, **original_model(), meta=np.array("[1, 2, 3]"))


@pytest.mark.parametrize("make, words", [
    (saved_npy, ["single NumPy array (.npy)", "W1 b1 W2 b2"]),
    (zip_of_text, ["W1 is not a NumPy array"]),
    (huge_claim, ["W1", "claims shape (1000000000, 784)"]),
    (meta_list, ["meta is JSON but not an object"]),
    (lambda p: Image.new("L", (8, 8)).save(p, "PNG"), ["not a zip archive"]),
    (lambda p: p.write_text("hello"), ["not a zip archive"]),
], ids=["npy", "zip-of-text", "huge-shape", "meta-list", "png", "text"])
def test_files_that_are_not_models_are_named_for_what_they_are(tmp_path, digits, make, words):
    model = tmp_path / "model.npz"
    make(model)
    result = run_predict(digits / "00_7.png", cwd=tmp_path, model=model)
    assert_clean_error(result, "model.npz", *words)
    assert "pickled" not in result.stderr
    assert_clean_error(run_script(PREDICT, "--serve", "--port", "0", "--model", model, cwd=tmp_path,
                                  timeout=30), *words)


@pytest.mark.parametrize("typed", ["~/{name}", "{folder}/with\\ space.png", "file://{folder}/with%20space.png",
                                   "  '{folder}/with space.png'  "])
def test_prompt_reads_paths_as_terminals_type_them(tmp_path, digits, trained_model, typed):
    home = tmp_path / "home"
    home.mkdir()
    (home / "x.png").write_bytes((digits / "00_7.png").read_bytes())
    (tmp_path / "with space.png").write_bytes((digits / "00_7.png").read_bytes())
    env = {**os.environ, "HOME": str(home)}
    line = typed.format(name="x.png", folder=tmp_path) + "\n"
    result = run_script(PREDICT, "--model", trained_model, cwd=tmp_path, input=line, env=env)
    assert result.returncode == 0, result.stderr
    assert "Predicted digit: 7" in result.stdout


def test_a_path_typed_on_windows_keeps_its_backslashes_and_a_file_url_is_a_drive_path(monkeypatch):
    """As on Windows (its separator, and urllib's url2pathname there): a backslash is a folder's
    separator, not an escape, and file:///C:/... is C:\\...."""
    import nturl2path
    import urllib.request

    from predict_image import typed_path
    monkeypatch.setattr(os, "sep", "\\")
    monkeypatch.setattr(urllib.request, "url2pathname", nturl2path.url2pathname)
    assert typed_path(r"C:\Users\me\my digit.png") == r"C:\Users\me\my digit.png"
    assert typed_path(" file:///C:/Users/me/my%20digit.png ") == r"C:\Users\me\my digit.png"


# Numbers ---------------------------------------------------------------------------------------

def number_image(mnist, indices, path, gap=30, scale=4):
    """MNIST test digits written dark on white, side by side, `gap` px apart; returns the label string."""
    images, labels = mnist["test"]
    tiles = [255 - np.asarray(Image.fromarray(images[i].reshape(28, 28)).resize((28 * scale, 28 * scale)))
             for i in indices]
    page = np.full((28 * scale + 80, sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1) + 80), 255, np.uint8)
    x = 40
    for tile in tiles:
        page[40:40 + tile.shape[0], x:x + tile.shape[1]] = tile
        x += tile.shape[1] + gap
    Image.fromarray(page).save(path)
    return "".join(str(labels[i]) for i in indices)


@pytest.mark.parametrize("options, words", [
    (["--port", "9000"], "--port: is for the drawing page; add --serve"),
    (["--host", "0.0.0.0"], "--host: is for the drawing page; add --serve"),
    (["--json", "--show"], "--show: --json prints JSON only"),
    (["--serve", "--why"], "--serve: the page takes its images from the browser (and always shows why)"),
])
def test_options_that_do_not_go_together_are_refused(tmp_path, digits, trained_model, options, words):
    result = run_predict(*options, digits / "00_7.png", cwd=tmp_path, model=trained_model)
    assert_clean_error(result, words)
    assert result.returncode == 2 and result.stdout == ""


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names cannot hold control characters")
def test_control_characters_in_file_names_are_escaped(tmp_path, digits, trained_model):
    good = tmp_path / "seven\n\x1b[2Jhere.png"
    good.write_bytes((digits / "00_7.png").read_bytes())
    bad = tmp_path / "bad\rname\x1b]0;x\x07.png"
    bad.write_bytes(b"not an image")
    result = run_predict(good, bad, cwd=tmp_path, model=trained_model)
    assert result.stdout.splitlines() == [f"{tmp_path}/seven\\n\\x1b[2Jhere.png: 7 "
                                          + result.stdout.split(": 7 ", 1)[1].rstrip("\n")]
    assert "\x1b" not in result.stdout + result.stderr and "\r" not in result.stderr
    assert_clean_error(result, "bad\\rname\\x1b]0;x\\x07.png")


def test_a_name_the_terminal_cannot_show_or_a_file_cannot_have_is_one_line_not_a_traceback(tmp_path, digits,
                                                                                            trained_model):
    """Where output and input go through a code page (Windows, output redirected: cp1252 here), a
    Chinese file name is printed escaped, as stderr escapes it, and bytes that are no character
    there, or a NUL, typed at the prompt are a file not found or not a file name."""
    named = tmp_path / "\u6570\u5b57.png"
    named.write_bytes((digits / "00_7.png").read_bytes())
    env = dict(os.environ, PYTHONIOENCODING="cp1252")
    command = [sys.executable, os.path.join(ROOT, PREDICT), "--model", str(trained_model)]
    result = subprocess.run([*command, named.name], cwd=tmp_path, capture_output=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert result.stdout.startswith(b"\\u6570\\u5b57.png: 7 (confidence "), result.stdout
    for typed, words in ((b"x\x81\x8d.png\n", b"x\\udc81\\udc8d.png: file not found"),
                         (b"x\x00y.png\n", b"x\\x00y.png: not a file name this system can open")):
        result = subprocess.run(command, cwd=tmp_path, input=typed, capture_output=True, env=env, timeout=120)
        assert result.returncode == 1 and result.stdout == b"Image path: ", result
        assert result.stderr.count(b"\n") == 1 and words in result.stderr and b"Traceback" not in result.stderr


def test_why_splits_each_logit_into_the_pixels_and_a_constant(tmp_path, digits, mnist, trained_model):
    from digits import reader
    params = reader.load(trained_model)
    text = run_predict("--why", digits / "00_7.png", cwd=tmp_path, model=trained_model).stdout.splitlines()
    assert text[0].startswith(f"{digits / '00_7.png'}: 7 (confidence ")
    found = re.fullmatch(r"why 7: Z2\[7\] = (-?[\d.]+) = (-?[\d.]+) from the pixels ([+-]) ([\d.]+) constant; "
                         r"pushed most by the pixels at \(row, column\) (.*)", text[1])
    logit, pixels, sign, constant = float(found[1]), float(found[2]), found[3], float(found[4])
    assert abs(pixels + (constant if sign == "+" else -constant) - logit) <= 0.011
    pushed = re.findall(r"\((\d+), (\d+)\) ([+-][\d.]+)", found[5])
    assert len(pushed) == 10 and [float(v) for _, _, v in pushed] == sorted((float(v) for _, _, v in pushed), reverse=True)

    answer = json.loads(run_predict("--why", "--json", digits / "00_7.png", cwd=tmp_path, model=trained_model).stdout)
    why = answer["why"]
    x = reader.digits_in(params, str(digits / "00_7.png"))[0][0]
    Z2 = network.forward_prop(params, x.reshape(784, 1).astype(np.float32))[2][:, 0]
    assert why["digit"] == answer["digit"] == 7 and abs(why["logit"] - Z2[7]) < 1e-3
    assert abs(why["from_pixels"] + why["constant"] - why["logit"]) < 1e-3
    assert round(why["logit"], 2) == logit
    for row, column, value in why["pushed_most"]:  # what those pixels add: x_i T[7, i]
        T, _ = network.explain(params, x.reshape(784, 1).astype(np.float32))
        assert abs(x[row, column] * T[7, 28 * row + column] - value) < 1e-3

    assert number_image(mnist, [0, 1], tmp_path / "72.png") == "72"
    number = run_predict("--why", tmp_path / "72.png", cwd=tmp_path, model=trained_model).stdout.splitlines()
    assert number[0].startswith(f"{tmp_path / '72.png'}: number 72 ")
    assert number[1].startswith("digit 1 why 7: Z2[7] = ") and number[2].startswith("digit 2 why 2: Z2[2] = ")
