"""Photos and images of handwritten digits and numbers, in hands MNIST has and hands it has not.

Every image varies what people vary, each drawn at random over the whole range below:

- the hand: MNIST's held-out test digits redrawn as pen strokes, or digits written stroke by
  stroke from a model of how people form them (round or angular, a 1 with or without its
  flag, a 4 open or closed, a 7 with or without its bar), which MNIST does not contain;
- the digit's width, 0.35 to 1.2 times its natural width (narrow and tall to wide), its
  slant, its size, and the pen: fine to fat, up to a marker whose stroke is a fifth of a
  small digit's height;
- in a number of 2 to 8 digits, the spacing: overlapping, touching, close or wide, and
  joined-up strokes running from one digit into the next;
- the surface: plain, ruled or squared paper (white, cream, gray; with or without a
  margin line) photographed on a table, unevenly lit, in slight perspective, blurred,
  noisy and JPEG-compressed; a dark board written on in chalk (light on dark); or an
  image made on a computer, dark on white or light on dark;
- and, framed `printed`, a line of print on the sheet above or below the writing (a
  worksheet's instruction, a form's label); framed `underlined`, the writing underlined (or,
  as a sum's result is, written under a line) once or twice by the same pen; framed `ringed`, a
  ring drawn around the writing by the same pen, crossing its first and last digits or not;
  framed `fine`, the writing on paper in a fine pen (a ballpoint on digits written large, or a
  photo of a whole page), its stroke down to a pixel wide; framed `wide`, the digits written
  wider than their natural width, as a squat hand writes them; framed `slanted`, the writing
  leaning further than the table's hands either way, as an italic hand leans.

    photo, label = make_photo(rng, images, labels, family="ruled", count=4)

`mnist_on_black` is the plain case: an MNIST test digit scaled up, white on black.
`pad_drawing` draws digits in the same hands on the drawing page's pad, with a pen of a given width.
`panel_image` shows digits in a panel of a larger image made on a computer: an MNIST test digit
as matplotlib shows it, digits pasted on a slide, a paint program's canvas in a screenshot.
"""

import io
import os

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

FAMILIES = ("plain", "ruled", "squared", "board", "screen")
PAPER_FAMILIES = ("plain", "ruled", "squared")
INKS = {  # RGB of the ink, and how dark it lays down at full pressure
    "black pen": ((25, 25, 35), 0.95),
    "blue pen": ((25, 45, 150), 0.9),
    "red pen": ((175, 25, 35), 0.9),
    "pencil": ((70, 70, 75), 0.6),
    "marker": ((20, 20, 20), 1.0),
}
PAPERS = [(245, 244, 238), (250, 246, 228), (232, 232, 228), (240, 238, 242)]
BOARDS = [(30, 50, 40), (25, 25, 30), (35, 40, 60)]
SPACINGS = ((-0.15, 0.0), (0.0, 0.08), (0.08, 0.25), (0.25, 0.6))  # gap / height: overlap, touch, close, wide
SPACING_NAMES = ("overlapping", "touching", "close", "wide")
JOINED = 0.3  # share of neighbouring digits joined by a stroke
# how the photo is taken, and what else is on the sheet
FRAMINGS = ("normal", "far", "close", "turned", "printed", "underlined", "ringed", "fine", "wide", "slanted", "abroad",
            "unjoined")
FAR = 3  # a photo taken from further away: a frame this many times as wide and tall around the same writing
CLOSE = (0.02, 0.5)  # a photo cropped close: the writing's height times this much is left around it
TURNED = 15  # a photo taken askew: the sheet turned this many degrees more, the way it was already turned
PRINTED = (0.15, 0.5)  # a printed line on the sheet: its capitals this share of the digits' height tall
PRINT = ("Exercise 3. Write the answer in the box below.", "Name: ____________  Class: ______", "Date",
         "Total amount due (EUR)", "Question 12 (2 points)", "Page 4 of 9", "ID number:", "Room",
         "Write one digit on each line, then check your answer.", "Signature")
UNDER_GAP = (-0.05, 0.35)  # an underline this share of the digits' height below their lowest ink (< 0: touching)
UNDER_ENDS = (-0.35, 0.1)  # its ends this share of the height inside the writing's ends (< 0: beyond them)
OVER = 0.2  # share of lines drawn over the writing rather than under it
TWICE = 0.25  # share of writing underlined twice
RING_SIDE = (-0.1, 0.4)  # a ring's sides this share of the digits' height beyond the writing's ends (< 0: inside)
RING_TALL = (1.15, 1.6)  # its height this many times the writing's
RING_NARROWEST = 0.35  # and its width at least this share of its height (a 1 is ringed by an oval)
RING_OVERRUN = (-15, 60)  # degrees: the pen ends this far past where it started (< 0: short of it, a gap)
FINE = (0.006, 0.025)  # framed `fine`: the pen this share of the digits' height wide, and at least 1 px
HAND_WIDTHS = (0.35, 1.2)  # a hand writes its digits this many times their natural width ...
WIDE_HAND = (1.3, 1.9)  # ... and framed `wide`, this many
HAND_SLANT = 0.35  # a hand slants its digits up to this many columns per row either way (19 degrees) ...
SLANTED_HAND = (0.35, 0.7)  # ... and framed `slanted`, this many (up to 35 degrees)

