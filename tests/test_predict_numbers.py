"""predict_image.py reading numbers, and single digits written as people write them: close
together, touching, joined, narrow, slanted, broken, with a fat marker or a broad brush, on
paper, a board or a computer."""

import io
import json
import os
import re

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

import browser
import photos
from conftest import ROOT, assert_clean_error
from test_predict_cli import number_image, run_predict


def test_a_number_is_read_digit_by_digit(tmp_path, mnist, trained_model):
    label = number_image(mnist, [0, 1, 2, 3], tmp_path / "number.png")  # 7, 2, 1, 0
    result = run_predict(cwd=tmp_path, model=trained_model, input=f"{tmp_path / 'number.png'}\n")
    lines = result.stdout[len("Image path: "):].splitlines()
    assert lines[0] == f"Predicted number: {label}", result.stdout
    assert len(lines) == 5
    for k, (line, digit) in enumerate(zip(lines[1:], label), 1):
        assert re.fullmatch(rf"Digit {k}: {digit} \(confidence (0\.\d{{4}}|1\.0000)\)", line), line
    batch = run_predict("--top", "2", tmp_path / "number.png", cwd=tmp_path, model=trained_model)
    tops = "".join(rf"  digit {k} top 2: \d: [\d.]+, \d: [\d.]+" for k in range(1, 5))
    assert re.fullmatch(rf".*number\.png: number {label} \(confidence [\d., ]+\){tops}\n", batch.stdout), batch.stdout


def test_json_of_a_number_has_the_digits_and_their_boxes(tmp_path, mnist, trained_model):
    label = number_image(mnist, [4, 5, 6], tmp_path / "n.png", gap=40)
    answer = json.loads(run_predict("--json", tmp_path / "n.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer["number"] == label and "digit" not in answer
    boxes = [d["box"] for d in answer["digits"]]
    assert [d["digit"] for d in answer["digits"]] == [int(c) for c in label]
    assert all(left < right and top < bottom for left, top, right, bottom in boxes)
    assert all(a[2] <= b[0] for a, b in zip(boxes, boxes[1:]))  # left to right, not overlapping
    assert all(40 - 2 <= box[1] and box[3] <= 40 + 112 + 2 for box in boxes)  # within the rows the digits fill


def test_a_number_keeps_its_leading_zero_and_show_draws_each_digit(tmp_path, mnist, trained_model):
    _, labels = mnist["test"]
    zero, seven = int(np.flatnonzero(labels == 0)[0]), int(np.flatnonzero(labels == 7)[0])
    number_image(mnist, [zero, seven], tmp_path / "07.png")
    result = run_predict("--show", tmp_path / "07.png", cwd=tmp_path, model=trained_model)
    assert re.search(r"07\.png: number 07 \(confidence [\d.]+, [\d.]+\)$", result.stdout.strip()), result.stdout
    assert result.stdout.count("found at left") == 2 and len(result.stdout.splitlines()) == 2 * 29 + 1


def test_marks_that_cannot_be_one_number_are_refused(tmp_path, mnist, trained_model):
    number_image(mnist, list(range(14)), tmp_path / "long.png", gap=25, scale=2)
    assert_clean_error(run_predict(tmp_path / "long.png", cwd=tmp_path, model=trained_model),
                       "long.png", "more than the 12 digits")
    noise = np.random.default_rng(0).random((300, 400)) > 0.97
    Image.fromarray(np.where(noise, 0, 255).astype(np.uint8)).save(tmp_path / "noise.png")
    result = run_predict(tmp_path / "noise.png", cwd=tmp_path, model=trained_model)
    assert_clean_error(result, "noise.png")
    assert "Predicted" not in result.stdout


def test_digits_drawn_apart_close_together_or_touching_are_read_as_a_number(tmp_path, trained_model):
    for number in ("47", "17", "04", "73"):
        browser.drawing(browser.NUMBERS[number]()).save(tmp_path / f"{number}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert {os.path.basename(a["path"]): a["number"] for a in answers} == {
        "47.png": "47", "17.png": "17", "04.png": "04", "73.png": "73"}, result.stdout
    for answer in answers:
        confidences = [d["confidence"] for d in answer["digits"]]
        assert answer["number_confidence"] == pytest.approx(np.prod(confidences), abs=2e-6)  # the whole reading's


def test_narrow_digits_written_close_together_are_each_read(tmp_path, trained_model):
    """Two narrow digits side by side are no wider than one digit, but their rows cross twice as
    many strokes; a narrow 0 in a fat pen still reads as a 0."""
    for number, width, step in (("2222", 0.3, 60), ("2244", 0.35, 66), ("1204", 0.25, 52), ("0303", 0.25, 52)):
        browser.drawing(browser.written_narrow(number, width, step), width=400).save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"2222.png": "2222", "2244.png": "2244", "1204.png": "1204",
                                       "0303.png": "0303"}, result.stdout


def test_two_digits_written_over_each_other_in_a_number_are_not_read_as_one(tmp_path, trained_model):
    """The pair reads as one digit (an 8, a 7) better than as two cut apart through their strokes,
    but it is more than half as wide again as the hand's other digits."""
    for number, width, pair in (("7710", 0.45, 0), ("7722", 0.45, 0), ("2347", 0.35, 2)):
        browser.drawing(browser.written_overlapping(number, width, pair), width=400).save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"7710.png": "7710", "7722.png": "7722", "2347.png": "2347"}, result.stdout


def test_digits_joined_by_a_stroke_are_read_without_it(tmp_path, trained_model):
    """The stroke that runs on from one digit to the next is cut off both and left out: it is
    part of neither (with it, a 7 may read as a 2, a 1 as a 6). Drawn in a pen 20 px wide."""
    for number in ("74", "14", "41", "10"):
        browser.drawing(browser.written_joined(number, 0.45, 110), width=260,
                        pen_width=20).save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"74.png": "74", "14.png": "14", "41.png": "41", "10.png": "10"}, result.stdout


def test_the_end_of_a_joining_stroke_cut_with_a_digit_is_not_read_as_part_of_it(tmp_path, trained_model):
    """Joined-up writing close together: the cut between two digits crosses the stroke that
    joins them, and each keeps a part of it (27 was read 87, 72 and 372 read their 7 as a 3, 73
    its 3 as a 9). Read again without the stroke's end, they are what was written."""
    for number, width, step in (("27", 0.35, 90), ("72", 0.55, 130), ("73", 0.55, 130), ("372", 0.45, 110)):
        strokes = browser.written_joined(number, width, step)
        browser.drawing(strokes, width=step * len(number) + 60).save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"27.png": "27", "72.png": "72", "73.png": "73", "372.png": "372"}, result.stdout


def test_a_slanted_1_broken_in_the_middle_is_one_1(tmp_path, trained_model):
    """Each half of a 1 whose stroke broke (a pen running dry, chalk) reads as a 1 alone, but is
    half as tall as the line, and a 1 is as tall as the line."""
    digits = {"0": browser.DIGITS[0], "1": [[(190, 40), (154, 122)], [(136, 162), (100, 245)]]}
    for number in ("01", "10"):
        strokes = [s for k, d in enumerate(number) for s in browser.squeezed(digits[d], 10 + k * 120, 0.5)]
        browser.drawing(strokes).save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"01.png": "01", "10.png": "10"}, result.stdout


