"""Photos and images of handwritten digits and numbers (tests/photos.py), read by predict_image.py
in benchmarks/photos.py's table.

The model is the tests' own (conftest.trained_model: the fast recipe cut to 4 epochs). The floors,
on groups of the families of tests/photos.py, sit well below what it reads: on this test's seed
(2026) and on seeds 1 to 5 at the same size, at least 0.92 of single digits on paper, 0.75 of
chalk and computer, 0.5 of numbers and 0.93 of the MNIST digits; the fast and augmented
recipes read more (README: Photos and numbers). So they catch a step that breaks, not the luck
of a few images or a model.
"""

import collections
import io
import os

import matplotlib
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage, signal

import photos
from conftest import run_script

PER_GROUP = 4  # images of each family and kind
MNIST_ON_BLACK = 60  # MNIST test digits at 280x280, white on black
FLOORS = {  # see above
    "single digits on paper": 0.7,
    "single digits, chalk and computer": 0.55,
    "numbers": 0.2,
    "mnist280": 0.88,
}


@pytest.mark.slow
def test_photos_of_digits_and_numbers_are_read(tmp_path, trained_model):
    """benchmarks/photos.py as a user runs it: it writes the images (kept with --folder) and prints
    the table of what predict_image.py reads right, one row per family and kind, and the totals."""
    folder = tmp_path / "images"
    result = run_script("benchmarks/photos.py", trained_model, "--per-group", PER_GROUP, "--mnist", MNIST_ON_BLACK,
                        "--seed", 2026, "--folder", folder, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    shares = {row.split(" | ")[0].lstrip("| "): float(row.split(" | ")[1].rstrip(" |%")) / 100
              for row in result.stdout.splitlines() if row.startswith("| ") and "%" in row}
    assert len(shares) == 13  # 5 families x 2 kinds, 3 totals
    names = os.listdir(folder)
    assert len(names) == 10 * PER_GROUP + MNIST_ON_BLACK
    assert sum(name.startswith("mnist280_single_") for name in names) == MNIST_ON_BLACK
    read = {"single digits on paper": shares["all single digits on paper"],
            "single digits, chalk and computer": (shares["one digit, chalk on a dark board"]
                                                  + shares["one digit, made on a computer"]) / 2,
            "numbers": shares["all numbers"],
            "mnist280": shares["MNIST test digits at 280x280, white on black"]}
    for group, floor in FLOORS.items():
        assert read[group] >= floor, (group, read[group])


@pytest.mark.parametrize("family", ["plain", "board"])
def test_a_photo_is_framed_far_or_close_around_the_same_writing_or_printed_beside_it(mnist, family):
    images, labels = mnist["test"]
    records = {framing: {} for framing in photos.FRAMINGS}  # how each was written
    shots = {framing: photos.make_photo(np.random.default_rng(7), images.reshape(-1, 28, 28), labels, family, 3,
                                        size=(600, 450), framing=framing, record=records[framing])
             for framing in photos.FRAMINGS}
    assert len({label for _, label in shots.values()}) == 1
    normal, far, close, turned, printed, underlined, ringed, fine, wide, slanted, abroad, unjoined = (
        Image.open(io.BytesIO(shots[framing][0])) for framing in photos.FRAMINGS)
    assert far.size == (photos.FAR * normal.size[0], photos.FAR * normal.size[1]) and turned.size == normal.size
    assert np.abs(np.subtract(turned.convert("L"), normal.convert("L"), dtype=np.float32)).mean() > 2  # the sheet moved
    gray = np.asarray(close.convert("L"), np.float32)
    written = np.abs(gray - np.median(gray)) > 60
    rows, cols = np.flatnonzero(written.any(axis=1)), np.flatnonzero(written.any(axis=0))
    margin = photos.CLOSE[1] * (rows[-1] - rows[0] + 1) + 2  # the widest margin, and a pixel of blur each side
    assert max(rows[0], gray.shape[0] - 1 - rows[-1], cols[0], gray.shape[1] - 1 - cols[-1]) <= margin
    assert close.size[0] < normal.size[0] / 2 and close.size[1] < normal.size[1] / 2
    whole = np.asarray(normal.convert("L"), np.float32)  # the close photo is a part of the normal one
    match = signal.fftconvolve(whole - whole.mean(), (gray - gray.mean())[::-1, ::-1], mode="valid")
    top, left = np.unravel_index(np.argmax(match), match.shape)
    assert np.abs(whole[top:top + gray.shape[0], left:left + gray.shape[1]] - gray).mean() < 3  # JPEG's error
    printed = np.asarray(printed.convert("L"), np.float32)  # the normal photo with a line of print ...
    added = np.abs(printed - whole) > 60
    assert added.sum() > 100 and np.abs(printed - whole)[~ndimage.binary_dilation(added, iterations=8)].mean() < 2
    writing = np.zeros(whole.shape, bool)  # ... clear of the writing (within the close photo's part of it)
    writing[top:top + gray.shape[0], left:left + gray.shape[1]] = written
    assert not (ndimage.binary_dilation(writing, iterations=3) & added).any()
    for drawn in (underlined, ringed):  # the same photo, with a line or a ring drawn by the writer's pen
        assert drawn.size == normal.size
        assert (np.asarray(drawn.convert("L")) != np.asarray(normal.convert("L"))).any()
    if family == "board":  # chalk is never a fine pen
        assert shots["fine"][0] == shots["normal"][0]
    else:  # the same photo, the writing in a finer pen: far less of it is ink
        thin = np.asarray(fine.convert("L"), np.float32)
        part = (slice(top, top + gray.shape[0]), slice(left, left + gray.shape[1]))  # around the writing
        inked = [np.count_nonzero(np.abs(g[part] - np.median(g[part])) > 40) for g in (whole, thin)]
        assert fine.size == normal.size and 0 < inked[1] < 0.6 * inked[0], inked
        fine_pen, pen = records["fine"]["pen"], records["normal"]["pen"]  # shares of the digits' height (at least 24 px)
        assert fine_pen < pen and fine_pen <= max(photos.FINE[1], 1 / 24), records
    written, wider = records["normal"], records["wide"]  # the same hand, writing wider
    assert photos.HAND_WIDTHS[0] <= written["width"] <= photos.HAND_WIDTHS[1] < wider["width"], records
    assert wider["width"] <= photos.WIDE_HAND[1] and written["hand"] == wider["hand"], records
    assert wide.size == normal.size and np.abs(np.subtract(wide.convert("L"), normal.convert("L"), dtype=np.float32)).max() > 60
    upright, leaning = records["normal"], records["slanted"]  # the same hand, leaning the same way further
    assert abs(upright["slant"]) <= photos.HAND_SLANT <= abs(leaning["slant"]) <= photos.SLANTED_HAND[1], records
    assert np.sign(upright["slant"]) == np.sign(leaning["slant"]) and upright["hand"] == leaning["hand"], records
    assert slanted.size == normal.size and np.abs(np.subtract(slanted.convert("L"), normal.convert("L"), dtype=np.float32)).max() > 60
    assert abroad.size == normal.size and records["abroad"] == records["normal"]  # the same hand, the same draw
    assert unjoined.size == normal.size and records["unjoined"]["joined"] == 0  # see the test below


def test_framed_unjoined_a_number_is_the_same_writing_without_its_joining_strokes(mnist):
    """Whether two neighbours are joined is drawn whether or not the stroke is then drawn: framed
    unjoined, a number is the same writing less its joining strokes, and one whose digits were not
    joined is the same image, byte for byte."""
    images, labels = mnist["test"]
    seen = collections.Counter()
    for seed in range(12):
        records = {"normal": {}, "unjoined": {}}
        shots = {framing: photos.make_photo(np.random.default_rng(seed), images.reshape(-1, 28, 28), labels, "screen",
                                            5, framing=framing, record=record) for framing, record in records.items()}
        joined = records["normal"]["joined"]
        assert shots["normal"][1] == shots["unjoined"][1] and records["unjoined"] == {**records["normal"], "joined": 0}
        normal, unjoined = (np.asarray(Image.open(io.BytesIO(shot)).convert("L"), np.float32) for shot, _ in shots.values())
        if joined == 0:
            assert shots["normal"][0] == shots["unjoined"][0]
        elif normal.shape == unjoined.shape:  # drawn on the same canvas (a joining stroke may widen the writing's box)
            background = normal[0, 0]  # a paint program's canvas, light or dark
            ink, less = np.abs(normal - background), np.abs(unjoined - background)
            assert (less <= ink).all() and (less < ink - 100).any(), seed  # ink taken away, none added
        seen["same" if joined == 0 else "less" if normal.shape == unjoined.shape else "boxed"] += 1
    assert seen["same"] >= 2 and seen["less"] >= 3, seen


def test_a_digit_alone_is_the_numbers_image_with_only_that_digit_written(mnist):
    """make_photo with `alone` draws the whole number as before and writes only its i-th digit,
    where it stands: on a computer's canvas (PNG, no noise), each digit's image is the number's
    image less ink, and where no stroke joins two digits, the number's ink is its digits' together,
    pixel for pixel; a photo is the same sheet in the same light, the one digit where it was."""
    images, labels = mnist["test"]
    seen = collections.Counter()
    for seed in range(8):
        record = {}
        normal, label = photos.make_photo(np.random.default_rng(seed), images.reshape(-1, 28, 28), labels, "screen", 4,
                                          record=record)
        whole = np.asarray(Image.open(io.BytesIO(normal)).convert("L"), np.float32)
        background = whole[0, 0]
        alone = []
        for i in range(4):
            shot, own_label = photos.make_photo(np.random.default_rng(seed), images.reshape(-1, 28, 28), labels,
                                                "screen", 4, alone=i)
            assert own_label == label
            gray = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), np.float32)
            assert gray.shape == whole.shape and (np.abs(gray - background) <= np.abs(whole - background)).all()
            assert (np.abs(gray - background) > 100).any()  # its digit is there
            alone.append(np.abs(gray - background))
        assert all((np.abs(alone[i] - alone[j]) > 100).any() for i in range(4) for j in range(i))  # each its own
        if record["joined"] == 0:
            assert np.array_equal(np.max(alone, axis=0), np.abs(whole - background)), seed
        seen[record["joined"] == 0] += 1
    assert seen[True] >= 2 and seen[False] >= 2, seen
    shots = [Image.open(io.BytesIO(photos.make_photo(np.random.default_rng(3), images.reshape(-1, 28, 28), labels,
                                                     "ruled", 3, size=(600, 450), alone=alone)[0]))
             for alone in (None, 1)]
    whole, one = (np.asarray(shot.convert("L"), np.float32) for shot in shots)
    taken = np.abs(whole - one) > 60  # the other digits
    assert one.shape == whole.shape and taken.any() and (whole[taken] < one[taken]).all()
    rows, cols = np.nonzero(taken)
    outside = np.ones(whole.shape, bool)
    outside[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = False
    assert np.abs(whole - one)[outside].mean() < 2  # beyond the writing, the same photo (JPEG's error)


def test_framed_abroad_a_1_has_a_long_flag_and_a_7_is_crossed_and_the_rest_is_drawn_as_before():
    for seed in range(20):
        for digit in range(10):
            home, away = np.random.default_rng(seed), np.random.default_rng(seed)
            strokes, abroad = photos.written_strokes(digit, home), photos.written_strokes(digit, away, abroad=True)
            assert home.random() == away.random()  # the draws that follow are those of the normal photo
            if digit == 1:  # the flag starts at the far left, well below the top
                start = abroad[0][0]
                assert start[0] < 0.25 and start[1] > 0.2, abroad
            elif digit == 7:  # a bar across the stem
                assert len(abroad) == 2 and abroad[-1][:, 1].min() > 0.35, abroad
            else:
                assert all(np.array_equal(a, b) for a, b in zip(strokes, abroad)) and len(strokes) == len(abroad)


def test_a_font_writes_its_own_digits_as_mnist_holds_them_and_the_photo_says_so():
    """photos.font_digits draws a font's ten digits in MNIST's frame, and make_photo with font=True
    writes numbers in them, recorded as the hand "font"."""
    font = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    images, labels = photos.font_digits(font, copies=3)
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8 and list(labels[:12]) == [*range(10), 0, 1]
    heights = [np.ptp(np.flatnonzero(image.max(axis=1) > 0)) + 1 for image in images[:10]]
    assert max(heights) == 20 and min(heights) >= 18  # print: every digit as tall as the tallest, within a pixel
    assert len({image.tobytes() for image in images[:10]}) == 10 and np.array_equal(images[:10], images[10:20])
    for family in ("plain", "screen"):
        record = {}
        photo, label = photos.make_photo(np.random.default_rng(5), images, labels, family, 3, size=(400, 300),
                                         record=record, font=True)
        assert record["hand"] == "font" and len(label) == 3 and set(label) <= set("0123456789")
        assert Image.open(io.BytesIO(photo)).format == ("JPEG" if family == "plain" else "PNG")


def test_writing_is_underlined_or_written_under_a_line_once_or_twice():
    """photos.underlined keeps the writing as it was and draws one line or two in the pen, under
    it or over it, the nearer UNDER_GAP of the digits' height from it, their ends UNDER_ENDS of it
    inside the writing's ends; over many draws, every kind occurs."""
    height, pen = 60, 5
    writing = np.full((height, 200), 0.5, np.float32)  # a block of writing, paler than the line
    kinds = collections.Counter()
    for seed in range(40):
        image = photos.underlined(np.random.default_rng(seed), writing, height, pen)
        rows, cols = np.nonzero(image == 0.5)
        top, left = rows.min(), cols.min()
        assert (image[top:top + height, left:left + 200] >= 0.5).all() and len(rows) > 0.9 * writing.size
        line = image > 0.9  # the line's middle (the writing's block is paler)
        labels, count = ndimage.label(line, structure=np.ones((3, 3)))
        assert count in (1, 2), seed
        line_rows, line_cols = np.nonzero(line)
        under = line_rows.mean() > top + height / 2
        middles = []  # each line's middle row at its middle column
        for rows_, cols_ in ndimage.find_objects(labels):
            column = (cols_.start + cols_.stop) // 2
            middles.append(np.flatnonzero(labels[rows_, column])[[0, -1]].mean() + rows_.start)
        gap = min((row - (top + height - 1) if under else top - row) for row in middles) / height
        assert photos.UNDER_GAP[0] - 0.05 <= gap <= photos.UNDER_GAP[1] + 0.05, (seed, gap)  # bowed 0.03
        ends = (line_cols.min() - left) / height, (left + 199 - line_cols.max()) / height
        assert all(photos.UNDER_ENDS[0] - 0.1 <= end <= photos.UNDER_ENDS[1] + 0.1 for end in ends), (seed, ends)
        kinds[under, count] += 1
    assert set(kinds) == {(True, 1), (True, 2), (False, 1), (False, 2)}, kinds


def test_a_ring_is_drawn_around_the_writing_crossing_its_ends_or_clear_of_them():
    """photos.ringed keeps the writing as it was and draws one ring in the pen around it: ink above
    and below the writing's middle, RING_TALL times as tall as the writing, its sides RING_SIDE of
    the digits' height beyond the writing's ends or inside them; over many draws, rings that cross
    the writing's first or last columns, rings clear of them, and rings left open occur."""
    height, pen = 60, 5
    kinds = collections.Counter()
    for seed in range(60):
        width = (40, 200)[seed % 2]  # one digit, or a number
        writing = np.full((height, width), 0.5, np.float32)  # a block of writing, paler than the ring
        image = photos.ringed(np.random.default_rng(seed), writing, height, pen)
        rows, cols = np.nonzero(image == 0.5)
        top, left = rows.min(), cols.min()
        assert (image[top:top + height, left:left + width] >= 0.5).all() and len(rows) > 0.6 * writing.size
        ring = image > 0.9  # the ring's middle (the writing's block is paler)
        ring_rows, ring_cols = np.nonzero(ring)
        across = slice(left + width // 4, left + 3 * width // 4)  # the middle half (a gap in it is shorter)
        assert ring[:top, across].any() and ring[top + height:, across].any(), seed
        tall = (ring_rows.max() - ring_rows.min()) / height
        assert photos.RING_TALL[0] * 0.85 <= tall <= photos.RING_TALL[1] * 1.2, (seed, tall)  # turned, wavering
        if width > height:  # (a narrow writing's ring is wider: RING_NARROWEST)
            sides = (left - ring_cols.min()) / height, (ring_cols.max() - left - width + 1) / height
            assert all(photos.RING_SIDE[0] - 0.15 <= side <= photos.RING_SIDE[1] + 0.15 for side in sides), (seed, sides)
        crossed = ring[top:top + height, left:left + 3].any() or ring[top:top + height, left + width - 3:left + width].any()
        closed = ndimage.binary_fill_holes(ring)[top + height // 2, left + width // 2]
        kinds.update([("crossed" if crossed else "clear"), ("closed" if closed else "open")])
    assert kinds["crossed"] and kinds["clear"] and kinds["open"] and kinds["closed"] > kinds["open"], kinds


def test_the_record_of_how_a_number_was_written_leaves_the_photo_as_it_was(mnist):
    images, labels = mnist["test"]
    images = images.reshape(-1, 28, 28)
    seen = collections.Counter()
    for seed in range(40):
        family, count = photos.FAMILIES[seed % 5], 2 + seed % 7
        record = {}
        recorded = photos.make_photo(np.random.default_rng(seed), images, labels, family, count, size=(400, 300),
                                     record=record)
        assert recorded == photos.make_photo(np.random.default_rng(seed), images, labels, family, count, size=(400, 300))
        assert 0 <= record["joined"] < count and 0.35 <= record["width"] <= 1.2 and abs(record["slant"]) <= 0.35
        assert 0 < record["pen"] < 0.3
        seen.update([record["hand"], record["spacing"], record["joined"] > 0])
    assert all(seen[what] for what in ("mnist", "written", *photos.SPACING_NAMES, True, False)), seen