# How people form each digit: strokes of (x, y) points in a unit box, y downwards; several
# ways for the digits that people write in several ways.
FORMS = {
    0: [[[(0.5, 0.0), (0.12, 0.2), (0.02, 0.55), (0.2, 0.92), (0.55, 1.0), (0.88, 0.75), (0.95, 0.35),
          (0.75, 0.05), (0.45, 0.02)]]],
    1: [[[(0.5, 0.0), (0.5, 1.0)]],
        [[(0.15, 0.25), (0.55, 0.0), (0.5, 1.0)]],
        [[(0.15, 0.25), (0.55, 0.0), (0.5, 1.0)], [(0.15, 1.0), (0.85, 1.0)]]],
    2: [[[(0.08, 0.25), (0.3, 0.03), (0.65, 0.0), (0.9, 0.2), (0.85, 0.45), (0.5, 0.7), (0.05, 1.0),
          (1.0, 0.97)]],
        [[(0.1, 0.2), (0.45, 0.0), (0.85, 0.15), (0.8, 0.45), (0.1, 0.95), (0.3, 0.85), (0.55, 0.95),
          (1.0, 0.92)]]],
    3: [[[(0.08, 0.12), (0.45, 0.0), (0.85, 0.12), (0.8, 0.35), (0.4, 0.48), (0.85, 0.6), (0.92, 0.85),
          (0.5, 1.0), (0.05, 0.88)]],
        [[(0.05, 0.05), (0.9, 0.03), (0.4, 0.42), (0.85, 0.55), (0.92, 0.82), (0.5, 1.0), (0.05, 0.88)]]],
    4: [[[(0.62, 0.0), (0.05, 0.65), (1.0, 0.65)], [(0.75, 0.3), (0.75, 1.0)]],
        [[(0.12, 0.0), (0.08, 0.58), (0.95, 0.58)], [(0.75, 0.0), (0.72, 1.0)]]],
    5: [[[(0.2, 0.02), (0.15, 0.45), (0.5, 0.38), (0.85, 0.5), (0.9, 0.78), (0.55, 1.0), (0.08, 0.9)],
         [(0.2, 0.02), (0.88, 0.0)]],
        [[(0.9, 0.0), (0.22, 0.02), (0.15, 0.45), (0.55, 0.4), (0.88, 0.62), (0.75, 0.92), (0.35, 1.0),
          (0.05, 0.85)]]],
    6: [[[(0.8, 0.03), (0.42, 0.12), (0.12, 0.48), (0.1, 0.78), (0.38, 1.0), (0.78, 0.93), (0.9, 0.7),
          (0.65, 0.5), (0.3, 0.55), (0.12, 0.72)]]],
    7: [[[(0.0, 0.03), (1.0, 0.0), (0.42, 1.0)]],
        [[(0.0, 0.03), (1.0, 0.0), (0.42, 1.0)], [(0.3, 0.55), (0.88, 0.5)]],
        [[(0.05, 0.15), (0.05, 0.02), (1.0, 0.0), (0.6, 0.5), (0.45, 1.0)]]],
    8: [[[(0.85, 0.15), (0.5, 0.0), (0.15, 0.15), (0.2, 0.35), (0.5, 0.5), (0.85, 0.7), (0.8, 0.93),
          (0.5, 1.0), (0.15, 0.92), (0.15, 0.7), (0.5, 0.5), (0.8, 0.32), (0.85, 0.15)]]],
    9: [[[(0.92, 0.3), (0.7, 0.03), (0.35, 0.0), (0.08, 0.2), (0.2, 0.45), (0.55, 0.5), (0.92, 0.3),
          (0.88, 0.65), (0.72, 1.0)]],
        [[(0.9, 0.25), (0.65, 0.0), (0.25, 0.03), (0.08, 0.25), (0.3, 0.45), (0.7, 0.4), (0.9, 0.25),
          (0.9, 1.0)]]],
}


# How much of Europe and Latin America forms a 1 and a 7 (framed `abroad`): the 1 with a long flag,
# the 7 crossed so as not to be taken for it; one form for each of FORMS' forms of the digit.
ABROAD = {
    1: [[[(0.0, 0.4), (0.65, 0.0), (0.6, 1.0)]],
        [[(0.1, 0.3), (0.65, 0.0), (0.6, 1.0)]],
        [[(0.0, 0.4), (0.65, 0.0), (0.6, 1.0)], [(0.15, 1.0), (1.0, 1.0)]]],
    7: [[[(0.0, 0.03), (1.0, 0.0), (0.42, 1.0)], [(0.3, 0.55), (0.88, 0.5)]],
        [[(0.0, 0.03), (1.0, 0.0), (0.5, 1.0)], [(0.28, 0.5), (0.9, 0.48)]],
        [[(0.05, 0.15), (0.05, 0.02), (1.0, 0.0), (0.6, 0.5), (0.45, 1.0)], [(0.25, 0.55), (0.85, 0.5)]]],
}


def smooth(points, rounds):
    """The polyline cut at its corners `rounds` times (Chaikin): a curve through the same shape."""
    for _ in range(rounds):
        if len(points) < 3:
            break
        a, b = points[:-1], points[1:]
        middle = np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], axis=1).reshape(-1, 2)
        points = np.concatenate([points[:1], middle, points[-1:]])
    return points


def written_strokes(digit, rng, abroad=False):
    """[(n, 2) arrays] of one digit formed as a person forms it: unit box, points jittered, curves
    smoothed (angular hands keep their corners); `abroad`, a 1 or a 7 formed as ABROAD says, its
    points jittered from a stream of their own, so that `rng` moves on as it would have."""
    forms = FORMS[digit]
    form = int(rng.integers(len(forms)))
    rounds = int(rng.integers(0, 4))
    strokes = jittered(forms[form], rng, rounds)
    if abroad and digit in ABROAD:
        strokes = jittered(ABROAD[digit][form], stream_of_its_own(rng), rounds)
    return strokes


def jittered(strokes, rng, rounds):
    """[(n, 2) arrays]: the strokes of a form (lists of points in the unit box), each point moved
    a little at random, smoothed `rounds` times."""
    return [smooth(np.array(s, float) + rng.normal(0, 0.035, (len(s), 2)), rounds) for s in strokes]


def pen_image(strokes, size, pen_width, scale=4):
    """A float image (h, w) in [0, 1] of `strokes` ((n, 2) arrays in pixels) drawn with a round pen,
    anti-aliased by drawing `scale` times larger and shrinking."""
    width, height = size
    canvas = Image.new("L", (width * scale, height * scale), 0)
    draw = ImageDraw.Draw(canvas)
    radius = pen_width * scale / 2
    for stroke in strokes:
        points = [tuple(p) for p in stroke * scale]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(2 * radius)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas.resize(size, Image.Resampling.BOX), np.float32) / 255