def test_a_9_whose_stem_stands_apart_from_its_loop_is_a_9_not_a_0_over_a_1(tmp_path, trained_model):
    """A fine pen, lifted or skipping, leaves a 9's stem apart from its loop: each reads well
    alone (a 0 and a 1), but the 0 would stand in the top half of the line and the 1 in the
    bottom: digits of a number stand side by side in one row. A 0 and a 1 that do are still two."""
    for gap in (20, 30):
        for pen in (4, 8):
            image = Image.new("L", (400, 500), 255)
            draw = ImageDraw.Draw(image)
            draw.ellipse((130, 70, 270, 230), outline=0, width=pen)
            draw.line([(270 + gap, 170), (245 + gap, 430)], fill=0, width=pen)
            image.save(tmp_path / f"9_gap{gap}_pen{pen}.png")
    for number, (loop, stick) in {"01": (60, 300), "10": (220, 90)}.items():
        image = Image.new("L", (420, 400), 255)
        draw = ImageDraw.Draw(image)
        draw.ellipse((loop, 80, loop + 140, 320), outline=0, width=6)
        draw.line([(stick + 20, 80), (stick, 320)], fill=0, width=6)
        image.save(tmp_path / f"{number}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    answers = answers_by_file(result)
    assert {name: answer for name, answer in answers.items() if name.startswith("9_")} == {
        f"9_gap{gap}_pen{pen}.png": "9" for gap in (20, 30) for pen in (4, 8)}, result.stdout
    assert answers["01.png"] == "01" and answers["10.png"] == "10", result.stdout


def test_a_light_wall_beside_a_dark_board_is_not_taken_for_chalk(tmp_path, trained_model):
    """A photo of chalk on a board that also shows the light wall beside it: the wall is light
    like the chalk, and a broad bar of it holds more light than the digits together."""
    chalk = Image.eval(browser.drawing(browser.written_narrow("47", 0.45, 100), width=260), lambda v: 255 - v)
    board = Image.new("L", (640, 360), 40)
    board.paste(Image.new("L", (60, 320), 150), (540, 20))  # the wall, clear of the photo's edge
    board.paste(Image.eval(chalk.resize((37, 40)), lambda v: 40 + v * 190 // 255), (280, 160))
    board.save(tmp_path / "board.png")
    answer = json.loads(run_predict("--json", tmp_path / "board.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer.get("number") == "47", answer


def test_the_lit_edge_of_a_board_beside_a_small_number_is_not_taken_for_the_writing(tmp_path, trained_model):
    """Chalk digits 50 px tall on a board whose frame shows as a light strip 5 px wide, slightly
    bent, four times as tall as they are and with more ink than the digits together; a hole in
    the strip (noise) keeps it from counting as a single straight stroke. It was taken for the
    writing and each image was read as 1. A lone 1 in a fine pen, straight or bent a little, with
    dots of ink beside it, is still read as 1: a 1 is not a line for being thin."""
    numbers = ("447", "70", "42", "17")
    for number in numbers:
        chalk = Image.eval(browser.drawing(browser.written_narrow(number, 0.45, 100), width=100 * len(number) + 60),
                           lambda v: 255 - v)
        board = Image.new("L", (640, 640), 40)
        board.paste(Image.eval(chalk.resize((round(chalk.width * 50 / chalk.height), 50)), lambda v: 40 + v * 190 // 255),
                    (200, 380))
        draw = ImageDraw.Draw(board)
        draw.line((605, 180, 609, 280, 604, 390), fill=150, width=5, joint="curve")
        draw.rectangle((606, 228, 608, 231), fill=40)
        board.save(tmp_path / f"{number}.png")
    for name, stem, dots in (("straight", (250, 130, 250, 240), 1), ("bent", (255, 130, 249, 185, 253, 240), 2)):
        sheet = Image.new("L", (512, 384), 235)
        draw = ImageDraw.Draw(sheet)
        draw.line(stem, fill=30, width=2, joint="curve")
        for k in range(dots):
            draw.ellipse((380 + 40 * k, 300, 388 + 40 * k, 308), fill=30)
        sheet.save(tmp_path / f"1_{name}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {**{f"{n}.png": n for n in numbers}, "1_straight.png": "1", "1_bent.png": "1"}, \
        result.stdout


def test_pencil_on_a_sheet_lying_on_a_dark_table_is_read_as_dark_ink(tmp_path, trained_model):
    """A photo of a sheet that lies wholly on a dark table, written on in pencil: the pencil is
    lighter than halfway between the table and the paper, and the sheet is a light shape clear
    of the photo's edge, but the pencil is the rarer colour around the digits, so it is the ink."""
    pencil = browser.drawing(browser.written_narrow("47", 0.45, 100), width=260)
    photo = Image.new("L", (640, 480), 35)
    photo.paste(Image.new("L", (560, 400), 235), (40, 40))  # the sheet, clear of the photo's edge
    photo.paste(Image.eval(pencil.resize((74, 80)), lambda v: 150 + v * 85 // 255), (280, 200))
    noise = np.random.default_rng(0).normal(0, 3, (480, 640))
    photo = Image.fromarray(np.clip(np.asarray(photo, float) + noise, 0, 255).astype(np.uint8))
    photo.save(tmp_path / "sheet.png")
    answer = json.loads(run_predict("--json", tmp_path / "sheet.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer.get("number") == "47", answer


def test_a_small_number_in_a_fat_marker_keeps_the_holes_of_its_loops(tmp_path, trained_model):
    """A photo of 300 written small in a fat marker: blur has nearly filled the holes of the 0s,
    which stay holes because they are far fainter than the strokes around them."""

    marker = browser.drawing(browser.written_narrow("300", 0.45, 100), width=340).filter(ImageFilter.MinFilter(13))
    small = marker.resize((34, 28), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(0.8))
    photo = Image.new("L", (194, 148), 235)
    photo.paste(Image.eval(small, lambda v: 30 + v * 205 // 255), (80, 60))
    noise = np.random.default_rng(0).normal(0, 2, (148, 194))
    Image.fromarray(np.clip(np.asarray(photo, float) + noise, 0, 255).astype(np.uint8)).save(tmp_path / "300.png")
    answer = json.loads(run_predict("--json", tmp_path / "300.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer.get("number") == "300", answer


def test_a_joining_stroke_written_apart_from_both_digits_is_left_out(tmp_path, trained_model):
    """17, 47 and 02 in joined-up writing, the pen lifted at both ends of the joining stroke: the
    stroke lies between the digits, apart from both, and is read as neither a digit nor a part of
    one (the code before read 67, 67 and 022)."""
    numbers = ("17", "47", "02")
    for number in numbers:
        browser.drawing(browser.written_joined(number, 0.45, 190, lifted=0.45), width=430).save(tmp_path / f"{number}.png")
    answers = [json.loads(line) for line in run_predict("--json", *(tmp_path / f"{n}.png" for n in numbers),
                                                        cwd=tmp_path, model=trained_model).stdout.splitlines()]
    assert [a.get("number") for a in answers] == list(numbers), answers


def test_a_number_in_broken_strokes_is_read_digit_for_digit(tmp_path, trained_model):
    """304 drawn with a pen 20 px wide that skips (chalk, a pen running dry), leaving gaps of 4 px:
    the dashes of one digit, nearly meeting, are joined for less than marks set apart (the code
    before read 3174)."""
    browser.drawing(browser.written_narrow("304", 0.45, 120), width=410, dashes=(40, 24),
                    pen_width=20).save(tmp_path / "304.png")
    answer = json.loads(run_predict("--json", tmp_path / "304.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer.get("number") == "304", answer


def test_a_narrow_2_in_a_photo_is_read_as_a_2_not_a_1(tmp_path, mnist, trained_model):
    """A photo of 42 on squared paper, the 2 written a third as wide as tall: read at MNIST's
    narrowest widths only, the 2 was a 1."""
    import photos

    images, labels = mnist["test"]
    data, label = photos.make_photo(np.random.default_rng(221), images.reshape(-1, 28, 28), labels, "squared", 2)
    (tmp_path / "42.jpg").write_bytes(data)
    answer = json.loads(run_predict("--json", tmp_path / "42.jpg", cwd=tmp_path, model=trained_model).stdout)
    assert label == "42" and answer.get("number") == "42", answer


def test_a_narrow_0_written_slanted_is_read_as_a_0(tmp_path, trained_model):
    """A 0 a third as wide as tall, in a fine pen, leaning 15 to 30 degrees: widened as it leans
    it was read as an 8; made upright first, it reads as a 0."""
    canvas = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(canvas).ellipse((152, 40, 248, 360), outline=0, width=5)
    for angle in (15, 20, 25, 30):
        canvas.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255).save(tmp_path / f"0_{angle}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert [line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines()] == ["0"] * 4, result.stdout


def test_a_narrow_digit_whose_slant_makes_it_look_wide_is_widened(tmp_path, trained_model):
    """Digits written a fifth to a quarter as wide as tall (written_digit's width factor 0.35),
    leaning about 30 degrees (slant 0.6), in a fine and a fat pen: the slant makes their box
    about as wide as tall, so they passed for wide enough and were read as they were, as 1s (the
    3, the 6 and the 8 of these, in both pens). Narrow once upright, they are also read upright
    and widened."""
    for digit in (0, 2, 3, 6, 8, 9):
        for pen in (4, 8):
            ink, _ = photos.written_digit(digit, 200, 0.35, 0.6, pen, np.random.default_rng(0))
            image = Image.fromarray(255 - (np.pad(ink, 60) * 255).astype(np.uint8))
            image.save(tmp_path / f"{digit}_{pen}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    answers = answers_by_file(result)
    assert len(answers) == 12 and all(answer == name[0] for name, answer in answers.items()), result.stdout


def answers_by_file(result):
    """{file name: the digit or number answered} from predict_image.py's lines for a folder
    ("path: 7 (confidence ...)" or "path: number 47 (...)")."""
    return {os.path.basename(path): answer.removeprefix("number ").split()[0]
            for path, answer in (line.split(": ", 1) for line in result.stdout.splitlines())}


def test_narrow_digits_whose_loops_a_fat_pen_filled_are_read_more_often_than_as_1s(tmp_path, trained_model):
    """4s, 6s, 8s and 9s written 0.4 of their natural width with a pen a fifth of their height:
    the pen fills their loops, and many are single strokes with a lump, which were read as 1s
    (8 to 12 of these 24 right with the tests', fast, 30- and 60-epoch models). Read half as a
    stick and half widened, 16 to 18 are; 1s in the same pen stay 1s."""
    rng = np.random.default_rng(5)
    for n, digit in enumerate([4] * 6 + [9] * 6 + [8] * 6 + [6] * 6 + [1] * 8):
        ink, _ = photos.written_digit(digit, 200, 0.4, 0.0, 40, rng)
        Image.fromarray(((1 - np.pad(ink, 40)) * 255).astype(np.uint8)).save(tmp_path / f"{digit}_{n:02d}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = {os.path.basename(a["path"]): a["digit"] for a in map(json.loads, result.stdout.splitlines())}
    assert len(answers) == 32
    right = [name for name, digit in answers.items() if int(name[0]) == digit]
    assert sum(name[0] == "1" for name in right) == 8, answers
    assert sum(name[0] != "1" for name in right) >= 15, answers


def test_a_narrow_loop_in_a_fat_pen_is_not_taken_for_a_1(tmp_path, trained_model):
    """A 0 and an 8 a tenth as wide as tall, in a pen almost half as wide as the digit: their ink
    spreads across no more than a straight stroke's, and they were read as sticks, 1s. Their
    holes say they are loops; a stroke of the same pen, a 1, is still a 1."""
    for name, shapes in {"0": [(185, 60, 215, 340)], "8": [(185, 60, 215, 200), (185, 195, 215, 340)]}.items():
        for pen in (12, 14):
            canvas = Image.new("L", (400, 400), 255)
            for box in shapes:
                ImageDraw.Draw(canvas).ellipse(box, outline=0, width=pen)
            canvas.save(tmp_path / f"{name}_{pen}.png")
    canvas = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(canvas).line((205, 60, 195, 340), fill=0, width=14)
    canvas.save(tmp_path / "1_14.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"0_12.png": "0", "0_14.png": "0", "1_14.png": "1", "8_12.png": "8",
                                       "8_14.png": "8"}, result.stdout


def test_a_printed_line_on_the_page_is_not_taken_for_the_number(tmp_path, mnist, trained_model):
    """A digit or a number written under a printed line (a worksheet's instruction, a form's
    label): the line's many small letters hold more ink than one digit, and were taken for the
    number (read as a dozen digits, or refused as more than 12); in a larger print, a letter half
    as tall as the digits was taken for a second row. The writing is the line whose ink weighs
    most by its height, and only marks as tall as its digits make a second row: each page is
    read as it is without the print, and most pages without it are read right (at least 10 of
    the 12 by the tests' model on the processors it has run on; its weights differ in their last
    bits from one processor to another)."""
    images, labels = mnist["test"]
    firsts = [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]
    cases = [[i] for i in firsts] + [firsts[3:6], firsts[7:9]]
    sizes = {"plain": None, "print": 40, "large print": 64}  # capitals about 0.3 and 0.5 of a digit's height
    for folder, size in sizes.items():
        (tmp_path / folder).mkdir()
        for k, indices in enumerate(cases):
            page = Image.new("L", (1100, 800), 225)
            for n, i in enumerate(indices):
                digit = Image.fromarray(images[i].reshape(28, 28)).resize((160, 160), Image.Resampling.BILINEAR)
                page.paste(0, (380 + 120 * n, 380), digit)
            if size:
                font = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"),
                                          size)
                ImageDraw.Draw(page).text((60, 320 - 1.2 * size), "Exercise 3. Write the answer below.", fill=30,
                                          font=font)
            page.filter(ImageFilter.GaussianBlur(1)).save(tmp_path / folder / f"{k:02d}.jpg", quality=90)
    answers = {folder: answers_by_file(run_predict(tmp_path / folder, cwd=tmp_path, model=trained_model))
               for folder in sizes}
    assert answers["print"] == answers["large print"] == answers["plain"]
    right = [answers["plain"][f"{k:02d}.jpg"] == "".join(str(labels[i]) for i in indices)
             for k, indices in enumerate(cases)]
    assert sum(right) >= 9, answers["plain"]


def test_a_line_far_taller_than_the_digit_beside_it_is_not_a_1(tmp_path, trained_model):
    """A sheet's margin line, turned with the sheet and shorter than the photo: a straight stroke
    three times as tall as the digit beside it is no digit of its line, not a 1 before it."""
    for name, strokes in {"0": None, "7": (250, 160, 300, 160, 262, 250)}.items():
        canvas = Image.new("L", (500, 400), 255)
        draw = ImageDraw.Draw(canvas)
        draw.line((110, 70, 60, 330), fill=90, width=3)
        if strokes:
            draw.line(strokes, fill=0, width=6)
        else:
            draw.ellipse((250, 160, 300, 250), outline=0, width=6)
        canvas.save(tmp_path / f"{name}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert answers_by_file(result) == {"0.png": "0", "7.png": "7"}, result.stdout


def test_a_number_written_in_boxes_or_ringed_is_read_without_them(tmp_path, trained_model):
    """470 written one digit to a box of a form (apart, or sharing their walls), over a form's
    comb (a line with short ticks rising from it between the digits and at its ends), or with a
    ring drawn around it, and its 7 alone in a box open at the top: a mark that holds a digit in
    its hole is no digit (a box with a digit in it was read as an 8), nor is a line under the
    digits, nor a tick shorter than a digit at either end of them (the comb's line went with the
    digits above it: 470 read 378; the open box and the 7 made a 2)."""
    strokes = [s for k, d in enumerate([4, 7, 0]) for s in browser.squeezed(browser.DIGITS[d], 70 + k * 150, 0.45)]
    written = Image.new("L", (720, 400), 255)
    written.paste(browser.drawing(strokes, width=600), (60, 60))
    ink = np.asarray(written) < 128
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digits = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    assert len(digits) == 3
    top, bottom = rows[0] - 18, rows[-1] + 18
    walls = [digits[0][0] - 18, (digits[0][-1] + digits[1][0]) // 2, (digits[1][-1] + digits[2][0]) // 2,
             digits[2][-1] + 18]
    frames = {"cells": [(columns[0] - 18, columns[-1] + 18) for columns in digits],  # boxes apart
              "shared": list(zip(walls, walls[1:])),  # boxes sharing their walls
              "ring": None, "comb": None}
    for name, boxes in frames.items():
        canvas = written.copy()
        draw = ImageDraw.Draw(canvas)
        for left, right in boxes or []:
            draw.rectangle((left, top, right, bottom), outline=0, width=3)
        if name == "ring":
            draw.ellipse((10, 10, 710, 390), outline=0, width=5)
        if name == "comb":
            draw.line((walls[0], bottom, walls[-1], bottom), fill=0, width=3)
            for wall in walls:
                draw.line((wall, bottom - 0.35 * (bottom - top), wall, bottom), fill=0, width=3)
        canvas.save(tmp_path / f"{name}.png")
    seven, (left, right), rise = Image.new("L", (720, 400), 255), digits[1][[0, -1]], 0.35 * (bottom - top)
    seven.paste(written.crop((left, 0, right + 1, 400)), (360 - (right - left) // 2, 0))
    half = 0.6 * (bottom - top)  # a box open at the top, wider than the 7 is tall
    ImageDraw.Draw(seven).line((360 - half, bottom - rise, 360 - half, bottom, 360 + half, bottom, 360 + half, bottom - rise),
                               fill=0, width=3)
    seven.save(tmp_path / "open.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = {os.path.basename(answer["path"]): str(answer.get("number", answer.get("digit")))
               for answer in map(json.loads, result.stdout.splitlines())}
    assert answers == {**{name + ".png": "470" for name in frames}, "open.png": "7"}, result.stdout


def test_why_explains_the_digit_answered_where_the_readings_are_averaged(tmp_path, trained_model):
    """A very narrow 2 in a fat pen is read at three widths: its input as shown reads 2, the
    average of the three readings 8. --why explains the digit answered."""

    drawn = browser.drawing(browser.written_narrow("2", 0.2, 100), width=200).filter(ImageFilter.MinFilter(9))
    drawn.save(tmp_path / "narrow.png")
    answer = json.loads(run_predict("--json", "--why", tmp_path / "narrow.png", cwd=tmp_path, model=trained_model).stdout)
    assert answer["why"]["digit"] == answer["digit"], answer["why"]
    lines = run_predict("--why", tmp_path / "narrow.png", cwd=tmp_path, model=trained_model).stdout.splitlines()
    assert lines[0].split(": ")[1].split()[0] == lines[1].split()[1].rstrip(":") == str(answer["digit"]), lines


def test_a_wide_mnist_digit_scaled_up_is_read_as_one_digit(tmp_path, mnist, trained_model):
    """MNIST's test digit 287, a 4 as wide as it is tall, at 280 x 280 white on black: no
    longer cut into a 6 and a 4 for its width."""
    import photos

    images, labels = mnist["test"]
    (tmp_path / "wide.png").write_bytes(photos.mnist_on_black(images[287].reshape(28, 28)))
    result = run_predict(tmp_path / "wide.png", cwd=tmp_path, model=trained_model)
    assert labels[287] == 4 and result.stdout.split(": ", 1)[1].split()[0] == "4", result.stdout


def test_a_digit_whose_stroke_runs_on_far_to_the_side_is_read_as_one_digit(tmp_path, mnist, trained_model):
    """MNIST's test digits 3436 (a 2) and 4583 (a 5) at 280 x 280: more than 1.5 times as wide as
    the line is tall, so no candidate held the whole digit, and they were read as 72 and 25."""
    import photos

    images, labels = mnist["test"]
    for k in (3436, 4583):
        (tmp_path / f"{k}.png").write_bytes(photos.mnist_on_black(images[k].reshape(28, 28)))
    result = run_predict("--json", tmp_path / "3436.png", tmp_path / "4583.png", cwd=tmp_path, model=trained_model)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a.get("digit") for a in answers] == [labels[3436], labels[4583]] == [2, 5], result.stdout


def test_a_digit_painted_with_a_brush_broader_than_the_background_window_is_read(tmp_path, mnist, trained_model):
    """MNIST's test digits 7816 and 7925, 6s so fat that at 280 x 280 their strokes are wider than
    the first window of the background's opening (a quarter of the image), and a 0 painted with a
    brush 80 px wide: each read as one digit, where the code before took the middle of the strokes
    for background and refused the pieces left as not one line."""
    import photos

    images, labels = mnist["test"]
    for k in (7816, 7925):
        (tmp_path / f"mnist_{k}.png").write_bytes(photos.mnist_on_black(images[k].reshape(28, 28)))
    painted = Image.new("L", (280, 280), 0)
    draw = ImageDraw.Draw(painted)
    draw.ellipse((55, 25, 225, 255), outline=255, width=80)
    painted.filter(ImageFilter.GaussianBlur(3)).save(tmp_path / "painted.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = {os.path.basename(a["path"]): a.get("digit") for a in map(json.loads, result.stdout.splitlines())}
    assert result.returncode == 0, result.stderr
    assert answers == {"mnist_7816.png": labels[7816], "mnist_7925.png": labels[7925], "painted.png": 0}, answers


def test_one_digit_drawn_large_is_never_cut(tmp_path, trained_model):
    for digit, strokes in browser.DIGITS.items():
        browser.drawing(strokes).save(tmp_path / f"{digit}.png")
    result = run_predict(*(tmp_path / f"{digit}.png" for digit in browser.DIGITS), cwd=tmp_path, model=trained_model)
    assert [line.split(": ")[1].split()[0] for line in result.stdout.splitlines()] == [str(d) for d in browser.DIGITS]


def test_a_stroke_below_and_far_to_the_side_of_a_digit_is_not_a_second_row(tmp_path, trained_model):
    """A 7 and, lower down and more than its height to the side of it, a stroke nearly as tall
    (a line of the paper's squares left by the rest of the grid): the digit is read, where the
    code before refused the image as not one line."""
    seven = [[(350 + 0.4 * x, 40 + 0.4 * y) for x, y in stroke] for stroke in browser.DIGITS[7]]
    browser.drawing(seven + [[(100, 180), (100, 250)]], width=500).save(tmp_path / "7.png")
    result = run_predict(tmp_path / "7.png", cwd=tmp_path, model=trained_model)
    assert result.returncode == 0 and result.stdout.split(": ", 1)[1].split()[0] == "7", result.stdout + result.stderr


def test_two_rows_of_digits_are_refused_whatever_their_overlap(tmp_path, mnist, trained_model):
    _, labels = mnist["test"]
    top, bottom = tmp_path / "top.png", tmp_path / "bottom.png"
    number_image(mnist, [int(np.flatnonzero(labels == d)[0]) for d in (2, 7)], top)
    number_image(mnist, [int(np.flatnonzero(labels == d)[0]) for d in (3, 4)], bottom)
    for shift in (0, 40):  # the rows right above each other, and the lower one moved right
        rows = [np.asarray(Image.open(top)), np.asarray(Image.open(bottom))]
        rows[1] = np.roll(rows[1], shift, axis=1)
        Image.fromarray(np.concatenate(rows)).save(tmp_path / f"rows{shift}.png")
        assert_clean_error(run_predict(tmp_path / f"rows{shift}.png", cwd=tmp_path, model=trained_model),
                           f"rows{shift}.png", "not in one line")


@pytest.mark.parametrize("more", [3, 4])
def test_a_number_small_in_a_large_photo_is_read_as_when_it_fills_the_photo(tmp_path, trained_model, more):
    # the README's photo with `more` times as much of its table and sheet around it: at the working
    # size its digits are some 20 px tall, and only a closer look at them reads them
    photo = np.asarray(Image.open(os.path.join(ROOT, "docs", "photo-number.jpg")).convert("RGB"))
    height, width = photo.shape[:2]
    top, left = height * (more - 1) // 2, width * (more - 1) // 2
    Image.fromarray(np.pad(photo, ((top, top), (left, left), (0, 0)), mode="edge")).save(
        tmp_path / "far.jpg", quality=90)
    result = run_predict("--json", os.path.join(ROOT, "docs", "photo-number.jpg"), tmp_path / "far.jpg",
                         cwd=tmp_path, model=trained_model)
    near, far = (json.loads(line) for line in result.stdout.splitlines())
    assert near["number"] == far["number"] == "2577", (near["number"], far["number"])
    for a, b in zip(near["digits"], far["digits"]):  # boxes in the file's own pixels
        assert np.abs(np.subtract(b["box"], a["box"]) - [left, top, left, top]).max() <= 4, (a["box"], b["box"])


def test_a_photo_cropped_close_around_its_number_is_read_as_the_whole_photo(tmp_path, trained_model):
    # at the crop's edges the 2 and the last 7 touch it, and the 1s and 7s of a number fill its
    # height: taken for the sheet's edge or a margin line, they were left out (read 257 or 57)
    photo = os.path.join(ROOT, "docs", "photo-number.jpg")
    whole = json.loads(run_predict("--json", photo, cwd=tmp_path, model=trained_model).stdout)
    boxes = np.array([d["box"] for d in whole["digits"]])
    left, top, right, bottom = *boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0)
    margin = round(0.02 * (bottom - top))
    Image.open(photo).crop((left - margin, top - margin, right + margin, bottom + margin)).save(
        tmp_path / "cropped.jpg", quality=90)
    cropped = json.loads(run_predict("--json", tmp_path / "cropped.jpg", cwd=tmp_path, model=trained_model).stdout)
    assert whole["number"] == cropped["number"] == "2577", (whole["number"], cropped["number"])


def test_a_number_drawn_on_a_computer_and_cropped_close_keeps_its_1s(tmp_path, trained_model):
    """Numbers drawn as the drawing page draws them, cropped to their ink with a margin of 8 to
    20 px: each 1 runs across most of the image's height, and was taken for a margin line and
    left out (1041 read 04, 311 read 3, 7114 read 74), as in a close-cropped photo."""
    for number in ("1041", "311", "7114", "2113"):
        drawn = browser.drawing(browser.written_narrow(number, 0.45, 100), width=100 * len(number) + 60)
        left, top, right, bottom = ImageOps.invert(drawn).getbbox()
        for margin in (8, 12, 20):
            drawn.crop((left - margin, top - margin, right + margin, bottom + margin)).save(tmp_path / f"{number}_{margin}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    assert len(answers) == 12 and all(answer == name.split("_")[0] for name, answer in answers.items()), answers


def test_a_close_crop_of_squared_paper_keeps_the_straight_strokes_of_its_digits(tmp_path, mnist, trained_model):
    # a photo of 6511678 cropped to 60 px tall around it: a line of the paper is a run a third of
    # the image long, so the straight strokes of the 6, the 1s and the 7 were taken for lines of
    # the paper, and what was left of the digits was refused as several lines of writing
    images, labels = mnist["test"]
    rng = np.random.default_rng(1015)
    count = int(rng.integers(5, 9))
    data, label = photos.make_photo(rng, images.reshape(-1, 28, 28), labels, "squared", count)
    Image.open(io.BytesIO(data)).crop((352, 386, 573, 446)).save(tmp_path / "crop.jpg", quality=90)
    result = run_predict(tmp_path / "crop.jpg", cwd=tmp_path, model=trained_model)
    assert label == "6511678" and f"crop.jpg: number {label} " in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("angle", [-20, 20])
def test_a_photo_turned_from_level_is_read_as_the_upright_one(tmp_path, trained_model, angle):
    # the README's photo as a phone held askew takes it: turned, and the middle of it kept; its
    # digits run up or down a fifth of their height from one to the next (refused before the row
    # was turned level: "the marks are not in one line")
    photo = Image.open(os.path.join(ROOT, "docs", "photo-number.jpg")).convert("RGB")
    width, height = photo.size
    left, top = width // 5, height // 5
    photo.rotate(angle, Image.Resampling.BICUBIC).crop((left, top, width - left, height - top)).save(
        tmp_path / "turned.jpg", quality=90)
    result = run_predict("--json", os.path.join(ROOT, "docs", "photo-number.jpg"), tmp_path / "turned.jpg",
                         cwd=tmp_path, model=trained_model)
    upright, turned = (json.loads(line) for line in result.stdout.splitlines())
    assert upright["number"] == turned["number"] == "2577", (upright["number"], turned["number"])
    theta = np.radians(angle)  # each box's middle, turned back, is the upright digit's middle
    for a, b in zip(upright["digits"], turned["digits"]):
        x, y = (b["box"][0] + b["box"][2]) / 2 + left - width / 2, (b["box"][1] + b["box"][3]) / 2 + top - height / 2
        back = (width / 2 + x * np.cos(theta) - y * np.sin(theta), height / 2 + x * np.sin(theta) + y * np.cos(theta))
        middle = ((a["box"][0] + a["box"][2]) / 2, (a["box"][1] + a["box"][3]) / 2)
        assert np.hypot(*np.subtract(back, middle)) <= 0.1 * (a["box"][3] - a["box"][1]), (a["box"], b["box"], back)


def test_a_line_drawn_under_or_over_a_number_is_no_digit(tmp_path, trained_model):
    """Numbers with a line drawn under them, apart from or touching their digits, or over them.
    A line touching the digits made one mark of them, and its stretches were read with them (40
    read 30, 06 read 26, 739 read 323). A level stroke longer than a digit is tall is no digit's."""
    for number in ("40", "06", "739"):
        for where in ("under", "touching", "over"):
            underlined(number, where, np.random.default_rng(0)).save(tmp_path / f"{number}_{where}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    assert len(answers) == 9 and all(answer == name.split("_")[0] for name, answer in answers.items()), answers


def test_a_digit_underlined_or_a_number_underlined_short_of_its_ends_is_read_without_the_line(
        tmp_path, trained_model):
    """Each digit other than 1 with a line under it and over it (a sum's result), apart from it,
    a little wider than the digit and shorter than it is tall; and numbers whose underline, apart
    from them, starts under the middle of their first digit or ends under the middle of their
    last; each on a page 200 px wider on every side. A line under or over one digit was read with
    it, and so was an underline that did not run past both ends of a number: 16 of these 24 were
    misread (0 read 8, 2 read 5, 536 read 535, 90 read 30)."""
    rng = np.random.default_rng(3)
    images = {f"{digit}_{where}": underlined(digit, where, rng, reach=(10, 10))
              for digit in "023456789" for where in ("under", "over")}
    for number in ("536", "2847", "90"):
        images[f"{number}_short_left"] = underlined(number, "under", rng, reach=(-20, 10))
        images[f"{number}_short_right"] = underlined(number, "under", rng, reach=(10, -20))
    for name, image in images.items():
        ImageOps.expand(image, 200, fill=255).save(tmp_path / f"{name}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    wrong = {name: answer for name, answer in answers.items() if answer != name.split("_")[0]}
    assert len(answers) == 24 and len(wrong) <= 2, wrong


def test_a_7_underlined_no_wider_than_itself_is_read_as_a_7(tmp_path, trained_model):
    """Eight 7s with a line under them, apart, from the 7's left end to its right (pens 6 to 13 px
    on a 90 px digit), on a page 200 px wider on every side. Such a line does not run past the
    digit, and a 7 with a stroke under it is a 2: all eight were read as 2, 3 or 8. A line apart
    from a lone digit, under it, whose ends are clear of it, is an underline."""
    rng = np.random.default_rng(5)
    for k in range(8):
        ImageOps.expand(underlined("7", "under", rng, reach=(0, 0), pen=6 + k), 200, fill=255).save(
            tmp_path / f"7_{k}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    assert len(answers) == 8 and sum(answer == "7" for answer in answers.values()) >= 6, answers


def test_a_foot_running_on_level_into_the_next_digit_is_no_underline(tmp_path, trained_model):
    """32 written in one stroke along the bottom: the pen leaves the 3's lowest point and runs on,
    level, into the 2's foot (pens 6 to 14 px, the digits 60 to 140 px apart). That level stroke
    was taken for a line under the number and taken away, with the 2's foot: all nine read 37.
    Taking it away leaves the end of the 3's bowl as a curved piece of a digit, which a line drawn
    under a number does not."""
    def arc(middle, radii, start, stop):
        angles = np.radians(np.linspace(start, stop, 24))
        return np.array(middle) + np.array(radii) * np.column_stack([np.cos(angles), np.sin(angles)])

    three = [arc((80, 70), (30, 22), -150, 90), arc((80, 125), (34, 32), -90, 180)]  # its bowl ends curling up
    for pen in (6, 10, 14):
        for run in (60, 100, 140):
            two = np.array([(120, 80), (140, 50), (175, 50), (185, 80), (120, 157), (200, 157)]) + (run, 0)
            foot = np.array([(80, 157), (120 + run, 157)])
            ink = photos.pen_image(three + [foot, two], (300 + run, 220), pen)
            Image.fromarray(255 - (ink * 255).astype(np.uint8)).save(tmp_path / f"32_{pen}_{run}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    assert len(answers) == 9 and all(answer == "32" for answer in answers.values()), answers


def underlined(number, where, rng, reach=(8, 8), pen=6):
    """A PIL image of `number` written (tests/photos.py's written_digit, 90 px tall) with a line
    drawn `where`: "under" it a little apart, "touching" its lowest digit, or "over" it, from
    reach[0] px left of the writing to reach[1] px right of it (< 0: inside it), by a `pen` px pen."""
    ink = written_number(number, rng, pen, 30, 60, 220)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    y = {"under": rows[-1] + 5 + pen, "touching": rows[-1] - 2, "over": rows[0] - 5 - pen}[where]
    line = photos.pen_image([np.array([(cols[0] - reach[0], y), (cols[-1] + reach[1], y + rng.uniform(-4, 4))])],
                            ink.shape[::-1], pen)
    return Image.fromarray(255 - (np.maximum(ink, line) * 255).astype(np.uint8))


def test_a_ring_drawn_through_the_first_and_last_digits_or_touching_a_lone_digit_is_taken_out(tmp_path, trained_model):
    """Numbers with a ring drawn around them that runs through their first and last digits (its
    sides 4 or 12 px inside the writing's ends), and single digits whose ring touches their sides
    or runs through them a little (its sides 2 px beyond them or inside them). A ring that touches
    a digit is one mark with it: that mark was taken out whole as a frame (the number lost its
    first and last digits: 536 read 3, 2847 read 84) or, holding no other mark, read whole (as a
    0, an 8, or a number): 2 of the 10 numbers were read with as many digits as they have, 2 of the
    26 images right. Only the ring is taken out now: 10 and 14 with the tests' model."""
    rng = np.random.default_rng(3)
    for number in ("536", "2847", "90", "4176", "382"):
        for side in (-12, -4):
            ImageOps.expand(ringed_number(number, side, rng), 100, fill=255).save(tmp_path / f"{number}_{side}.png")
    for digit in "02345678":
        for side in (2, -2):
            ImageOps.expand(ringed_number(digit, side, rng), 100, fill=255).save(tmp_path / f"{digit}_{side}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    numbers = {name: answer for name, answer in answers.items() if len(name.split("_")[0]) > 1}
    assert len(numbers) == 10 and sum(len(answer) == len(name.split("_")[0]) for name, answer in numbers.items()) >= 9, numbers
    assert sum(answer == name.split("_")[0] for name, answer in answers.items()) >= 11, answers


def written_number(number, rng, pen, side, top, height):
    """An ink image (floats in [0, 1], `height` px tall) of `number` written in tests/photos.py's hand
    (written_digit, about 90 px tall, 18 px apart) by a `pen` px pen, `side` px from the image's
    left and right edges and about `top` px from its top."""
    digits = [photos.written_digit(int(d), 90 * rng.uniform(0.9, 1.1), rng.uniform(0.6, 1.0), rng.uniform(-0.15, 0.15),
                                   pen, rng)[0] for d in number]
    ink = np.zeros((height, 2 * side + sum(digit.shape[1] + 18 for digit in digits)), np.float32)
    x = side
    for digit in digits:
        y = top + int(rng.uniform(-5, 5))
        place = ink[y:y + digit.shape[0], x:x + digit.shape[1]]
        np.maximum(place, digit, out=place)
        x += digit.shape[1] + 18
    return ink


def ringed_number(number, side, rng, pen=6):
    """A PIL image of `number` written (tests/photos.py's written_digit, 90 px tall) with a ring
    drawn around it by a `pen` px pen, 1.3 times as tall as the writing, its sides `side` px beyond
    the writing's ends (< 0: inside them, through the first and last digits)."""
    ink = written_number(number, rng, pen, 80, 100, 300)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    across, tall = (cols[-1] - cols[0]) / 2 + side, 0.65 * (rows[-1] - rows[0])
    angles = np.linspace(0, 2 * np.pi, 200) + rng.uniform(0, 2 * np.pi)
    ring = np.column_stack([(cols[0] + cols[-1]) / 2 + across * np.cos(angles), (rows[0] + rows[-1]) / 2 + tall * np.sin(angles)])
    return Image.fromarray(255 - (np.maximum(ink, photos.pen_image([ring], ink.shape[::-1], pen)) * 255).astype(np.uint8))


def test_a_small_number_beside_faint_hairlines_is_read_without_an_error(tmp_path, trained_model):
    """470 written 70 px tall above a row of 1-px grey ticks (a form's comb). A line of writing
    this small is enlarged before it is cut, and the enlarging spreads a hairline's ink until
    none of it is dark enough to be a stroke: the mark was left with no pixels, and reading the
    line failed with a traceback."""
    strokes = [s for k, d in enumerate([4, 7, 0]) for s in browser.squeezed(browser.DIGITS[d], 40 + k * 100, 0.45)]
    page = Image.new("L", (512, 300), 255)
    page.paste(browser.drawing(strokes, width=400).resize((70, 70)), (100, 100))
    draw = ImageDraw.Draw(page)
    for k in range(9):
        draw.line((95 + k * 10, 142, 95 + k * 10, 166), fill=128, width=1)
    page.save(tmp_path / "form.png")
    result = run_predict(tmp_path / "form.png", cwd=tmp_path, model=trained_model)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert re.fullmatch(r".*form\.png: number \d+ \(confidence .*\)\n", result.stdout), result.stdout


def lit_sheet(height, width, rng, noise):
    """A photo of a blank sheet, height x width gray levels (float32) lit from its top left corner,
    with noise of standard deviation `noise` drawn from `rng`."""
    rows, cols = np.mgrid[0:height, 0:width] / width
    return (0.95 - 0.12 * rows - 0.08 * cols + rng.normal(0, noise, rows.shape)).astype(np.float32)


def test_a_number_written_in_a_hairline_pen_is_read_whole(tmp_path, trained_model):
    """16 numbers of 3 to 5 digits written 90 px tall by a 1 px pen on a photo of a sheet 1200 x 900
    px lit from one corner. Its stroke falls now on one pixel, now across two, and where the strokes
    are found it is broken into dashes: 3 of the photos were refused as marks not in one line and
    10 read right. Hairlines are thickened by a pixel where the line is read: none refused, 14 right
    with the tests' model."""
    for k in range(16):
        rng = np.random.default_rng(100 + k)
        number = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 6))))
        ink = written_number(number, rng, 1.0, 40, 40, 180)
        page = lit_sheet(900, 1200, rng, 0.015)
        left = (1200 - ink.shape[1]) // 2
        page[300:300 + ink.shape[0], left:left + ink.shape[1]] -= 0.8 * ink
        photo = Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
        photo.save(tmp_path / f"{number}_{k}.jpg", quality=85)
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert result.stderr == "", result.stderr
    answers = answers_by_file(result)
    assert sum(answer == name.split("_")[0] for name, answer in answers.items()) >= 13, answers


def pencil_drawing(number, rng):
    """The digits of `number` in the written hand's forms (photos.written_strokes) drawn as a paint
    program's pencil draws them, a pixel wide and without smoothing, black on a white canvas 150
    to 500 px tall that holds only black and white (mode 1)."""
    height = int(rng.integers(150, 500))
    tall = height * rng.uniform(0.5, 0.8)
    wide, gap = tall * rng.uniform(0.4, 0.65), tall * rng.uniform(0.15, 0.4)
    canvas = Image.new("1", (int(0.3 * height + len(number) * (wide + gap)), height), 1)
    draw = ImageDraw.Draw(canvas)
    for k, digit in enumerate(number):
        for stroke in photos.written_strokes(int(digit), rng):
            draw.line([(0.15 * height + k * (wide + gap) + x * wide, (height - tall) / 2 + y * tall) for x, y in stroke],
                      fill=0, width=1)
    return canvas


def test_a_number_drawn_with_a_pencil_a_pixel_wide_is_read_whole(tmp_path, trained_model):
    """20 drawings of 1 to 5 digits with a paint program's pencil, a pixel wide (pencil_drawing).
    An image made on a computer was never taken to have hairlines: its pencil strokes, shrunk to
    the working size, faded into dashes (4 refused as marks not in one line), and where one ran
    aslant, its pixels meeting only at their corners, a cut passed between them for free (a 1
    read as 52, 188 as 78383): 10 read right with the tests' model (9 to 11 with the fast,
    30-epoch and 60-epoch models). Thickened as a fine pen's are: 1 refused, 16 right (15 with
    the others)."""
    for k in range(20):
        rng = np.random.default_rng(7000 + k)
        number = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(1, 6))))
        pencil_drawing(number, rng).save(tmp_path / f"{number}_{k}.png")
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    refused = result.stderr.splitlines()
    assert all("not in one line" in line for line in refused) and len(refused) <= 2, result.stderr
    answers = answers_by_file(result)
    assert sum(answer == name.split("_")[0] for name, answer in answers.items()) >= 13, answers


def test_a_digit_written_wide_is_read_as_one_digit(tmp_path, mnist, trained_model):
    """MNIST's first 40 test digits redrawn 1.5 to 1.9 times as wide as written, 120 px tall, on a
    photo of a sheet lit from one corner. A candidate digit paid for its width from the line's
    height on, and a wide digit cut in two, each half read surely, scored better: 8 were read as
    two digits (a 0 as 57, a 7 as 77) and 25 right. Its width is paid from 1.4 line heights on: 2
    read as two digits, 30 right with the tests' model."""
    images, labels = mnist["test"]
    for k in range(40):
        rng = np.random.default_rng(400 + k)
        digit, _ = photos.redrawn_mnist(images[k].reshape(28, 28), 120, rng.uniform(1.5, 1.9), rng.uniform(-0.2, 0.2), 7)
        page = lit_sheet(600, 800, rng, 0.02)
        top, left = (600 - digit.shape[0]) // 2, (800 - digit.shape[1]) // 2
        page[top:top + digit.shape[0], left:left + digit.shape[1]] -= 0.75 * digit
        photo = Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0))
        photo.save(tmp_path / f"{labels[k]}_{k}.jpg", quality=80)
    result = run_predict(tmp_path, cwd=tmp_path, model=trained_model)
    assert result.stderr == "", result.stderr
    answers = answers_by_file(result)
    assert len(answers) == 40 and sum(len(answer) > 1 for answer in answers.values()) <= 3, answers
    assert sum(answer == name.split("_")[0] for name, answer in answers.items()) >= 28, answers


def test_a_number_slanted_further_than_mnist_is_read_with_its_slant_brought_back(tmp_path, mnist, trained_model):
    """60 photos, 800 x 600, of numbers of 2 to 5 digits on paper in tests/photos.py's `slanted`
    framing: its hands lean 0.35 to 0.7 columns per row (19 to 35 degrees) either way, more than
    that where MNIST's digits, redrawn, leaned already. MNIST's digits lean from 0.35 columns per
    row to the left to 0.7 to the right (all but 10%): read as written, 33 were read right with the
    tests' model; read with the line's rows moved back to that slant, 39 (on another processor,
    whose tests' model differs in its last bits, 32 and 36)."""
    images, labels = mnist["test"]
    for k in range(60):
        rng = np.random.default_rng(5000 + k)
        family = photos.PAPER_FAMILIES[k % 3]
        photo, number = photos.make_photo(rng, images.reshape(-1, 28, 28), labels, family, int(rng.integers(2, 6)),
                                          size=(800, 600), framing="slanted")
        (tmp_path / f"{number}_{k}.jpg").write_bytes(photo)
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))  # one is refused: not one line
    assert sum(answer == name.split("_")[0] for name, answer in answers.items()) >= 35, answers


def test_a_0_holding_a_tick_and_a_dot_is_read_as_a_0_not_taken_for_a_ring(tmp_path, trained_model):
    """Numbers whose 0 holds two small marks: a tick under its top where the pen started and a dot
    above its bottom (a pen touching down twice), each about a tenth of the 0's height. A ring drawn
    around the writing holds something at least MIN_HEIGHT as tall as itself; the two marks together
    spanned most of the 0, so a 0 that was the line's largest mark was taken for a ring and left
    out: 10 was read 1, 108 read 18 and 60 read 6 (3 of the 8, with the tests' model). What a ring
    holds must be one mark that tall: all 8 are read right."""
    rng = np.random.default_rng(5)
    for number in ("10", "502", "704", "30", "108", "60", "2041", "90"):
        ink = np.zeros((260, 120 * len(number) + 160), np.float32)
        for k, d in enumerate(number):
            x = 80 + 120 * k
            if d == "0":
                zero = Image.new("L", (70, 100), 0)
                draw = ImageDraw.Draw(zero)
                draw.ellipse((4, 4, 66, 96), outline=255, width=7)
                draw.line((34, 13, 35, 24), fill=255, width=5)  # the tick under its top
                draw.ellipse((31, 78, 39, 86), fill=255)  # the dot above its bottom
                digit = np.asarray(zero, np.float32) / 255
            else:
                digit = photos.written_digit(int(d), 100, rng.uniform(0.7, 1.0), 0.0, 7, rng)[0]
            place = ink[80:80 + digit.shape[0], x:x + digit.shape[1]]
            np.maximum(place, digit[:place.shape[0], :place.shape[1]], out=place)
        Image.fromarray(255 - (ink * 255).astype(np.uint8)).save(tmp_path / f"{number}.png")
    answers = answers_by_file(run_predict(tmp_path, cwd=tmp_path, model=trained_model))
    assert all(answer.count("0") == name.split(".")[0].count("0") for name, answer in answers.items()), answers
    assert sum(answer == name.split(".")[0] for name, answer in answers.items()) >= 6, answers


def pasted_writing(number, size, at, rng, height=150):
    """(PIL image, ink boxes): `number` written (tests/photos.py's written_digit, `height` px tall,
    30 px apart) in dark ink on a light page of `size`, starting at `at`; each digit's box (left,
    top, right, bottom) around its ink."""
    page, (x, y), boxes = Image.new("L", size, 250), at, []
    for d in number:
        digit = photos.written_digit(int(d), height, 0.9, 0.05, 12, rng)[0]
        page.paste(0, (x, y), Image.fromarray((digit * 255).astype(np.uint8)))
        rows, cols = np.nonzero(digit > 0.5)
        boxes.append([x + cols.min(), y + rows.min(), x + cols.max() + 1, y + rows.max() + 1])
        x += digit.shape[1] + 30
    return page, boxes


def test_writing_small_in_a_long_narrow_image_is_read_closer_with_its_boxes_in_place(tmp_path, trained_model):
    """A digit 150 px tall or a number 160 px tall in an image 15,000-16,000 px long and a few hundred
    wide (a phone's scrolling screenshot, a strip of a scan), far from its top or left. At the
    working size (512 px long) such an image is 10 px wide: the file's pixels per working pixel are
    32 across and 31.25 down, and the part to look at closer was placed with the first (4% off: a
    digit 11,000 px down was missed by more than the margin); a part larger than 512 px was never
    looked at closer, though the file has 30 times the working size's pixels of it; and the
    margin of a line 5 px tall there left out a digit its first look had not found. With the
    tests' model, 14 of the 20 single digits were read right (4 of the 10 in tall images), 582
    was read 82 and 2604 read 6; now all are read right, each digit's box within 2 px of its ink."""
    rng = np.random.default_rng(2)
    for d in range(10):
        pasted_writing(str(d), (320, 16000), (100, 9000 + 500 * d), rng)[0].save(tmp_path / f"tall_{d}.png")
        pasted_writing(str(d), (16000, 320), (9000 + 500 * d, 100), rng)[0].save(tmp_path / f"wide_{d}.png")
    inked = {}
    for name, number, size, at in (("tall", "582", (700, 15000), (120, 11000)), ("wide", "2604", (15000, 500), (11000, 150))):
        page, inked[number] = pasted_writing(number, size, at, rng, 160)
        page.save(tmp_path / f"{name}_{number}.png")
    result = run_predict("--json", tmp_path, cwd=tmp_path, model=trained_model)
    answers = {os.path.basename(a["path"]).split(".")[0]: a for a in map(json.loads, result.stdout.splitlines())}
    singles = {name: a.get("digit") for name, a in answers.items() if len(name.split("_")[1]) == 1}
    assert len(singles) == 20 and sum(str(d) == name.split("_")[1] for name, d in singles.items()) >= 18, singles
    for number, boxes in inked.items():
        read = next(a for name, a in answers.items() if name.endswith(number))
        assert read.get("number") == number, read
        assert np.abs(np.array([d["box"] for d in read["digits"]]) - np.array(boxes)).max() <= 2, (read["digits"], boxes)
