"""Each preprocessing step on images whose right answer is known."""

import numpy as np
import pytest
from scipy import ndimage, spatial
from PIL import Image, ImageDraw

import network
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


def all_readings(n, spans, runs=()):
    """Every way to cover pieces 0 .. n - 1 with consecutive spans (first, last, box), as lists of
    indices, where a run (first, last) of `runs` may also be left out between two spans or before
    the first, ending with a span."""
    if n == 0:
        return [[]]
    readings = []
    for k, (first, last, _) in enumerate(spans):
        if last == n - 1:
            readings += [reading + [k] for reading in all_readings(first, spans, runs)]
            readings += [reading + [k] for a, b in runs if b == first - 1 for reading in all_readings(a, spans, runs)]
    return readings


def every_reading(n, spans, runs):
    """all_readings, and those that end with a run of `runs` left out after the last span."""
    return all_readings(n, spans, runs) + [reading for a, b in runs if b == n - 1 and a > 0
                                           for reading in all_readings(a, spans, runs)]


def join_cost(crossings, gaps, height, k):
    """What read_line's docstring says a candidate pays for spanning the cut after piece k."""
    if crossings[k] > 0:
        return 0.0
    return preprocess.JOIN_COST * min(1.0, max(gaps[k], 0.0) / (preprocess.BROKEN * height))


def reading_score(reading, spans, probabilities, crossings, gaps, height, row_strokes, hand=None):
    """The score read_line's docstring defines, summed over a reading, less the cost of each run
    of pieces left out (a whole JOIN_COST at an end of the line), and with `hand` (the width of
    the hand's digits) the cost of each digit wider than HAND_WIDE of it (best_cuts' docstring):
    the independent reference."""
    total = 0.0
    line_middle = (min(box[0] for _, _, box in spans) + max(box[2] for _, _, box in spans)) / 2
    for k in reading:
        first, last, (top, left, bottom, right) = spans[k]
        if hand is not None:
            total -= preprocess.HAND_COST * max((right - left) / height - preprocess.HAND_WIDE * hand, 0) / hand
        total += (np.log(probabilities[k].max() + 1e-12)
                  - preprocess.WIDE_COST * max((right - left) / height - preprocess.WIDE, 0)
                  - preprocess.SHORT_COST * max((preprocess.SHORT_ONE if probabilities[k].argmax() == 1 else preprocess.SHORT)
                                                - (bottom - top) / height, 0)
                  - sum(join_cost(crossings, gaps, height, j) for j in range(first, last))
                  - preprocess.ROW_STROKES_COST * max(row_strokes[k] - preprocess.ROW_STROKES, 0)
                  - preprocess.OFF_LINE_COST * max(abs((top + bottom) / 2 - line_middle) / height - preprocess.OFF_LINE, 0)
                  - (preprocess.CUT_COST * crossings[first - 1] if first else 0))
    for a, b in zip(reading, reading[1:]):  # pieces left out between two digits: one run
        first, last = spans[a][1] + 1, spans[b][0] - 1
        if first <= last:
            total -= max(join_cost(crossings, gaps, height, first - 1), join_cost(crossings, gaps, height, last))
    ends = (spans[reading[0]][0] > 0) + (spans[reading[-1]][1] < len(crossings))  # runs left out at the ends
    return total - preprocess.JOIN_COST * ends