def written_digit(digit, height, width_factor, slant, pen_width, rng, abroad=False):
    """(image, strokes in its pixels) of a digit written stroke by stroke, `height` px tall
    (`abroad`: see written_strokes)."""
    unit = written_strokes(digit, rng, abroad)
    if digit == 1:  # a stick is narrow; a 1 with a flag or a base is as wide as they are
        natural = 0.12 if sum(len(s) for s in unit) <= 2 else 0.35
    else:
        natural = rng.uniform(0.5, 0.8)
    width = max(1.0, natural * width_factor * height)
    strokes = []
    for stroke in unit:
        x, y = stroke[:, 0] * width, stroke[:, 1] * height
        strokes.append(np.stack([x + slant * (height - y), y], axis=1))
    points = np.concatenate(strokes)
    margin = pen_width + 2
    low = points.min(axis=0) - margin
    strokes = [s - low for s in strokes]
    size = np.ceil(points.max(axis=0) - low + margin).astype(int)
    return pen_image(strokes, (int(size[0]), int(size[1])), pen_width), strokes


def redrawn_mnist(image, height, width_factor, slant, pen_width):
    """(image, strokes) of an MNIST digit (28x28 uint8) redrawn with a round pen `pen_width` px wide,
    `height` px tall, `width_factor` times as wide as written, slanted by `slant`."""
    scale = height / 20
    big = Image.fromarray(image).resize((round(28 * scale), round(28 * scale)), Image.Resampling.BICUBIC)
    big = big.transform(big.size, Image.Transform.AFFINE, (1, slant, -slant * big.size[1] / 2, 0, 1, 0),
                        Image.Resampling.BILINEAR)
    big = big.resize((max(8, round(big.size[0] * width_factor)), big.size[1]), Image.Resampling.BILINEAR)
    inked = np.asarray(big) > 100
    if not inked.any():
        inked = np.asarray(big) > 0
    depth = ndimage.distance_transform_edt(inked)
    middle = inked & (depth >= ndimage.maximum_filter(depth, size=3) - 0.75)  # the ridge: a skeleton of sorts
    pad = int(np.ceil(pen_width)) + 2
    middle = np.pad(middle, pad)
    pen = ndimage.distance_transform_edt(~middle) <= pen_width / 2
    edge = ndimage.gaussian_filter(pen.astype(np.float32), 0.6)
    rows, cols = np.flatnonzero(edge.max(axis=1) > 0.05), np.flatnonzero(edge.max(axis=0) > 0.05)
    ridge_rows, ridge_cols = np.nonzero(middle)
    ends = np.stack([ridge_cols - cols[0], ridge_rows - rows[0]], axis=1).astype(float)
    return edge[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], [ends]


def font_digits(path, copies=100):
    """(images, labels): the digits 0 to 9 of the font file `path` (TrueType or OpenType) drawn as
    MNIST's are, white on black in 28 x 28 with the tallest 20 px tall (one wider than 26 px
    narrowed to fit) and each centred in its box, `copies` times each, so that a number may hold
    a digit twice. OSError if FreeType cannot read the file, ValueError if it has no digits of its
    own (two look the same)."""
    font = ImageFont.truetype(path, 200)
    glyphs = []
    for digit in range(10):
        left, top, right, bottom = font.getbbox(str(digit))
        glyph = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(glyph).text((-left, -top), str(digit), fill=255, font=font)
        glyphs.append(glyph.crop(glyph.getbbox() or (0, 0, 1, 1)))
    if len({(glyph.size, glyph.tobytes()) for glyph in glyphs}) < 10:
        raise ValueError("its digits are not ten different shapes")
    scale = 20 / max(glyph.size[1] for glyph in glyphs)
    images = np.zeros((10, 28, 28), np.uint8)
    for digit, glyph in enumerate(glyphs):
        size = (min(26, max(1, round(glyph.size[0] * scale))), max(1, round(glyph.size[1] * scale)))
        glyph = np.asarray(glyph.resize(size, Image.Resampling.LANCZOS))
        top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
        images[digit, top:top + size[1], left:left + size[0]] = glyph
    return np.tile(images, (copies, 1, 1)), np.tile(np.arange(10), copies)


def handwriting(rng, images, labels, count, height, pen_width, record=None, widths=HAND_WIDTHS, slanted=False,
                abroad=False, font=False, joined=JOINED, alone=None):
    """(ink image in [0, 1], label string) of `count` digits written in a row by one hand, its
    digits `widths` (least, most) times their natural width, slanting up to HAND_SLANT either way
    or, `slanted`, by SLANTED_HAND (the same draw, further), its 1s and 7s formed as ABROAD says if
    `abroad` (in the written hand: MNIST's digits are MNIST's); how they were written goes into the
    dict `record`, if given: the hand ("mnist" or "written", or "font" if `font`: `images` are a
    font's digits, font_digits, redrawn as MNIST's are), its width factor and slant, the spacing
    (SPACING_NAMES), how many neighbours are joined (each pair with the chance `joined`: with 0,
    the same writing without joining strokes), and the pen's width as a share of the digits'
    height. With `alone`, an index, the image holds only that digit of the row, where it stands
    in the whole writing's box, and no joining stroke: all else is drawn as for the whole row."""
    hand = "written" if rng.random() < 0.5 else "mnist"
    if font:  # the draw above is made all the same: the writer's width, slant and spacing are those of the seed
        hand = "font"
    chosen = rng.choice(len(images), count, replace=False)
    width_factor = float(np.exp(rng.uniform(*np.log(widths))))  # one writer, one width ...
    slant = rng.uniform(-HAND_SLANT, HAND_SLANT)  # ... and one slant
    if slanted:
        slant = np.sign(slant) * np.interp(abs(slant), (0, HAND_SLANT), SLANTED_HAND)
    spaced = int(rng.integers(len(SPACINGS)))
    spacing = SPACINGS[spaced]
    pieces = []
    for i in chosen:
        h = height * rng.uniform(0.88, 1.12)
        w = width_factor * rng.uniform(0.85, 1.15)
        if hand == "written":
            pieces.append(written_digit(int(labels[i]), h, w, slant + rng.normal(0, 0.05), pen_width, rng, abroad))
        else:
            pieces.append(redrawn_mnist(images[i], h, w, slant + rng.normal(0, 0.05), pen_width))
    gaps = [rng.uniform(*spacing) * height for _ in pieces[1:]] + [0]
    width = int(sum(p[0].shape[1] for p in pieces) + sum(max(g, 0) for g in gaps) + 4 * height)
    ink = np.zeros((int(2 * height + 4 * pen_width), width), np.float32)
    own = np.zeros_like(ink)  # the digit drawn alone
    x, ends = 2 * height // 2, []
    for k, ((digit, strokes), gap) in enumerate(zip(pieces, gaps)):
        y = int((ink.shape[0] - digit.shape[0]) / 2 + rng.uniform(-0.06, 0.06) * height)
        left = int(x)
        for layer in (ink, own) if k == alone else (ink,):
            part = layer[y:y + digit.shape[0], left:left + digit.shape[1]]
            np.maximum(part, digit[:part.shape[0], :part.shape[1]], out=part)
        points = np.concatenate(strokes) + (left, y)
        ends.append(points)
        x = left + digit.shape[1] + gap
    joins = []
    for a, b in zip(ends[:-1], ends[1:]):
        if rng.random() < joined:  # the pen runs on from the lower right of one digit to the next
            start = a[np.argmax(a[:, 0] + 0.5 * a[:, 1])]
            end = b[np.argmin(b[:, 0] + 0.3 * np.abs(b[:, 1] - b[:, 1].mean()))]
            dip = (start + end) / 2 + (0, 0.1 * height)
            joins.append(smooth(np.array([start, dip, end]), 2))
    if joins:
        np.maximum(ink, pen_image(joins, (ink.shape[1], ink.shape[0]), pen_width * 0.8), out=ink)
    if record is not None:
        record.update(hand=hand, width=width_factor, slant=slant, spacing=SPACING_NAMES[spaced],
                      joined=len(joins), pen=pen_width / height)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.02), np.flatnonzero(ink.max(axis=0) > 0.02)
    ink = (ink if alone is None else own)[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return ink, "".join(str(labels[i]) for i in chosen)


def pen_for(ink_name, height, rng):
    """The pen's width in px for a digit `height` px tall: a marker is fat, most of all on small digits."""
    if ink_name == "marker":
        share = rng.uniform(0.1, 0.22)
    elif ink_name == "pencil":
        share = rng.uniform(0.04, 0.08)
    else:
        share = rng.uniform(0.025, 0.1)
    return max(2.0, share * height)


def paper_lines(shape, family, spacing, rng):
    """A (h, w) array of how much line colour each pixel of the sheet gets (0 none, 1 full)."""
    lines = np.zeros(shape, np.float32)
    if family not in ("ruled", "squared"):
        return lines
    width = rng.uniform(1.0, 2.5)
    rows = np.arange(shape[0])[:, None]
    offset = rng.uniform(0, spacing)
    lines = np.maximum(lines, np.clip(width / 2 + 0.5 - np.abs((rows - offset) % spacing - spacing / 2), 0, 1))
    if family == "squared":
        cols = np.arange(shape[1])[None, :]
        lines = np.maximum(lines, np.clip(width / 2 + 0.5 - np.abs((cols - offset) % spacing - spacing / 2), 0, 1))
    return np.broadcast_to(lines, shape).astype(np.float32)


def fit(ink, width, height, share):
    """`ink` shrunk, if needed, to at most `share` of a width x height frame."""
    scale = min(1.0, share * width / ink.shape[1], share * height / ink.shape[0])
    if scale >= 1:
        return ink
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BOX))


def stream_of_its_own(rng):
    """A generator of random numbers that `rng` does not advance and whose draws do not advance
    `rng`: what a framing adds to a photo is drawn from it, so that the rest is the normal photo."""
    return np.random.default_rng(rng.bit_generator.jumped())