@pytest.mark.parametrize("seed", range(40))
def test_best_cuts_is_the_best_of_every_way_to_cut_the_line(seed):
    rng = np.random.default_rng(seed)
    n, height = int(rng.integers(1, 7)), 50.0
    crossings = np.where(rng.random(n - 1) < 0.4, 0.0, rng.uniform(0.5, 3, n - 1))
    gaps = rng.uniform(-2, 2 * preprocess.BROKEN * height, n - 1)  # overlapping, nearly touching, apart
    spans = [(first, last, (int(rng.integers(0, 30)), first * 20, int(rng.integers(30, 60)), (last + 1) * 20))
             for first in range(n) for last in range(first, min(n, first + preprocess.MAX_PIECES))]
    probabilities = rng.dirichlet(np.full(10, 0.3), len(spans))
    row_strokes = rng.uniform(1, 4, len(spans))
    chosen = preprocess.best_cuts(spans, probabilities, crossings, gaps, height, row_strokes)
    alone = {first: box for first, last, box in spans if first == last}
    # short pieces (side by side here, sharing no columns) may be left out, several together if
    # together they are short too: between two others, or at an end of the line if apart from
    # the piece beside it, never all of them
    runs = [(a, b) for a in range(n) for b in range(a, n)
            if max(alone[k][2] for k in range(a, b + 1)) - min(alone[k][0] for k in range(a, b + 1)) < preprocess.SHORT * height
            and b - a < n - 1 and (a > 0 or crossings[0] == 0) and (b < n - 1 or crossings[-1] == 0)]
    readings = every_reading(n, spans, runs)
    first = max(readings, key=lambda r: reading_score(r, spans, probabilities, crossings, gaps, height, row_strokes))
    # read again with the width of the hand's digits: the middle one (the narrower of the two in
    # the middle) of those of the first reading not read as 1s, if there are two or more
    widths = sorted((spans[k][2][3] - spans[k][2][1]) / height for k in first if probabilities[k].argmax() != 1)
    hand = widths[(len(widths) - 1) // 2] if len(widths) > 1 else None
    best = max(reading_score(r, spans, probabilities, crossings, gaps, height, row_strokes, hand) for r in readings)
    assert [spans[k][0] for k in chosen] == sorted({spans[k][0] for k in chosen})  # left to right, no overlap
    assert spans[chosen[0]][0] == 0 or (0, spans[chosen[0]][0] - 1) in runs
    assert spans[chosen[-1]][1] == n - 1 or (spans[chosen[-1]][1] + 1, n - 1) in runs
    assert all((spans[a][1] + 1, spans[b][0] - 1) in runs for a, b in zip(chosen, chosen[1:]) if spans[b][0] > spans[a][1] + 1)
    assert reading_score(chosen, spans, probabilities, crossings, gaps, height, row_strokes, hand) == pytest.approx(best)


def test_the_hand_is_as_wide_as_the_middle_of_its_digits_other_than_1s():
    ones, sevens = np.eye(10)[[1, 1, 1]], np.eye(10)[[7, 7, 7]]
    assert preprocess.hand_width(np.array([0.6, 0.3, 0.5]), sevens) == 0.5
    assert preprocess.hand_width(np.array([0.9, 0.4]), sevens[:2]) == 0.4  # the narrower of the two in the middle
    assert preprocess.hand_width(np.array([0.2, 0.9, 0.4]), np.r_[ones[:1], sevens[:2]]) == 0.4  # 1s are narrow
    assert preprocess.hand_width(np.array([0.2, 0.9, 0.1]), np.r_[ones[:1], sevens[:1], ones[:1]]) is None
    assert preprocess.hand_width(np.array([0.9]), sevens[:1]) is None  # one digit: no hand to compare with


def test_a_short_piece_cut_from_both_neighbours_is_left_out_when_they_read_better_without_it():
    boxes = {0: (0, 0, 50, 35), 1: (30, 35, 50, 45), 2: (0, 45, 50, 80)}  # a digit, a low stroke, a digit
    spans = [(first, last, (min(boxes[k][0] for k in range(first, last + 1)), boxes[first][1], 50, boxes[last][3]))
             for first in range(3) for last in range(first, 3)]
    confidence = {(0, 0): 0.99, (0, 1): 0.9, (0, 2): 0.5, (1, 1): 0.9, (1, 2): 0.9, (2, 2): 0.99}
    probabilities = np.array([[confidence[first, last]] + [(1 - confidence[first, last]) / 9] * 9
                              for first, last, _ in spans])
    row_strokes = np.ones(len(spans))
    apart = np.array([5.0, 5.0])  # px between the pieces where they are separate marks
    chosen = preprocess.best_cuts(spans, probabilities, np.array([1.0, 1.0]), apart, 50.0, row_strokes)
    assert [spans[k][:2] for k in chosen] == [(0, 0), (2, 2)]
    tall = [(first, last, (0, left, 50, right)) for first, last, (_, left, _, right) in spans]
    chosen = preprocess.best_cuts(tall, probabilities, np.array([1.0, 1.0]), apart, 50.0, row_strokes)  # not short: kept
    assert sorted(p for k in chosen for p in range(tall[k][0], tall[k][1] + 1)) == [0, 1, 2]
    chosen = preprocess.best_cuts(spans, probabilities, np.array([0.0, 1.0]), apart, 50.0, row_strokes)  # apart from one:
    assert sorted(p for k in chosen for p in range(spans[k][0], spans[k][1] + 1)) == [0, 1, 2]  # leaving it out costs


def test_a_digit_cut_into_short_pieces_is_not_left_out_but_a_joining_stroke_cut_in_two_is():
    """Between two digits, two pieces cut from each other and from them through ink, each less
    tall than SHORT of the line: the halves of a digit (together as tall as the line) are read,
    however little they read as a digit; the two halves of a low joining stroke are left out."""
    def chosen_pieces(upper, lower):
        boxes = {0: (0, 0, 50, 20), 1: upper, 2: lower, 3: (0, 60, 50, 80)}
        spans = [(first, last, (min(boxes[k][0] for k in range(first, last + 1)), boxes[first][1],
                                max(boxes[k][2] for k in range(first, last + 1)), boxes[last][3]))
                 for first in range(4) for last in range(first, 4)]
        confidence = {(0, 0): 0.99, (3, 3): 0.99, (1, 2): 0.3}
        read = [confidence.get((first, last), 0.05) for first, last, _ in spans]
        probabilities = np.array([[p] + [(1 - p) / 9] * 9 for p in read])
        chosen = preprocess.best_cuts(spans, probabilities, np.ones(3), np.zeros(3), 50.0, np.ones(len(spans)))
        return sorted(p for k in chosen for p in range(spans[k][0], spans[k][1] + 1))

    assert chosen_pieces((0, 20, 25, 40), (25, 40, 50, 60)) == [0, 1, 2, 3]  # a digit in two halves
    assert chosen_pieces((30, 20, 40, 40), (32, 40, 42, 60)) == [0, 3]  # a joining stroke in two


def test_a_short_separate_stroke_between_two_digits_is_left_out_only_if_clear_of_their_columns():
    """A stroke apart from both digits beside it (a joining stroke, the pen lifted on the way) is
    left out when they read better without it than either reads with it, less JOIN_COST; one
    lying over a digit's columns (the bar of a 5) is always part of a digit."""
    def chosen_pieces(stroke):
        boxes = {0: (0, 0, 50, 20), 1: stroke, 2: (0, 40, 50, 60)}
        spans = [(first, last, (min(boxes[k][0] for k in range(first, last + 1)),
                                min(boxes[k][1] for k in range(first, last + 1)), 50,
                                max(boxes[k][3] for k in range(first, last + 1))))
                 for first in range(3) for last in range(first, 3)]
        confidence = {(0, 0): 0.99, (0, 1): 0.3, (0, 2): 0.3, (1, 1): 0.9, (1, 2): 0.3, (2, 2): 0.99}
        probabilities = np.array([[confidence[first, last]] + [(1 - confidence[first, last]) / 9] * 9
                                  for first, last, _ in spans])
        gaps = np.array([stroke[1] - 20, 40 - max(stroke[3], 20)], float)
        chosen = preprocess.best_cuts(spans, probabilities, np.array([0.0, 0.0]), gaps, 50.0, np.ones(len(spans)))
        return sorted(p for k in chosen for p in range(spans[k][0], spans[k][1] + 1))

    assert chosen_pieces((30, 22, 40, 38)) == [0, 2]  # low, between the digits: left out
    assert chosen_pieces((0, 5, 10, 25)) == [0, 1, 2]  # over the first digit's columns: kept


def test_separate_marks_nearly_touching_are_joined_into_one_digit_for_less():
    """Two halves of a digit broken by chalk, each read as a digit at 0.9 and together at 0.99,
    are one digit when their columns meet, two when they are BROKEN of the line's height apart."""
    spans = [(0, 0, (0, 0, 50, 20)), (0, 1, (0, 0, 50, 40)), (1, 1, (0, 20, 50, 40))]
    probabilities = np.array([[0.9] + [0.1 / 9] * 9, [0.99] + [0.01 / 9] * 9, [0.9] + [0.1 / 9] * 9])
    for gap, pieces in ((0.0, [(0, 1)]), (preprocess.BROKEN * 50, [(0, 0), (1, 1)])):
        chosen = preprocess.best_cuts(spans, probabilities, np.array([0.0]), np.array([gap]), 50.0, np.ones(3))
        assert [spans[k][:2] for k in chosen] == pieces, gap


def ring(shape, centre, radii, width):
    """A mask of an elliptical ring: a 0 written with a pen `width` px wide."""
    rows, cols = np.indices(shape)
    distance = np.hypot((rows - centre[0]) / radii[0], (cols - centre[1]) / radii[1])
    return np.abs(distance - 1) * min(radii) < width / 2


def test_two_touching_rings_are_cut_where_they_touch_and_one_ring_only_across_two_strokes():
    pair = ring((80, 110), (40, 28), (32, 22), 6) | ring((80, 110), (40, 80), (32, 22), 6)  # touching at column 50-54
    paths = preprocess.cut_paths(pair, height=64)
    join = min(paths, key=lambda p: p[1])
    assert 45 <= join[0][40] <= 58 and join[1] < 2  # through the join, crossing about one stroke
    assert all(crossed >= 1.5 for path, crossed in paths if not 45 <= path[40] <= 58)
    single = preprocess.cut_paths(ring((80, 60), (40, 30), (32, 22), 6), height=64)
    assert all(crossed >= 1.5 for _, crossed in single)  # cutting a 0 in two crosses it twice


def seams_one_by_one(own, height):
    """cut_paths as its docstring says, pixel by pixel: the cheapest cost down to each pixel (in
    float32, from the left, above or right on a tie, in that order), each path traced back from
    the bottom row alone, kept if it leaves a tenth of the ink on either side and lies apart from
    those kept before."""
    rows, cols = own.shape
    total = np.zeros((rows, cols), np.float32)
    came = np.zeros((rows, cols), int)
    total[0] = own[0]
    for r in range(1, rows):
        for c in range(cols):
            options = [(total[r - 1, c + d] + np.float32(preprocess.SIDESTEP if d else 0), d)
                       for d in (-1, 0, 1) if 0 <= c + d < cols]
            best = min(value for value, _ in options)
            came[r, c] = next(d for value, d in options if value == best)
            total[r, c] = best + np.float32(own[r, c])
    margin, ink, kept = max(1, round(preprocess.MIN_PART * height)), own.sum(), []
    for end in np.argsort(total[-1], kind="stable"):
        path = [end]
        for r in range(rows - 1, 0, -1):
            path.append(path[-1] + came[r, path[-1]])
        path = np.array(path[::-1])
        left = sum(own[r, :path[r]].sum() for r in range(rows))
        if (len(kept) < preprocess.MAX_CUTS and margin <= end <= cols - margin and min(left, ink - left) >= 0.1 * ink
                and all(abs(path.mean() - other.mean()) >= margin for other in kept)):
            kept.append(path)
    return sorted(kept, key=np.mean)


def test_the_cut_paths_are_the_cheapest_seams_found_pixel_by_pixel():
    rng = np.random.default_rng(4)
    for k in range(12):
        shape = (int(rng.integers(20, 60)), int(rng.integers(15, 90)))
        own = ndimage.binary_dilation(rng.random(shape) < rng.uniform(0.005, 0.05), iterations=int(rng.integers(1, 4)))
        height = float(rng.uniform(20, 80))
        paths, expected = preprocess.cut_paths(own, height), seams_one_by_one(own, height)
        assert len(paths) == len(expected) and all(np.array_equal(p, q) for (p, _), q in zip(paths, expected)), k
        stroke = max(preprocess.stroke_width(own), 1)  # and each crosses as many strokes as its ink says
        assert all(abs(crossed - own[np.arange(len(path)), path].sum() / stroke) < 1e-6 for path, crossed in paths), k


def test_a_bold_light_digit_on_black_is_light_ink_whatever_fills_the_middle():
    rows, cols = np.indices((280, 280))
    gray = (np.abs(np.hypot((rows - 140) / 95, (cols - 140) / 70) - 1) * 70 < 30).astype(np.float32)  # a fat 0
    middle = gray[70:210, 70:210]
    assert middle.mean() > 0.5  # more ink than background in the image's middle half
    assert preprocess.make_ink_light(gray)[140, 70] == 1
    assert preprocess.make_ink_light(1 - gray)[140, 70] == 1  # dark on light: inverted


def test_dark_ink_on_paper_on_a_dark_table_is_dark_ink():
    gray = np.full((300, 400), 0.15, np.float32)  # a dark table ...
    gray[40:260, 60:340] = 0.85  # ... a sheet of paper on it ...
    gray[100:200, 190:198] = 0.2  # ... and a 1 written on the sheet
    assert preprocess.make_ink_light(gray)[150, 194] > 0.7


def test_a_level_line_across_the_image_is_not_a_digit():
    ink = np.zeros((200, 400), np.float32)
    ink[150:153, 40:360] = 1  # an edge or a line, level, across most of the image
    ink[40:120, 190:196] = 1  # a 1
    mask = preprocess.ink_mask(ink)
    assert not mask[151].any() and mask[80, 192]


def test_a_fat_marker_drawing_on_white_is_dark_ink_though_its_holes_are_thinner_than_its_strokes():
    from PIL import ImageDraw

    canvas = Image.new("L", (200, 260), 255)  # made on a computer: a border of one flat colour
    pen = ImageDraw.Draw(canvas)
    pen.line([(130, 20), (45, 160), (175, 160)], fill=0, width=34, joint="curve")
    pen.line([(128, 70), (118, 240)], fill=0, width=34)
    gray = np.asarray(canvas, np.float32) / 255
    assert preprocess.make_ink_light(gray)[200, 120] == 1  # the stem, as ink
    assert preprocess.make_ink_light(gray)[5, 5] == 0  # the canvas, as background


def test_a_whole_mark_is_a_candidate_however_many_pieces_it_is_cut_into():
    pieces = np.zeros((60, 200), np.int32)
    for k in range(6):
        pieces[5:55, 30 * k + 10:30 * k + 38] = k + 1
    crossings = np.array([1.0, 1.0, 0.0, 1.0, 1.0])  # two marks: pieces 0-2 and 3-5 (numbered from 0)
    spans = preprocess.candidates(pieces, crossings, height=60.0, longest=2)
    firsts_lasts = {(first, last) for first, last, _ in spans}
    assert {(0, 2), (3, 5)} <= firsts_lasts  # each mark whole, though longer than 2 pieces
    assert (1, 3) not in firsts_lasts and (0, 1) in firsts_lasts


def test_only_a_whole_mark_may_be_a_candidate_wider_than_widest():
    pieces = np.zeros((40, 130), np.int32)
    for k in range(4):  # one mark cut into 4 pieces, 2.95 line heights wide
        pieces[5:35, 30 * k + 10:30 * k + 38] = k + 1
    spans = preprocess.candidates(pieces, np.ones(3), height=40.0, longest=3)
    widths = {(first, last): (right - left) / 40.0 for first, last, (_, left, _, right) in spans}
    assert widths[0, 3] > preprocess.WIDEST  # the whole mark
    assert (0, 2) not in widths and (1, 3) not in widths  # 3 pieces, 2.2 line heights wide: not one digit
    assert max(w for (first, last), w in widths.items() if (first, last) != (0, 3)) <= preprocess.WIDEST


def test_a_fat_stroke_on_squared_paper_whose_lines_reach_the_edge_is_ink_whole():
    """The faint lines join the stroke to the image's edge; the pen is still measured on the stroke,
    not on a speck that happens to be the only mark clear of the lines."""
    gray = np.full((480, 400), 0.92, np.float32)  # paper ...
    gray[::40, :] = gray[:, ::40] = 0.78  # ... squared to its edges by faint 1 px lines ...
    gray[150:330, 190:214] = 0.1  # ... and a 1 in a fat marker across two of them
    gray[300:302, 100:102] = 0.6  # a speck of dirt, the only mark clear of the lines
    ink = preprocess.remove_background(preprocess.make_ink_light(gray))
    assert ink[150:330, 192:212].min() > 0.9  # the whole stroke, not only its edges
    mask = preprocess.ink_mask(ink)
    assert mask[160:320, 195:209].all() and not mask[20, 20:180].any()


def random_linear_reader(seed):
    """A stand-in for the network: (n, 28, 28) inputs -> (n, 10) probabilities, the softmax of a
    fixed random linear map (any function of the input will do)."""
    weights = np.random.default_rng(seed).normal(size=(784, 10))
    return lambda x: network.softmax((x.reshape(len(x), -1) @ weights).T).T


def stroke_mask(shape, points, width):
    """A mask of a pen `width` px wide drawn through `points` ((x, y) pairs)."""
    from PIL import ImageDraw

    canvas = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(canvas).line(points, fill=255, width=width, joint="curve")
    return np.asarray(canvas) > 0


def test_a_number_joined_up_across_the_image_is_ink_but_a_long_straight_line_is_not():
    xs = np.arange(20, 490, 4)  # a joined-up number: up and down 6 times, 90% of the image wide ...
    number = stroke_mask((200, 512), list(zip(xs, 80 + 45 * np.sin(xs / 470 * 12 * np.pi))), 12)
    comma = stroke_mask((200, 512), [(300, 160), (296, 172)], 6)  # ... and a comma below it
    mask = preprocess.ink_mask((number | comma).astype(np.float32))
    assert mask[number].mean() > 0.95  # (the comma is a speck beside it)
    line = stroke_mask((160, 512), [(20, 40), (490, 110)], 12)  # as long and as thick, but straight
    digit = stroke_mask((160, 512), [(250, 92), (250, 140)], 12)
    assert not (line & digit).any()
    mask = preprocess.ink_mask((line | digit).astype(np.float32))
    assert not (mask & line).any() and mask[digit].all()


def test_a_mark_a_pixel_from_the_edge_counts_as_touching_it():
    ink = np.zeros((300, 400), np.float32)
    ink[50:200, 380:398] = 1  # a bright strip the background's removal left 2 px from the edge
    ink[130:170, 100:106] = 1  # a small 1
    mask = preprocess.ink_mask(ink)
    assert not mask[:, 380:].any() and mask[140, 103]


def test_the_line_of_digits_is_the_one_with_the_most_ink_not_the_largest_mark():
    mask = np.zeros((400, 600), bool)
    for k in range(5):  # five digits in a row ...
        mask |= stroke_mask(mask.shape, [(100 + 60 * k, 240), (100 + 60 * k, 300), (130 + 60 * k, 300)], 6)
    pen = stroke_mask(mask.shape, [(200, 40), (420, 110)], 10)  # ... and a pen lying above them, with
    assert mask.sum() > pen.sum() > mask.sum() / 5 / preprocess.STRAY  # more ink than a digit, less than all
    with pytest.raises(InputError, match="not in one line"):  # not: the pen read as the digit
        preprocess.marks_in_line(mask | pen)
    labels, groups, height = preprocess.marks_in_line(mask)
    assert len(groups) == 5 and 60 <= height <= 70
    level = stroke_mask(mask.shape, [(200, 40), (420, 70)], 10)  # lying level over them: a line over the number
    labels, groups, height = preprocess.marks_in_line(mask | level)
    assert len(groups) == 5 and 60 <= height <= 70 and not labels[level & ~mask].any()


def test_a_narrow_8_is_widened_and_a_slanted_1_is_not():
    eight = stroke_mask((130, 60), [(30, 10), (45, 35), (15, 90), (30, 118), (45, 90), (15, 35), (30, 10)], 10)
    one = stroke_mask((130, 60), [(50, 8), (12, 120)], 14)  # slanted: as wide as the 8, a single stroke
    for mask, widened in ((eight, True), (one, False)):
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        own = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        gray = preprocess.digit_ink(own)
        height = np.ptp(np.flatnonzero(gray.max(axis=1) > 0.5))
        width = np.ptp(np.flatnonzero(gray.max(axis=0) > 0.5))
        assert (width >= 0.5 * height) == widened, (width, height)


def test_a_narrow_digit_is_read_at_every_width_of_wider_and_a_single_stroke_at_its_own():
    """A narrow 8's probabilities are the average of its readings widened to NARROW and, made
    upright, to each share of WIDER; a 1, a single stroke, is read once, as it is."""
    eight = stroke_mask((130, 60), [(30, 10), (45, 35), (15, 90), (30, 118), (45, 90), (15, 35), (30, 10)], 10)
    one = stroke_mask((130, 60), [(50, 8), (12, 120)], 14)
    owns = [eight, one]
    sizes = [preprocess.extent(own) for own in owns]
    inputs = np.array([preprocess.candidate_input(own, preprocess.NARROW, size) for own, size in zip(owns, sizes)])
    read = random_linear_reader(0)

    got = preprocess.read_candidates(owns, sizes, inputs, read)
    shares = (preprocess.NARROW, *preprocess.WIDER)
    assert len(shares) == 3 and max(shares) < 1
    upright = preprocess.made_upright(eight)
    readings = [preprocess.candidate_input(eight, preprocess.NARROW, sizes[0])]
    readings += [preprocess.candidate_input(upright, share, preprocess.extent(upright)) for share in preprocess.WIDER]
    expected_eight = read(np.array(readings)).mean(axis=0)
    np.testing.assert_allclose(got[0], expected_eight, rtol=1e-5)
    np.testing.assert_allclose(got[1], read(inputs[1:])[0], rtol=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_strokes_are_redrawn_with_a_round_pen_as_binary_morphology_does(seed):
    """digit_ink grows thin strokes and thins fat ones by a round pen of radius r (the offsets
    of r² + r or less): the same pixels as scipy's binary dilation and erosion with that disk."""
    rng = np.random.default_rng(seed)
    points = [(float(rng.uniform(5, 75)), float(rng.uniform(5, 115))) for _ in range(5)]  # (x, y)
    for pen in (2, 17, 30):  # grown, as it is, thinned
        own = stroke_mask((120, 80), points, pen)
        target, now = preprocess.STROKE * max(own.shape) / preprocess.BOX, preprocess.stroke_width(own)
        radius = round(abs(target - now) / 2)
        offsets = np.indices((2 * radius + 1, 2 * radius + 1)) - radius
        disk = (offsets**2).sum(axis=0) <= radius**2 + radius
        if now < 0.75 * target:
            expected = ndimage.binary_dilation(np.pad(own, radius), disk)
        elif now > 1.33 * target:
            expected = ndimage.binary_erosion(own, disk)
            expected = expected if expected.sum() > 0.3 * own.sum() else own
        else:
            expected = own
        drawn = preprocess.digit_ink(own, narrow=0)  # not widened
        np.testing.assert_allclose(drawn, ndimage.uniform_filter(expected.astype(np.float32), 3), atol=1e-6)


def test_stroke_width_is_twice_the_area_over_the_outline_that_binary_erosion_leaves():
    """A bar w px wide and long is about w wide; every mark's width is 2 area / (area - what
    scipy's erosion by the 4-neighbour cross keeps), the image's outside counting as background."""
    bar = np.zeros((300, 20), bool)
    bar[:, 5:11] = True  # 6 px wide, running off the top and bottom of the image
    assert preprocess.stroke_width(bar) == pytest.approx(6, rel=0.02)
    rng = np.random.default_rng(0)
    for _ in range(50):
        shape = tuple(rng.integers(2, 60, 2))
        mask = ndimage.uniform_filter(rng.random(shape), int(rng.integers(1, 6))) > rng.uniform(0.3, 0.7)
        labels, count = ndimage.label(mask)
        kept = np.bincount(labels[ndimage.binary_erosion(mask)], minlength=count + 1)
        area = np.bincount(labels.ravel(), minlength=count + 1)
        expected = 2 * area / np.maximum(area - kept, 1)
        expected[0] = 0
        np.testing.assert_array_equal(preprocess.stroke_widths(labels, count), expected)
        whole = 2 * mask.sum() / max(mask.sum() - ndimage.binary_erosion(mask).sum(), 1)
        assert preprocess.stroke_width(mask) == whole


@pytest.mark.parametrize("slant", [-0.6, -0.2, 0.3, 0.7])
def test_a_slanted_narrow_0_is_made_upright(slant):
    """A narrow ring (a 0) whose rows are moved sideways by `slant` columns per row stands upright
    again: as tall, no wider than the ring written upright (a pixel either side), and its rows'
    middles in one column."""
    zero = ring((130, 200), (65, 100), (58, 14), 8)
    slanted = np.zeros_like(zero)
    for r in range(130):
        slanted[r] = np.roll(zero[r], int(round(slant * (r - 65))))
    upright = preprocess.made_upright(slanted)
    height = np.ptp(np.flatnonzero(upright.any(axis=1)))
    width, upright_width = (np.ptp(np.flatnonzero(m.any(axis=0))) for m in (upright, zero))
    assert height == np.ptp(np.flatnonzero(zero.any(axis=1))) and width <= upright_width + 2, (height, width)
    middles = [np.flatnonzero(row).mean() for row in upright if row.any()]
    assert np.ptp(middles) <= 3, np.ptp(middles)


@pytest.mark.parametrize("slant", [-1.0, -0.5, 0.2, 0.6, 1.0])
def test_a_line_slanted_beyond_mnist_leans_as_far_as_mnist_and_its_boxes_come_back_whole(slant):
    """Three rings (0s) whose rows are moved sideways by `slant` columns per row down: a line
    leaning further than SLANTS is moved back to the nearest end of it, one leaning within it
    is left as it was; the marks stay numbered left to right, and the box of each moved mark
    brought back holds the mark as it was."""
    upright = np.zeros((130, 500), bool)
    for k in range(3):
        upright |= ring((130, 500), (65, 200 + 110 * k), (58, 30), 8)
    mask = np.zeros_like(upright)
    for r in range(130):
        mask[r] = np.roll(upright[r], int(round(slant * (r - 65))))
    marks, _ = ndimage.label(mask)
    moved_mask, moved_marks, moved = preprocess.slanted_as_mnist(mask, marks)
    low, high = preprocess.SLANTS
    if low <= slant <= high:
        assert moved is None and moved_mask is mask and moved_marks is marks
        return
    leaning = preprocess.best_slope(moved_mask.T, preprocess.SLANT_STEPS)
    assert abs(leaning - np.clip(slant, low, high)) <= 0.1, leaning
    assert (moved_marks > 0).sum() == mask.sum() and ((moved_marks > 0) == moved_mask).all()
    lefts = [np.flatnonzero((moved_marks == k).any(axis=0))[0] for k in (1, 2, 3)]
    assert lefts == sorted(lefts), lefts
    for k in (1, 2, 3):
        rows, cols = np.nonzero(moved_marks == k)
        box = preprocess.unslanted((rows.min(), cols.min(), rows.max() + 1, cols.max() + 1), moved)
        was = marks[rows[0], cols[0] - moved[rows[0]]]  # pixel (r, c) was at (r, c - moved[r])
        rows, cols = np.nonzero(marks == was)
        assert box[0] <= rows.min() and box[1] <= cols.min() and rows.max() < box[2] and cols.max() < box[3], box


def test_a_narrow_0_in_a_fat_pen_keeps_its_loop_open():
    zero = ring((130, 50), (65, 25), (58, 10), 8)  # a fifth of its height wide, the pen a third of that
    digit = preprocess.centre_by_mass(preprocess.scale_to_box(preprocess.crop_to_ink(preprocess.digit_ink(zero))))
    ink = digit > 0.5
    hole = np.count_nonzero(ndimage.binary_fill_holes(ink) & ~ink)
    assert hole >= 30, hole  # 10 of MNIST's 11 test 0s narrower than 0.6 of their height: 37-86 pixels


def test_a_loop_as_narrow_as_a_stroke_is_not_a_stick():
    zero = ring((140, 30), (70, 15), (62, 5), 6)  # a tenth as wide as tall: its ink spreads as a 1's would
    assert preprocess.spread(zero) - preprocess.stroke_width(zero) / np.sqrt(12) <= preprocess.STICK * 124
    assert preprocess.extent(zero) == (15, 140)  # its hole: a loop, widened as a narrow 0
    bar = np.zeros((80, 24), bool)
    bar[5:75, 6:18] = True
    bar[[20, 40, 60], 11] = bar[[20, 40, 60], 12] = False  # pinholes of a noisy scan, 2 pixels each
    assert preprocess.extent(bar) == (np.inf, 70)


def test_a_stroke_that_bulges_is_read_half_as_a_stick_and_half_widened():
    """bulges: a straight stroke is as thick all along its middle, slanted or not, rounded at
    its ends or not; a stick with a lump in its middle (a 4 whose arm a fat pen filled in) is
    not. read_masks reads such a stick as it is and as a narrow digit of its box's width, and
    averages the two; a straight one is read as it is."""
    straight = stroke_mask((200, 60), [(40, 10), (20, 190)], 14)
    bar = np.zeros((160, 40), bool)
    bar[10:150, 12:28] = True
    lump = stroke_mask((200, 60), [(40, 10), (20, 190)], 14) | stroke_mask((200, 60), [(26, 100), (20, 130)], 30)
    assert not preprocess.bulges(straight) and not preprocess.bulges(bar)
    assert preprocess.bulges(lump) and np.isinf(preprocess.extent(lump)[0])
    read = random_linear_reader(1)

    inputs, probabilities, steady = preprocess.read_masks([straight, lump], read)
    for k, own in enumerate((straight, lump)):
        as_it_is = preprocess.candidate_input(own, preprocess.NARROW, (np.inf, own.shape[0]))
        np.testing.assert_array_equal(inputs[k], as_it_is)
        expected = read(as_it_is[None])
        expected_steady = preprocess.read_steadily(as_it_is[None], expected, read)
        if k == 1:
            box = preprocess.box_size(own)
            widened = preprocess.candidate_input(own, preprocess.NARROW, box)[None]
            wide = preprocess.read_candidates([own], [box], widened, read, sticks=False)
            expected = (expected + wide) / 2
            expected_steady = (expected_steady + preprocess.read_steadily(widened, wide, read)) / 2
            assert not np.allclose(wide, read(as_it_is[None]), atol=1e-3)  # the two readings differ
        np.testing.assert_allclose(probabilities[k], expected[0], rtol=1e-5)
        np.testing.assert_allclose(steady[k], expected_steady[0], rtol=1e-5)


def trim_at_cut(mark, cut, side, height=100):
    """tail_trimmed for the part of `mark` on one `side` ("left" or "right") of a cut at column
    `cut` through ink (one stroke crossed)."""
    pieces = np.where(mark, np.where(np.arange(mark.shape[1]) < cut, 1, 2), 0)
    first = 0 if side == "left" else 1
    rows, cols = ndimage.find_objects((pieces == first + 1).astype(int))[0]
    span = (first, first, (rows.start, cols.start, rows.stop, cols.stop))
    own = preprocess.candidate_mask(pieces, span)
    return own, preprocess.tail_trimmed(pieces, np.array([1.0]), span, own, height)


def test_the_end_of_a_joining_stroke_is_trimmed_but_not_a_loop_nor_a_limb():
    """A 7 whose foot runs on into a 1 loses the stroke's end, TAIL of the line's height along it
    from the cut, and nothing else; a cut through the top of a digit, beside a loop's wall or
    through the arm of a 4 trims nothing."""
    seven_one = stroke_mask((100, 140), [(10, 10), (60, 10), (30, 90), (70, 85), (95, 70)], 6)
    seven_one |= stroke_mask((100, 140), [(100, 10), (100, 95)], 6)
    own, kept = trim_at_cut(seven_one, 80, "left")
    assert kept is not None
    gone = own & ~kept
    rows, cols = np.nonzero(gone)
    assert rows.min() > 0.6 * own.shape[0] and cols.min() > 0.5 * own.shape[1]  # the foot's end only
    assert np.count_nonzero(gone) >= 0.5 * preprocess.TAIL * 100 * preprocess.stroke_width(own)
    bar_on = stroke_mask((100, 140), [(10, 10), (120, 10)], 6) | stroke_mask((100, 140), [(60, 10), (30, 90)], 6)
    assert trim_at_cut(bar_on, 90, "left")[1] is None  # a 7 whose bar runs into the next digit
    loop = ring((100, 140), (50, 40), (35, 25), 6) | stroke_mask((100, 140), [(64, 50), (120, 50)], 6)
    assert trim_at_cut(loop, 75, "left")[1] is None  # a 0 touched by the next digit
    four = stroke_mask((100, 140), [(80, 10), (80, 95)], 6) | stroke_mask((100, 140), [(20, 60), (80, 60)], 6)
    assert trim_at_cut(four, 65, "right")[1] is None  # a 4 whose arm touches the digit before it


def test_a_digit_crosses_at_most_two_strokes_a_row_and_two_digits_side_by_side_more():
    one_zero = ring((80, 60), (40, 30), (34, 14), 6)
    two_zeros = ring((80, 60), (40, 15), (34, 12), 6) | ring((80, 60), (40, 44), (34, 12), 6)
    eight = stroke_mask((130, 60), [(30, 10), (45, 35), (15, 90), (30, 118), (45, 90), (15, 35), (30, 10)], 10)
    bar = np.zeros((80, 24), bool)
    bar[5:75, 6:18] = True
    bar[10:70:3, 11] = False  # pinholes of a noisy scan
    assert preprocess.strokes_per_row(bar) == 1
    assert 1.5 < preprocess.strokes_per_row(one_zero) <= preprocess.ROW_STROKES
    assert 1 < preprocess.strokes_per_row(eight) <= preprocess.ROW_STROKES
    assert preprocess.strokes_per_row(two_zeros) > preprocess.ROW_STROKES + 0.5  # they touch: the middle rows cross 3


def test_thousands_of_marks_are_refused_after_bounded_work(monkeypatch):
    mask = np.zeros((512, 512), bool)
    mask[::4, ::4] = mask[1::4, ::4] = mask[::4, 1::4] = True  # 16,384 marks of 3 pixels: noise
    calls, pairs = [], []
    on_line, overlapping = preprocess.on_line, preprocess.overlapping
    monkeypatch.setattr(preprocess, "on_line", lambda *args: calls.append(1) or on_line(*args))
    monkeypatch.setattr(preprocess, "overlapping", lambda *args: pairs.append(1) or overlapping(*args))
    with pytest.raises(InputError, match="16384 separate marks, too many"):
        preprocess.marks_in_line(mask)
    assert len(calls) <= preprocess.MAX_MARKS  # each a pass over the marks: not one per pair of marks
    assert len(pairs) <= preprocess.MAX_MARKS * 16384  # a mark is compared with the last few groups only


def test_a_light_digit_on_black_that_runs_into_the_edge_stays_light_ink():
    from PIL import ImageDraw, ImageFilter

    canvas = Image.new("L", (280, 280), 0)  # a 5 from a paint program, its bar drawn on to the edge
    pen = ImageDraw.Draw(canvas)
    pen.line([(280, 70), (90, 70), (80, 140), (180, 150), (170, 230), (70, 225)], fill=255, width=34,
             joint="curve")
    gray = np.asarray(canvas.filter(ImageFilter.GaussianBlur(2)), np.float32) / 255
    border = gray[preprocess.border_mask(gray.shape)]
    assert 0.02 < np.mean(border > preprocess.FLAT) < 0.05  # the bar crosses the border
    assert preprocess.make_ink_light(gray)[150, 130] == 1 and preprocess.make_ink_light(gray)[20, 20] == 0


def test_a_tall_narrow_digit_in_a_fat_pen_is_not_a_margin_line():
    two = stroke_mask((224, 512), [(430, 50), (445, 28), (465, 40), (460, 100), (432, 190), (468, 192)], 18)
    assert 0.05 * 182 < preprocess.spread(two) < preprocess.stroke_width(two)  # narrower than its pen spreads
    eight = stroke_mask((224, 512), [(120, 50), (145, 75), (105, 140), (125, 165), (145, 140), (105, 75),
                                     (120, 50)], 18)  # ... beside a smaller 8
    rows = np.flatnonzero(two.any(axis=1))
    assert np.ptp(rows) > preprocess.LONGEST * two.shape[0]  # as tall, for its image, as a margin line
    mask = preprocess.ink_mask((two | eight).astype(np.float32))
    assert mask[two].mean() > 0.95 and mask[eight].mean() > 0.95


def test_a_fat_digit_beside_a_darker_thin_margin_line_keeps_its_middle():
    """The background's window is never narrower than twice the widest strong stroke: a margin
    line darker than a fat 0 must not make the window so small that it fits inside the 0."""
    gray = np.full((384, 512), 0.93, np.float32)  # paper ...
    zero = stroke_mask(gray.shape, [(276, 116), (284, 140), (284, 180), (276, 204), (268, 180), (268, 140),
                                    (276, 116)], 16)
    gray[zero] = 0.45  # ... a narrow 0 whose fat pen has filled its loop ...
    gray[260:340, 16:19] = 0.3  # ... and a piece of the red margin line, darker, clear of the edge
    ink = preprocess.remove_background(preprocess.make_ink_light(gray))
    assert ink[zero].min() > 0.95 * ink[zero].max() > 0.5  # the whole 0 as strong as its ends
    labels, groups, _ = preprocess.marks_in_line(preprocess.ink_mask(ink))
    assert len(groups) == 1 and labels[zero].all()


def test_a_narrow_0_drawn_on_a_computer_is_not_taken_for_ruled_paper():
    """In a small drawing, the two long sides of a narrow 0 are thin, straight, parallel and a third
    of the image long, as the lines of ruled paper are; but a drawing has no paper."""
    canvas = Image.new("L", (39, 68), 255)
    from PIL import ImageDraw
    ImageDraw.Draw(canvas).ellipse((14, 10, 27, 57), outline=0, width=3)
    digits = preprocess.to_digits(canvas)
    assert len(digits) == 1
    across = digits[0][0][14] > 0.5  # the middle row of the 28x28 input
    assert np.count_nonzero(across[1:] & ~across[:-1]) == 2  # both sides, a hole between them
    assert preprocess.made_on_computer(preprocess.to_gray(canvas))


def test_when_the_colour_told_holds_no_ink_the_other_colour_is_the_ink(monkeypatch):
    """A shadow across a sheet can make the ink's colour be told wrong; with no ink of that colour
    at all, the digit is looked for in the other, and a blank image is still blank."""
    paper = np.full((300, 400), 0.9, np.float32)
    paper[100:200, 195:205] = 0.2  # a dark 1
    image = Image.fromarray((paper * 255).astype(np.uint8))
    monkeypatch.setattr(preprocess, "make_ink_light", lambda gray, computer=None: gray)  # told wrong: light ink
    digits = preprocess.to_digits(image)
    assert len(digits) == 1 and digits[0][1] == (195, 100, 205, 200)
    with pytest.raises(InputError, match="no digit found"):
        preprocess.to_digits(Image.fromarray(np.full((300, 400), 230, np.uint8)))


def test_a_fat_digit_by_the_edge_of_a_drawing_keeps_its_middle():
    """A fat digit that comes within the edge's margin (the only mark there is) keeps its middle:
    the background's window is fitted to its strokes all the same."""
    gray = np.ones((355, 288), np.float32)
    gray[204:350, 0:96] = np.where(stroke_mask((146, 96), [(6, 10), (85, 30), (20, 75), (85, 110), (6, 136)],
                                               17), 0.1, 1.0)  # a fat 3, 3 px from the left edge
    ink = preprocess.remove_background(preprocess.make_ink_light(gray))
    fat = gray < 0.5
    assert ink[fat].min() > 0.95


def test_a_stroke_running_along_a_faint_ruled_line_is_not_cut_where_it_meets_it():
    """A stroke that crosses a faint line at a shallow angle lies on it for longer than a crossing
    does; it is still one stroke. A line as dark as the ink is still taken out."""
    gray = np.full((400, 500), 0.92, np.float32)  # paper ...
    gray[20::40, :] = 0.8  # ... ruled with faint lines 40 px apart ...
    stroke = stroke_mask(gray.shape, [(150, 130), (350, 180)], 4)  # ... a stroke at 14 degrees across one
    gray[stroke] = 0.15
    mask = preprocess.ink_mask(preprocess.remove_background(preprocess.make_ink_light(gray)))
    assert mask[stroke].mean() > 0.97 and preprocess.ndimage.label(mask, np.ones((3, 3)))[1] == 1
    gray[20::40, :] = 0.15  # the same lines as dark as the stroke
    gray[stroke] = 0.15
    mask = preprocess.ink_mask(preprocess.remove_background(preprocess.make_ink_light(gray)))
    assert not mask[60, 20:120].any() and not mask[100, 300:480].any()


def test_the_hole_of_a_loop_that_blur_has_filled_in_stays_a_hole():
    """Two narrow 0s in a fat pen, blurred: the middle of each hole is over INK_LEVEL of the ink,
    but far fainter than the strokes on both sides of it, so the mask keeps the hole open."""
    rows, cols = np.indices((200, 300))
    loops = np.zeros((200, 300), bool)
    for middle in (100, 200):
        outer = ((rows - 100) / 40) ** 2 + ((cols - middle) / 14) ** 2 <= 1
        inner = ((rows - 100) / 30) ** 2 + ((cols - middle) / 1.0) ** 2 <= 1  # a hole 2 px wide
        loops |= outer & ~inner
    ink = np.clip(ndimage.gaussian_filter(loops.astype(np.float32), 0.9) * 1.5, 0, 1)
    assert ink[100, 100] > preprocess.INK_LEVEL  # the hole's middle, filled in
    mask = preprocess.ink_mask(ink)
    holes, count = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    assert count == 2 and not mask[100, 100] and not mask[100, 200]
    assert mask[100, 92] and mask[100, 108] and mask[62, 100]  # the strokes stay


def test_the_ink_is_the_rarer_colour_around_it_whatever_lies_farther_away():
    """Pencil lighter than halfway between a dark table and the paper: the shape of the split
    halfway finds no dark marks clear of the edge, but the pencil is the rarer colour."""
    gray = np.full((300, 400), 0.1, np.float32)  # a dark table ...
    gray[30:270, 40:360] = 0.9  # ... a sheet lying wholly on it ...
    gray[110:190, 150:154] = gray[110:114, 150:200] = gray[110:190, 196:200] = 0.6  # ... a pencil 4 (roughly)
    gray += np.random.default_rng(0).normal(0, 0.01, gray.shape).astype(np.float32)
    dark, light = preprocess.rarer_ink(gray)
    assert light > preprocess.RARER * dark
    assert preprocess.make_ink_light(gray)[150, 152] > 0.3 > preprocess.make_ink_light(gray)[150, 175]
    dark, light = preprocess.rarer_ink(1 - gray)  # chalk on a board beside a light wall
    assert dark > preprocess.RARER * light


def test_a_line_of_writing_small_in_a_large_image_is_looked_at_again_closer():
    gray = np.zeros((384, 512))  # the image at the working size
    bounds = (100, 200, 130, 260)  # top, left, bottom, right: a line 30 px tall
    large = Image.new("L", (2048, 1536))  # 4 of its pixels a working pixel
    assert preprocess.closer_box(large, gray, bounds, 30) == (680, 280, 1160, 640)  # a line's height around
    assert preprocess.closer_box(large, gray, bounds, preprocess.LINE_HEIGHT) is None  # tall enough already
    assert preprocess.closer_box(Image.new("L", (512, 384)), gray, bounds, 30) is None  # no more pixels to see


def test_the_range_of_levels_around_each_pixel_is_that_of_scipys_maximum_and_minimum_filters():
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (1, 7), (6, 1), (2, 2), (31, 17), (64, 65)]:
        gray = rng.random(shape, dtype=np.float32)
        gray[rng.random(shape) < 0.3] = 0.5  # flat stretches, and ties
        expected = ndimage.maximum_filter(gray, 3) - ndimage.minimum_filter(gray, 3)
        assert np.array_equal(preprocess.local_range(gray), expected), shape


def test_a_panel_is_one_flat_colour_with_writing_in_it_and_none_beside_it():
    page = np.full((300, 400), 0.9, np.float32)
    page[60:240, 100:280] = 0.0  # a black panel ...
    page[100:200, 170:190] = 1.0  # ... holding a white stroke
    assert preprocess.panel(page) == (61, 101, 239, 279)  # less its edge, whose neighbours are the page
    assert preprocess.panel(np.where(page == 0.0, 0.9, page)) is None  # no panel: the stroke on the page
    empty = page.copy()
    empty[100:200, 170:190] = 0.0
    assert preprocess.panel(empty) is None  # a panel holding nothing: a filled rectangle
    shaded = page.copy()
    shaded[60:240, 100:280] += np.linspace(0, 0.05, 180, dtype=np.float32)[None, :]
    assert preprocess.panel(shaded) is None  # each pixel as its neighbours, but not one colour: a lit sheet
    boxes = page.copy()
    boxes[60:240, 290:390] = 0.0  # a second box beside it, more than half its size: a form's
    assert preprocess.panel(boxes) is None


def test_a_digit_scaled_up_without_smoothing_gives_the_input_of_one_scaled_up_smoothly(mnist):
    """Scaled up by nearest neighbour, each of an MNIST digit's pixels is a square (square_side), and
    the image is smoothed by a box as wide: its 28x28 input is then that of the digit scaled up
    bilinearly but for its last bits (the median of the mean differences of 30 digits is 0.000;
    unsmoothed, 0.044)."""
    images = mnist["test"][0]
    differences = []
    for i in range(30):
        digit, size = Image.fromarray(images[i].reshape(28, 28)), (140, 224, 300, 448)[i % 4]
        squares = digit.resize((size, size), Image.Resampling.NEAREST)
        assert preprocess.square_side(squares) == size // 28  # 300 px: squares of 10 and 11 px
        smooth = digit.resize((size, size), Image.Resampling.BILINEAR)
        assert preprocess.square_side(smooth) is None
        differences.append(np.abs(preprocess.to_mnist(squares) - preprocess.to_mnist(smooth)).mean())
    assert np.median(differences) < 0.015, differences


def test_a_panel_is_read_on_a_margin_of_its_own_colour():
    page = np.full((300, 400, 3), 230, np.uint8)
    page[60:240, 100:280] = (20, 30, 90)  # a dark blue panel ...
    page[61:200, 101:110] = 250  # ... a stroke of its writing running into its corner
    image = Image.fromarray(page)
    part, (x, y) = preprocess.on_margin(image, (61, 101, 239, 279), 1.0, 1.0)
    margin = round(preprocess.PANEL_MARGIN * 178)
    assert part.size == (178 + 2 * margin, 178 + 2 * margin) and (x, y) == (101 - margin, 61 - margin)
    scaled, at = preprocess.on_margin(image, (61 / 2, 101 / 4, 239 / 2, 279 / 4), 4.0, 2.0)  # its own factor each way
    assert at == (x, y) and np.array_equal(np.asarray(scaled), np.asarray(part))
    assert part.getpixel((0, 0)) == (20, 30, 90)  # the panel's colour, not the stroke's at its corner
    assert np.array_equal(np.asarray(part)[margin:-margin, margin:-margin], page[61:239, 101:279])
    for mode in ("1", "L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F"):  # in every mode an image may come in
        other = image.convert(mode) if mode in ("P", "RGBA", "CMYK") else image.convert("L").convert(mode)
        part, _ = preprocess.on_margin(other, (61, 101, 239, 279), 1.0, 1.0)
        assert part.mode == mode and part.size == (178 + 2 * margin,) * 2
        if mode in ("L", "I;16", "I", "F"):
            assert part.getpixel((0, 0)) == other.getpixel((150, 150))


def test_the_convex_hull_of_a_mark_is_qhulls_pixel_for_pixel():
    """convex_hull against scipy.spatial's Qhull (the same polygon drawn through its corners): blobs,
    scattered pixels, three pixels, a single row or column and a single pixel."""
    def qhull(own):
        points = np.argwhere(own)
        try:
            corners = points[spatial.ConvexHull(points).vertices]
        except (spatial.QhullError, ValueError):  # in one line, or too few
            return own
        hull = Image.new("L", (own.shape[1], own.shape[0]), 0)
        ImageDraw.Draw(hull).polygon([(int(c), int(r)) for r, c in corners], fill=1, outline=1)
        return np.asarray(hull, bool)

    rng = np.random.default_rng(0)
    for k in range(400):
        shape = tuple(rng.integers(1, 60, 2))
        own = [rng.random(shape) < 0.05,
               ndimage.binary_dilation(rng.random(shape) < 0.01, iterations=int(rng.integers(1, 4))),
               np.isin(np.arange(shape[0] * shape[1]).reshape(shape), rng.integers(0, shape[0] * shape[1], 3)),
               np.arange(shape[0])[:, None] == rng.integers(0, shape[0]) + np.zeros(shape, bool),
               np.arange(shape[1])[None, :] == rng.integers(0, shape[1]) + np.zeros(shape, bool)][k % 5]
        if own.any():
            hull = preprocess.convex_hull(own)
            assert np.array_equal(hull, qhull(own)) and (hull >= own).all(), k