def make_photo(rng, images, labels, family="plain", count=1, size=None, quality=None, framing="normal", record=None,
               font=False, alone=None):
    """(JPEG or PNG bytes, label string) of `count` random test digits written in one row: on paper
    (`plain`, `ruled`, `squared`) or a dark board (`board`), photographed; or made on a computer
    (`screen`), as a PNG. A photo's `framing` is `normal` (the writing within a phone's frame as
    people hold it), `far` (the same writing in a frame FAR times as wide and tall: a page, or a
    12-megapixel photo from further away), `close` (cropped around the writing with a margin
    drawn from CLOSE times its height), `turned` (the sheet turned TURNED degrees more, either
    way), `printed` (a line of print on the sheet above or below the writing: printed_line) or
    `underlined` (a line under or over the writing in the same pen: underlined) or `ringed` (a
    ring drawn around the writing in the same pen, through its first and last digits or clear of
    them: ringed) or `fine` (on paper, the pen FINE of the digits' height wide, at least 1 px) or
    `wide` (the digits WIDE_HAND times their natural width) or `slanted` (the hand's slant
    SLANTED_HAND either way) or `abroad` (its 1s and 7s formed as ABROAD says); it does not change
    an image made on a computer. Framed `unjoined`, a photo or an image made on a computer is the
    same writing without the strokes that join neighbouring digits. With `alone`, an index, the
    photo or image is the same with only that digit written (the label is still the row's).
    `record`, `font`: see handwriting."""
    joined = 0.0 if framing == "unjoined" else JOINED
    if family == "screen":
        return screen_image(rng, images, labels, count, record, font, joined, alone)
    ink_name = "chalk" if family == "board" else list(INKS)[rng.integers(len(INKS))]
    ink_rgb, opacity = ((235, 235, 225), 0.85) if family == "board" else INKS[ink_name]
    width, height = size or (int(rng.choice([1000, 1200, 1600])), int(rng.choice([750, 900, 1200])))
    digit_height = rng.uniform(0.1, 0.35) * height / max(1, count ** 0.6)
    if rng.random() < 0.25:  # small digits, as people write them on a page
        digit_height = rng.uniform(0.05, 0.1) * height
    digit_height = max(digit_height, 24.0)
    pen_width = pen_for(ink_name, digit_height, rng)
    if framing == "fine" and family != "board":  # drawn from a stream of its own, as an underline is
        pen_width = max(1.0, stream_of_its_own(rng).uniform(*FINE) * digit_height)
    widths = WIDE_HAND if framing == "wide" else HAND_WIDTHS
    ink, label = handwriting(rng, images, labels, count, digit_height, pen_width, record, widths, framing == "slanted",
                             framing == "abroad", font, joined, alone)
    if framing == "underlined":  # drawn from a stream of its own: the rest of the photo is the normal one
        ink = underlined(stream_of_its_own(rng), ink, digit_height, pen_width)
    if framing == "ringed":  # drawn from a stream of its own, as an underline is
        ink = ringed(stream_of_its_own(rng), ink, digit_height, pen_width)
    if framing == "far":
        width, height = FAR * width, FAR * height
    ink = fit(ink, width, height, 0.8)

    sheet_h, sheet_w = int(height * rng.uniform(0.8, 1.3)), int(width * rng.uniform(0.8, 1.3))
    ground = BOARDS[rng.integers(len(BOARDS))] if family == "board" else PAPERS[rng.integers(len(PAPERS))]
    sheet = np.tile(np.array(ground, np.float32) / 255, (sheet_h, sheet_w, 1))
    grain = ndimage.gaussian_filter(rng.normal(0, 1, (sheet_h // 8 + 1, sheet_w // 8 + 1)), 2).astype(np.float32)
    grain = np.asarray(Image.fromarray(grain).resize((sheet_w, sheet_h), Image.Resampling.BILINEAR))
    sheet *= 1 + (0.06 if family == "board" else 0.015) * grain[:, :, None]
    spacing = digit_height * rng.uniform(0.45, 0.9)
    line_colour = np.array([(150, 180, 215), (170, 170, 175), (140, 170, 200)][rng.integers(3)], np.float32) / 255
    lines = paper_lines((sheet_h, sheet_w), family, spacing, rng)[:, :, None] * rng.uniform(0.5, 1.0)
    if family in ("ruled", "squared"):
        sheet = sheet * (1 - lines) + line_colour * lines
        if rng.random() < 0.5:  # the red margin line
            x = int(sheet_w * rng.uniform(0.05, 0.15))
            sheet[:, x:x + 2] = sheet[:, x:x + 2] * 0.3 + np.array([0.85, 0.3, 0.3]) * 0.7

    layer = np.zeros((sheet_h, sheet_w), np.float32)
    top = int(sheet_h / 2 - ink.shape[0] / 2 + rng.uniform(-0.1, 0.1) * height)
    left = int(sheet_w / 2 - ink.shape[1] / 2 + rng.uniform(-0.1, 0.1) * width * (1 - ink.shape[1] / sheet_w))
    top, left = min(max(top, 0), sheet_h - ink.shape[0]), min(max(left, 0), sheet_w - ink.shape[1])
    layer[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    if framing == "close":  # where the writing is, to be turned and moved as the sheet is
        writing = Image.fromarray(((layer > 0.05) * 255).astype(np.uint8))
    if ink_name in ("pencil", "chalk"):
        layer *= np.clip(rng.normal(1, 0.25, layer.shape), 0.3, 1.3)
    layer = np.clip(layer * opacity, 0, 1)[:, :, None]
    written = np.s_[top:top + ink.shape[0], left:left + ink.shape[1]]  # the ink is all here
    sheet[written] = sheet[written] * (1 - layer[written]) + np.array(ink_rgb, np.float32) / 255 * layer[written]
    if framing == "printed":  # drawn from a stream of its own: the rest of the photo is the normal one
        sheet = printed_line(stream_of_its_own(rng), sheet, (top, left) + ink.shape,
                             digit_height, family == "board")

    # the sheet on a table, seen from slightly off-axis
    table = np.array([(120, 85, 55), (60, 60, 65), (170, 160, 140), (30, 30, 30)][rng.integers(4)], np.float32) / 255
    sheet_image = Image.fromarray((np.clip(sheet, 0, 1) * 255).astype(np.uint8))
    angle = rng.uniform(-4, 4)
    if framing == "turned":
        angle += np.copysign(TURNED, angle)
    sheet_image = sheet_image.rotate(angle, Image.Resampling.BILINEAR, expand=True,
                                     fillcolor=tuple(int(c * 255) for c in table))
    canvas = Image.new("RGB", (width, height), tuple(int(c * 255) for c in table))
    at = (int((width - sheet_image.size[0]) / 2 + rng.uniform(-0.1, 0.1) * width),
          int((height - sheet_image.size[1]) / 2 + rng.uniform(-0.1, 0.1) * height))
    canvas.paste(sheet_image, at)
    k = rng.uniform(-0.00004, 0.00004, 2)
    perspective = (Image.Transform.PERSPECTIVE, (1, 0, 0, 0, 1, 0, k[0], k[1]), Image.Resampling.BILINEAR)
    canvas = canvas.transform(canvas.size, *perspective)
    if framing == "close":
        frame = Image.new("L", (width, height), 0)
        frame.paste(writing.rotate(angle, Image.Resampling.BILINEAR, expand=True), at)
        writing_box = frame.transform(frame.size, *perspective).getbbox()

    # light: a gradient across the page, maybe a shadow, darker corners, noise, blur
    photo = np.asarray(canvas, np.float32) / 255
    rows, cols = np.indices((height, width), dtype=np.float32)
    light = 1 + rng.uniform(-0.25, 0.1) * (cols / width - 0.5) * 2 + rng.uniform(-0.15, 0.1) * (rows / height - 0.5) * 2
    if rng.random() < 0.5:  # the shadow of a hand or a phone: a soft-edged dark region
        edge = rng.uniform(0.1, 0.9) * width + (rows - height / 2) * rng.uniform(-0.5, 0.5)
        light *= 1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-(cols - edge) / (0.02 * width)))
    light *= 1 - 0.35 * (((rows / height - 0.5) ** 2 + (cols / width - 0.5) ** 2) * 2) ** 2
    photo = photo * light[:, :, None] + rng.normal(0, rng.uniform(0.005, 0.03), photo.shape)
    image = Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    if framing == "close":
        left, top, right, bottom = writing_box
        margin = rng.uniform(*CLOSE) * (bottom - top)
        image = image.crop((max(0, int(left - margin)), max(0, int(top - margin)),
                            min(width, int(right + margin)), min(height, int(bottom + margin))))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(quality or rng.integers(60, 92)))
    return buffer.getvalue(), label


def printed_line(rng, sheet, writing, digit_height, board):
    """The sheet (rows, columns, RGB in [0, 1]) with a line of print (PRINT) above or below the
    writing (top, left, height, width) and clear of it, its capitals PRINTED times the digits'
    height tall: dark on paper, light on a board (a printed label stuck on it)."""
    top, left, height, width = writing
    font = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"),
                              max(8, round(rng.uniform(*PRINTED) * digit_height / 0.73)))  # capitals: 0.73 of the size
    text = PRINT[rng.integers(len(PRINT))]
    ascent, descent = font.getmetrics()
    gap, tall = rng.uniform(0.5, 2.0) * digit_height, ascent + descent
    below = sheet.shape[0] - top - height  # the room under the writing; `top` is the room above it
    room = [side for side, fits in (("above", top >= gap + tall), ("below", below >= gap + tall)) if fits]
    room = room or ["above" if top > below else "below"]
    row = top - gap - tall if room[rng.integers(len(room))] == "above" else top + height + gap
    column = left + rng.uniform(-0.5, 0.5) * max(width, font.getlength(text))
    layer = Image.new("L", (sheet.shape[1], sheet.shape[0]), 0)
    ImageDraw.Draw(layer).text((int(column), int(row)), text, fill=255, font=font)
    layer = np.asarray(layer, np.float32)[:, :, None] / 255
    colour = np.full(3, rng.uniform(0.85, 0.95) if board else rng.uniform(0.05, 0.3), np.float32)
    return sheet * (1 - layer) + colour * layer


def underlined(rng, ink, digit_height, pen_width):
    """The writing's `ink` (cropped to it) on a larger canvas with one line or two (TWICE) drawn
    under it, or over it (OVER), by a pen `pen_width` wide: UNDER_GAP times the digits' height
    from the writing (a second line farther, clear of the first), each end UNDER_ENDS times the
    height inside the writing's end, turned up to 3 degrees and bowed a little, as a line drawn
    by hand is."""
    over = rng.random() < OVER
    gap = rng.uniform(*UNDER_GAP) * digit_height
    lines = []
    for k in range(2 if rng.random() < TWICE else 1):
        if k:  # a second line, farther, a pen's width clear of the first
            gap += rng.uniform(0.1, 0.2) * digit_height + pen_width
        ends = np.array([rng.uniform(*UNDER_ENDS), -rng.uniform(*UNDER_ENDS)]) * digit_height
        xs = np.array([0, ink.shape[1] - 1], float) + ends
        ys = np.tan(np.radians(rng.uniform(-3, 3))) * (xs - xs.mean()) + gap
        bow = rng.uniform(-0.03, 0.03) * digit_height
        lines.append(smooth(np.array([(xs[0], ys[0]), (xs.mean(), ys.mean() + bow), (xs[1], ys[1])]), 3))
    margin = int(np.ceil(digit_height + 2 * pen_width))  # room for the lines around the writing
    size = (ink.shape[1] + 2 * margin, ink.shape[0] + 2 * margin)
    moved = [np.column_stack([x + margin, (-y if over else ink.shape[0] - 1 + y) + margin])
             for x, y in (line.T for line in lines)]
    canvas = pen_image(moved, size, pen_width * rng.uniform(0.8, 1.2))
    writing = canvas[margin:margin + ink.shape[0], margin:margin + ink.shape[1]]
    np.maximum(writing, ink, out=writing)
    rows, cols = np.flatnonzero(canvas.max(axis=1) > 0.02), np.flatnonzero(canvas.max(axis=0) > 0.02)
    return canvas[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def ringed(rng, ink, digit_height, pen_width):
    """The writing's `ink` (cropped to it) on a larger canvas with a ring drawn around it by a pen
    `pen_width` wide, as people ring an answer: an oval whose sides lie RING_SIDE times the
    digits' height beyond the writing's ends (or inside them: it crosses the first and last
    digits), RING_TALL times as tall as the writing and at least RING_NARROWEST as wide as
    tall, turned up to 10 degrees, its radius wavering, and the pen running on RING_OVERRUN
    degrees past where it started, a little inside or outside it (or stopping short, leaving a
    gap)."""
    height, width = ink.shape
    across = width / 2 + rng.uniform(*RING_SIDE) * digit_height  # half the oval's width ...
    tall = height / 2 * rng.uniform(*RING_TALL)  # ... and half its height
    across = max(across, RING_NARROWEST * tall)
    start, turn = rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(-10, 10))
    sweep = 2 * np.pi + np.radians(rng.uniform(*RING_OVERRUN))
    angles = start + np.linspace(0, sweep, 200) * rng.choice([-1, 1])
    waver = 1 + np.interp(np.linspace(0, 1, 200), np.linspace(0, 1, 6), rng.uniform(-0.04, 0.04, 6))
    waver *= 1 + np.linspace(0, rng.uniform(-0.08, 0.08), 200)  # the end comes back inside or outside
    x, y = across * np.cos(angles) * waver, tall * np.sin(angles) * waver
    x, y = x * np.cos(turn) - y * np.sin(turn), x * np.sin(turn) + y * np.cos(turn)
    margin = int(np.ceil(np.hypot(across, tall) * 1.1 - min(width, height) / 2 + 2 * pen_width))
    size = (width + 2 * margin, height + 2 * margin)
    ring = np.column_stack([x + margin + (width - 1) / 2, y + margin + (height - 1) / 2])
    canvas = pen_image([ring], size, pen_width * rng.uniform(0.8, 1.2))
    writing = canvas[margin:margin + height, margin:margin + width]
    np.maximum(writing, ink, out=writing)
    rows, cols = np.flatnonzero(canvas.max(axis=1) > 0.02), np.flatnonzero(canvas.max(axis=0) > 0.02)
    return canvas[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def screen_image(rng, images, labels, count, record=None, font=False, joined=JOINED, alone=None):
    """(PNG bytes, label) of digits drawn in a paint program: light on dark or dark on light, with
    a round brush, on a canvas a little larger than the writing. `record`, `font`, `joined`,
    `alone`: see handwriting."""
    height = rng.uniform(40, 200)
    pen_width = max(2.0, rng.uniform(0.06, 0.2) * height)
    ink, label = handwriting(rng, images, labels, count, height, pen_width, record, font=font, joined=joined,
                             alone=alone)
    margin = int(rng.uniform(0.15, 0.6) * height)
    ink = np.pad(ink, ((margin, margin), (margin + int(rng.uniform(0, 0.5) * height), margin)))
    light_on_dark = rng.random() < 0.5
    gray = ink if light_on_dark else 1 - ink
    image = Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), label


PAD = 280  # px: the drawing page's pad is this wide and tall
PAD_HEIGHTS = ((150, 240), (120, 230))  # px: one digit drawn on it this tall, and each digit of a number


def pad_drawing(rng, images, labels, count, pen_width, record=None):
    """(PNG bytes, label) of `count` digits drawn on the drawing page's pad, black on white, with a
    round pen `pen_width` px wide, anywhere on it: one digit PAD_HEIGHTS[0] tall, the digits of a
    number PAD_HEIGHTS[1], the same digits drawn again smaller, as people do, until they fit (so
    that `rng` in the same state draws the same digits with every pen). `record`: see
    handwriting."""
    start, shrink = rng.bit_generator.state, 1.0
    while True:
        rng.bit_generator.state = start
        ink, label = handwriting(rng, images, labels, count, shrink * rng.uniform(*PAD_HEIGHTS[count > 1]), pen_width,
                                 record)
        if max(ink.shape) <= PAD - 8:
            break
        shrink *= 0.9
    canvas = np.zeros((PAD, PAD), np.float32)
    top, left = (int(rng.integers(0, PAD - side + 1)) for side in ink.shape)
    canvas[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    buffer = io.BytesIO()
    Image.fromarray((255 - np.clip(canvas, 0, 1) * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue(), label


def mnist_on_black(image, size=280, blur=None, rng=None):
    """PNG bytes of an MNIST digit (28x28 uint8) scaled up to size x size, white on black, softened
    as a paint program's brush or a screenshot's scaling softens it."""
    big = Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR)
    radius = blur if blur is not None else (rng.uniform(0, 3) if rng is not None else 1.5)
    big = big.filter(ImageFilter.GaussianBlur(radius))
    buffer = io.BytesIO()
    big.save(buffer, "PNG")
    return buffer.getvalue()


# Digits shown in a panel of a larger image made on a computer (panel_image)
PANEL_KINDS = ("plot", "slide", "screenshot")
COLOUR_MAPS = (None, "gray", "gray_r", "binary", "hot", "magma", "Greys")  # None: matplotlib's default
CAPTIONS = ("Input image", "Draw here", "My digit", "Test", "Result:", "Handwriting sample", "Canvas", "Sample")


def panel_image(rng, images, labels, kind):
    """(PNG bytes, label string) of digits shown in a panel of a larger image made on a computer:
    `plot`, an MNIST test digit as matplotlib shows it (imshow); `slide`, an MNIST digit scaled up
    or a written number pasted on a page of another colour; `screenshot`, a digit or number drawn
    on the canvas of a paint program, with the program's bars and buttons around it."""
    maker = {"plot": plotted_digit, "slide": slide_image, "screenshot": screenshot_image}[kind]
    image, label = maker(rng, images, labels)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), label


def plotted_digit(rng, images, labels):
    """(image, label): an MNIST test digit shown by matplotlib's imshow in a figure of random size
    and resolution, in one of COLOUR_MAPS, with or without its axes, a title and a colour bar,
    saved whole or cut close (bbox_inches="tight")."""
    from matplotlib.figure import Figure

    i = int(rng.integers(len(labels)))
    colours = COLOUR_MAPS[int(rng.integers(len(COLOUR_MAPS)))]
    figure = Figure(figsize=(rng.uniform(3, 8), rng.uniform(2.5, 6)), dpi=int(rng.choice([72, 100, 150])))
    axes = figure.subplots()
    shown = axes.imshow(images[i], cmap=colours)
    if rng.random() < 0.3:
        axes.axis("off")
    if rng.random() < 0.4:
        axes.set_title(str(rng.choice([f"Label: {labels[i]}", "Prediction", f"Test image {i}", "Sample"])))
    if rng.random() < 0.3:
        figure.colorbar(shown)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", **({"bbox_inches": "tight"} if rng.random() < 0.5 else {}))
    return Image.open(buffer), str(labels[i])


def panel_writing(rng, images, labels, side):
    """(gray image in [0, 1], label): an MNIST digit scaled up to `side` px (nearest or bilinear),
    or 1 to 5 digits written by one hand (handwriting) with a margin, light on dark or dark on light."""
    light = rng.random() < 0.5
    if rng.random() < 0.5:
        i = int(rng.integers(len(labels)))
        resampling = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)[int(rng.integers(2))]
        ink = np.asarray(Image.fromarray(images[i]).resize((side, side), resampling), np.float32) / 255
        label = str(labels[i])
    else:
        count = int(rng.integers(1, 6))
        height = side * rng.uniform(0.3, 0.6) / (1 if count == 1 else 1.5)
        ink, label = handwriting(rng, images, labels, count, height, max(2.0, rng.uniform(0.06, 0.18) * height))
        ink = np.pad(ink, int(rng.uniform(0.15, 0.5) * height))
    return (ink if light else 1 - ink), label


def page_colour(rng):
    """An RGB colour of a slide or a document: white, light or dark grey, or a pastel."""
    choice = rng.choice(["white", "light", "dark", "pastel"])
    if choice == "white":
        return (255, 255, 255)
    if choice == "light":
        level = int(rng.uniform(225, 245))
        return (level, level, level)
    if choice == "dark":
        level = int(rng.uniform(25, 55))
        return (level, level, level + 5)
    return tuple(int(v) for v in rng.uniform(200, 250, 3))


def slide_image(rng, images, labels):
    """(image, label): panel_writing pasted on a page of page_colour 500-1400 x 400-1000 px, with
    or without a line drawn around it and a caption above it (CAPTIONS)."""
    width, height = int(rng.uniform(500, 1400)), int(rng.uniform(400, 1000))
    page = Image.new("RGB", (width, height), page_colour(rng))
    gray, label = panel_writing(rng, images, labels, int(height * rng.uniform(0.2, 0.6)))
    tile = Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8)).convert("RGB")
    if tile.height > 0.8 * height or tile.width > 0.9 * width:
        scale = min(0.8 * height / tile.height, 0.9 * width / tile.width)
        tile = tile.resize((max(1, int(tile.width * scale)), max(1, int(tile.height * scale))))
    x, y = int(rng.uniform(0.05, 0.95) * (width - tile.width)), int(rng.uniform(0.15, 0.9) * (height - tile.height))
    page.paste(tile, (x, y))
    draw = ImageDraw.Draw(page)
    if rng.random() < 0.3:
        line, colour = int(rng.integers(1, 4)), tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.rectangle((x - line, y - line, x + tile.width + line - 1, y + tile.height + line - 1), outline=colour,
                       width=line)
    if rng.random() < 0.5:
        font = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"),
                                  int(rng.uniform(14, 36)))
        colour = (20, 20, 20) if sum(page.getpixel((0, 0))) > 380 else (230, 230, 230)
        draw.text((x, max(2, y - font.size * 1.6)), str(rng.choice(CAPTIONS)), fill=colour, font=font)
    return page, label


def screenshot_image(rng, images, labels):
    """(image, label): 1 to 4 digits written by one hand (handwriting) on the canvas of a paint
    program, white (or black), in a window 600-1400 x 450-900 px of light (or dark) grey with a bar
    of buttons above and a status bar below."""
    width, height = int(rng.uniform(600, 1400)), int(rng.uniform(450, 900))
    dark = rng.random() < 0.3
    ui = int(rng.uniform(30, 60)) if dark else int(rng.uniform(200, 240))
    window = Image.new("RGB", (width, height), (ui, ui, ui))
    draw = ImageDraw.Draw(window)
    bar = int(rng.uniform(30, 70))
    draw.rectangle((0, 0, width, bar), fill=(ui - 15,) * 3 if not dark else (ui + 15,) * 3)
    for b in range(int(rng.integers(6, 16))):
        left, side = 8 + b * int(bar * 0.9), int(bar * 0.7)
        shade = int(rng.uniform(100, 250)) if not dark else int(rng.uniform(60, 120))
        top = (bar - side) // 2
        draw.rectangle((left, top, left + side, top + side), fill=(shade,) * 3, outline=(90, 90, 90))
        if rng.random() < 0.6:
            draw.line((left + 4, top + side - 4, left + side - 4, top + 4), fill=(30, 30, 30), width=2)
    status = int(rng.uniform(18, 30))
    draw.rectangle((0, height - status, width, height), fill=(ui - 25,) * 3 if not dark else (ui + 25,) * 3)
    left, top = int(rng.uniform(10, 80)), bar + int(rng.uniform(10, 40))
    canvas_width = width - left - int(rng.uniform(10, 80))
    canvas_height = height - top - status - int(rng.uniform(10, 40))
    background = 1.0 if rng.random() < 0.8 else 0.0
    canvas = np.full((canvas_height, canvas_width), background, np.float32)
    count = int(rng.integers(1, 5))
    digit_height = canvas_height * rng.uniform(0.25, 0.6) / (1 if count == 1 else 1.3)
    ink, label = handwriting(rng, images, labels, count, digit_height,
                             max(2.0, rng.uniform(0.05, 0.2) * digit_height))
    if ink.shape[1] > canvas_width * 0.9 or ink.shape[0] > canvas_height * 0.9:
        scale = min(canvas_width * 0.9 / ink.shape[1], canvas_height * 0.9 / ink.shape[0])
        size = (max(1, int(ink.shape[1] * scale)), max(1, int(ink.shape[0] * scale)))
        ink = np.clip(np.asarray(Image.fromarray(ink).resize(size)), 0, 1)
    x, y = int(rng.uniform(0, canvas_width - ink.shape[1])), int(rng.uniform(0, canvas_height - ink.shape[0]))
    part = canvas[y:y + ink.shape[0], x:x + ink.shape[1]]
    canvas[y:y + ink.shape[0], x:x + ink.shape[1]] = part * (1 - ink) + (1 - background) * ink
    window.paste(Image.fromarray((np.clip(canvas, 0, 1) * 255).astype(np.uint8)).convert("RGB"), (left, top))
    return window, label
