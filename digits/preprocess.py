"""Turn an image people actually have into the 28x28 input MNIST digits look like.

MNIST digits are light ink on a black background, scaled so that the longer side of
the ink's bounding box is 20 px, and placed in 28x28 with the ink's centre of mass
at the centre. A photo, scan, drawing or screenshot of a digit is usually dark on
light, off-centre and any size. Each function below is one step of the way from
one to the other; `to_digits` runs them in order and finds each digit of a number.
`to_raw` is the plain resize, for comparison. Images are float arrays in [0, 1], row by row, 1 = ink once inverted.
"""

import warnings

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps, UnidentifiedImageError
from scipy import ndimage

from digits.cli import InputError, open_regular_file

try:  # HEIC / HEIF, the format of an iPhone's photos, read through Pillow
    from pillow_heif import register_heif_opener
except ImportError:  # without it, such a photo is refused with what to install (load_image)
    HEIF_READABLE = False
else:
    register_heif_opener()
    HEIF_READABLE = True

MAX_PIXELS = 50_000_000  # larger images are refused before they are decoded
WORK_SIZE = 512  # larger images are shrunk to this longer side first: faster, less noise
DECODED_SIZE = 4 * WORK_SIZE  # a large JPEG is decoded at reduced size, but at least this (closer_box)
DOT = 0.1  # a pixel this much darker or lighter than all four of its neighbours stands alone (a dot) ...
DOTTED = 0.01  # ... and an image of few colours with more than this share of dots is dithered ...
DOT_BLUR = 1.0  # px: ... and smoothed by a Gaussian this wide before it is read
SQUARE = 3  # px: an image made of squares of one colour this wide or wider, their edges in ...
SQUARES = 8  # ... at least this many columns or rows, was scaled up without smoothing
BOX = 20  # MNIST: the ink's bounding box fits 20x20 ...
SIZE = 28  # ... inside a 28x28 image ...
CENTRE = 14.0  # ... with the centre of mass at pixel (14, 14)
FLAT = 0.02  # a border whose pixels are within this of its median ...
FLAT_SHARE = 0.95  # ... all but a few (where a digit runs into it) is of one flat colour ...
PAINTED = 0.8  # ... or this share of it is exactly one colour, the image's lightest or darkest (a canvas drawn on)
PANEL = 0.01  # a region of one flat colour this share of the image or larger, clear of its edge ...
PANEL_LEVEL = 2 / 255  # ... of one colour as a computer paints it (all but a few pixels within this) ...
PANEL_RIM = 2  # px: ... that runs all around its box this far in is a panel (a plot, a canvas) ...
PANEL_STEP = 0.04  # ... that differs from the page around it by this much ...
PANEL_HOLDS = 20  # px: ... and holds this many pixels or more of another colour (MIN_CONTRAST) ...
PANEL_SIBLING = 0.5  # ... unless another beside it is this share of its size (a form's boxes)
PANEL_MARGIN = 0.05  # a panel is read on a margin of its colour this share of its longer side wide
MIN_CONTRAST = 0.08  # ink must differ from the background by this much to count as ink
RARER = 1.25  # the ink is the colour this many times rarer than the other where there is contrast ...
CONTRAST = 0.3  # ... a range of levels around a pixel at least this share of the image's widest ...
EXTREME = 0.25  # ... its pixels in this share of the range nearest the darkest or the lightest
PEN_WINDOW = 6  # the background is what is wider than this many stroke widths of the darkest mark ...
WIDEST_STROKE = 2  # ... and than this many of the widest stroke among the marks half as dark
BACKGROUND = 1 / 4  # marks narrower than this share of the image's shorter side can be ink
LINE_LEVEL = 0.1  # lines of ruled and squared paper are looked for among pixels this dark
LONGEST = 0.75  # a thin straight mark longer than this share of the image is a line, not a digit ...
STRAIGHT = 0.05  # ... if its ink spreads across it less than its stroke's width and this share of its length
ACROSS = 0.4  # ... and so is a level one, no taller than 3 stroke widths, across this share of its width
INK_LEVEL = 0.35  # strokes: pixels at least this share of the darkest ink (lines of the paper are lighter)
THIN = 1.5  # px: strokes narrower than this where they are read are hairlines, thickened by a pixel (hairline)
EDGE = 0.01  # marks this share of the image's longer side from its edge touch the edge
FAINTER = 0.8  # a mark whose ink is nowhere this share as strong as the strongest mark's ...
BROADER = 1.5  # ... whose strokes are this many times as wide ...
FRAME = 0.5  # ... and which runs across this share of the image is a surface (a wall beside a board)
SPECK = 0.03  # marks smaller than this share of the largest mark's area are specks
SKEW = 8  # degrees: the lines of a sheet photographed askew are looked for up to this slope
LINE_WIDTH = 3  # px: lines of ruled and squared paper are at most this thick at WORK_SIZE
FAINT_SHARE = 0.5  # a line with less than this share of its pixels as dark as strokes is fainter than them
STROKE = 2.9  # px: MNIST's typical stroke width (twice the area over the outline) in 28x28
MIN_HEIGHT = 0.4  # marks less tall than this share of the tallest are dots and specks, not digits
STRAY = 0.3  # marks away from the line of digits with less than this share of the largest's ink are strays
UNDERLINE = 1.0  # a level stroke at least this share of the tallest mark's height long under or over digits is none ...
UNDER_ONE = 0.5  # ... and so is one at least this share long apart from a lone digit (underlines)
SHARD = 0.12  # ... unless taking it away leaves a curved piece of its mark this share of that height tall
THIN_LINE = 25  # a straight stroke taller than this many times its width is more likely a line of the paper than a 1 ...
NEARLY_STRAIGHT = 0.05  # ... and so is a mark bent by no more than this share of its height, with as little ink
ROW = 0.6  # two marks one above the other, each at least this share of the tallest's height, are two rows
RING_RAYS = 180  # a ring is followed along this many rays from its middle ...
RING_REACH = 1.6  # ... out to this many times the ellipse of the mark's moments
RING_INNER = 0.05  # the cost of following a run of ink on a ray that is not its outermost, per run outside it
RING_GAP = 1.0  # the cost of a ray where no ink is followed (a gap in the ring)
RING_ROUND = 0.15  # a ring's middle lies within this share of its typical distance from the middle of the mark ...
RING_ROUND_SHARE = 0.9  # ... on this share of the rays
RING_OUTERMOST = 0.6  # ... and is the outermost ink on this share of them
RING_SMOOTH = 9  # rays: where the ring runs is the median of this many rays' runs
RING_CLEAR = 1.0  # what a ring holds reaches farther than this many of its widths from it
MAX_DIGITS = 12  # more digits than this are not one number ...
MAX_MARKS = 2 * MAX_DIGITS  # ... nor more marks than this (a digit may be written in broken strokes)
NARROW = 0.55  # digits narrower than this share of their height (other than a 1) are widened to it ...
STICK = 0.02  # ... unless their ink spreads across no more than a straight stroke's + this share of their height
PINHOLE = 2  # ... and they enclose no hole larger than this many pixels (a loop's; a stroke's pinholes are noise)
WIDER = (0.7, 0.85)  # ... and are also read widened to these shares: the answer is the average of the readings
BULGE = 1.5  # a single stroke whose thickest cross-section in its middle is this many times its thinnest ...
MIDDLE = (0.15, 0.85, 7)  # ... (its middle: between these shares of its length, in this many equal parts) is also read widened
LINE_HEIGHT = 64  # px: a line of writing is cut into digits at a scale where it is at least this tall
CLOSER_MARGIN = 16  # px: a line looked at closer is taken with a margin of its height, and at least this
CUTTABLE = 0.35  # marks at least this share of the line's height wide may hold several digits
MIN_PART = 0.12  # the parts of a cut mark are at least this share of the line's height wide
MAX_CUTS = 8  # ways to cut one mark, at most
SIDESTEP = 0.05  # the cost of a cut's move by one column, against 1 per pixel of ink crossed
SLANTS = (-0.7, 0.35)  # columns per row down: 90% of MNIST's digits slant within these (best_slope of their strokes)
SLANT_STEPS = np.round(np.arange(-1.2, 1.21, 0.05), 2)  # a line's slant is looked for among these
MAX_PIECES = 4  # a digit is made of at most this many pieces ...
WIDEST = 1.5  # ... and at most this many line heights wide
MERGE_GAP = 0.25  # separate marks farther apart than this share of the line's height are not one digit
WIDE = 1.4  # a candidate digit wider than this share of the line's height (a 0 written wide) ...
WIDE_COST = 3.0  # ... costs this much log-probability per line height beyond it
HAND_WIDE = 1.5  # once read, a candidate wider than this many of the hand's digit widths ...
HAND_COST = 3.0  # ... costs this much log-probability per such width beyond it, and the line is read again
SHORT = 0.6  # a candidate digit less tall than this share of the line's height ...
SHORT_ONE = 0.8  # ... or read as a 1 and less tall than this share (a 1 is a stroke as tall as the line) ...
SHORT_COST = 5.0  # ... costs this much log-probability per line height below it
OFF_LINE = 0.12  # a candidate digit whose middle lies farther than this share of the line's height
                 # from the line's middle (its pieces' top to bottom) ...
OFF_LINE_COST = 5.0  # ... costs this much log-probability per line height beyond (digits stand in a row)
JOIN_COST = 1.0  # a candidate digit made of separate marks costs this much log-probability per join ...
BROKEN = 0.05  # ... less, in proportion, across a gap narrower than this share of the line's height (a broken stroke)
STEADY_ANGLES = (-10, 10)  # degrees: candidate digits are also read turned by these
CUT_COST = 1.0  # a cut through ink costs this much log-probability per stroke crossed
SURE = 0.9  # a candidate cut from a neighbour through ink, read less surely than this, is read again ...
TAIL = 0.18  # ... without its ink this share of the line's height along its strokes from the cut ...
HIGH = 1 / 3  # ... unless the cut is in this top share of it (a 7's bar, a 5's flag: the pen runs on from low)
ROW_STROKES = 2.0  # a digit's rows cross at most this many strokes on average (all but 0.3% of MNIST's) ...
ROW_STROKES_COST = 4.0  # ... a candidate digit costs this much log-probability per stroke beyond it
SMALL = 2 * SIZE  # an image no larger than this is taken to hold one digit
TIGHT = 0.5  # an image whose line of writing is at least this share of its height tall was cropped to it
ROW_LENGTH = 2.5  # marks in a band this many times as long as it is wide are a row of writing ...
TILT = SKEW  # degrees: ... which is turned level if it is turned by more than the paper's lines are looked for at ...
MAX_TILT = 25  # ... and at most this
EXIF_ORIENTATION = 0x0112  # the EXIF tag that says how the camera was held
HEIF_BRANDS = (  # the brands of a HEIF file (a HEIC photo) in its first box
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")


def load_image(source, name=None, max_pixels=MAX_PIXELS):
    """The decoded image in `source` (a path or a binary file object), refusing anything but a
    regular file, non-images, truncated files and decompression bombs. Errors name the image as
    `name` (default: the path). A large JPEG is decoded at reduced size (at least DECODED_SIZE px).
    """
    name = source if name is None else name
    file = source if hasattr(source, "read") else open_regular_file(source, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            width, height = image.size
            if width * height > max_pixels:
                raise InputError(f"{name}: image is too large ({width}x{height} pixels, "
                                 f"at most {max_pixels:,} are read)")
            if image.format == "JPEG":
                image.draft(image.mode, (DECODED_SIZE, DECODED_SIZE))
            image.load()
            image.info["decoded scale"] = width / image.size[0]  # > 1 where a draft decode made it smaller
    except UnidentifiedImageError:
        raise InputError(f"{name}: {unread_kind(file)}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{name}: image is too large (possible decompression bomb)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: cannot decode image ({e})") from None
    finally:
        if file is not source:
            file.close()
    return image


def unread_kind(file):
    """What the seekable file object that Pillow cannot read holds, told by its first bytes, and
    what to do with it: nothing at all, a HEIF image (a HEIC photo: an ISO box "ftyp" first, with
    a HEIF brand), a PDF document, an SVG drawing, or something else."""
    file.seek(0)
    head = file.read(4096)
    if not head:
        return "empty file"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return ("cannot decode image (a HEIC/HEIF file, damaged or truncated)" if HEIF_READABLE else
                "a HEIC/HEIF photo, which needs pillow-heif to be read (pip install pillow-heif), "
                "or save it as JPEG or PNG")
    if head.startswith(b"%PDF-"):
        return "a PDF document, not an image: save or export its page as PNG or JPEG"
    if b"<svg" in head.lower():
        return "an SVG drawing, which is not read: export it as PNG"
    return "not an image file PIL can read"


def apply_exif_orientation(image):
    """The image turned the way the camera's EXIF orientation tag says it was held."""
    if image.getexif().get(EXIF_ORIENTATION, 1) == 1:
        return image
    return ImageOps.exif_transpose(image)


def common_mode(image):
    """The image in one of the modes the next steps read: L, LA, RGB, RGBA, I or F.

    I holds whole numbers (16-bit scans, 32-bit TIFFs), F floating-point values;
    both keep their full range, which `flatten_transparency` scales to [0, 1].
    """
    transparent = "transparency" in image.info
    if image.mode in ("LA", "RGBA") or (image.mode in ("L", "RGB", "I", "F") and not transparent):
        return image
    if image.mode.startswith("I;16"):
        return image.convert("I")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("L", "La", "PA"):
        return image.convert("LA")
    if "A" in image.mode or "a" in image.mode or transparent:
        return image.convert("RGBA")
    return image.convert("RGB")


def shrink_large(image):
    """The image shrunk so its longer side is at most WORK_SIZE px (averaging blocks of pixels)."""
    width, height = image.size
    scale = WORK_SIZE / max(width, height)
    if scale >= 1:
        return image
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)


def gray_levels(image):
    """A grayscale array in [0, 1] of an image without transparency, at the full range of its mode.

    8-bit modes span 0-255; I (16- or 32-bit whole numbers) and F (floats) are
    divided by the smallest of 255, 65535 and 2**32 - 1 that holds their largest
    value (F values up to 1 are taken as they are; negative values shift the scale).
    """
    if image.mode not in ("I", "F"):
        return np.asarray(image.convert("L"), np.float32) / 255
    values = np.nan_to_num(np.asarray(image, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low = min(0.0, float(values.min()))
    high = float(values.max()) - low
    scales = (1.0, 255.0, 65535.0, 2.0**32 - 1) if image.mode == "F" else (255.0, 65535.0, 2.0**32 - 1)
    full = next((s for s in scales if high <= s), high)
    return ((values - low) / full).astype(np.float32)


def flatten_transparency(image):
    """A grayscale array in [0, 1]; transparent pixels become a background that contrasts with the ink.

    A digit drawn on a transparent canvas has its ink in the alpha channel: the
    opaque pixels are the strokes, dark or light. They are composited onto white
    if they are dark and onto black if they are light, so the ink always stands out.
    """
    if image.mode not in ("LA", "RGBA"):
        return gray_levels(image)
    alpha = np.asarray(image.getchannel("A"), np.float32) / 255
    gray = np.asarray(image.convert("L"), np.float32) / 255
    if alpha.min() > 0.99:
        return gray
    ink_level = np.sum(gray * alpha) / max(np.sum(alpha), 1e-6)
    background = 1.0 if ink_level < 0.5 else 0.0
    return gray * alpha + background * (1 - alpha)


def border_mask(shape, width=None):
    """True on the image's outer frame, `width` px wide (by default a few pixels, where the
    background shows)."""
    mask = np.zeros(shape, bool)
    width = max(1, min(shape) // 20) if width is None else width
    mask[:width] = mask[-width:] = True
    mask[:, :width] = mask[:, -width:] = True
    return mask


def edge_frame(shape):
    """The image's frame EDGE of its longer side wide (at least 1 px): a mark in it touches the
    edge, or is what the background's removal left of one."""
    return border_mask(shape, max(1, round(EDGE * max(shape))))


def make_ink_light(gray, computer=None):
    """The image with light ink on a dark background, inverted if the ink is dark.

    In a small image (MNIST's digits fill their middle), and in one whose border is of one flat
    colour that covers most of the image (made on a computer: a drawing, a screenshot; `computer`,
    made_on_computer's answer, if already known), the
    background is the median of the border, and the ink the extreme, darkest or lightest pixel,
    that lies farther from it. Otherwise (a photo) the ink is the rarer colour where there is
    contrast (rarer_ink); where neither is RARER times as rare (a fat pen, a broad stroke of
    chalk), the ink is told by its shape: split at the level halfway between the darkest and
    the lightest pixels, ink makes thin strokes, while the other side makes the background,
    the paper, a table, and the holes of a 0 or an 8, which are broad. The ink is the side whose
    marks that stay clear of the image's edge are thinner (stroke width over size).
    """
    if max(gray.shape) <= SMALL or (made_on_computer(gray) if computer is None else computer):
        level = np.median(gray[border_mask(gray.shape)])
        return 1 - gray if level - gray.min() > gray.max() - level else gray
    darker, lighter = rarer_ink(gray)
    if max(darker, lighter) > RARER * min(darker, lighter):
        return 1 - gray if darker < lighter else gray
    darkest, lightest = np.percentile(gray, [0.1, 99.9])
    split = (darkest + lightest) / 2
    light, dark = thinness(gray > split), thinness(gray <= split)
    return gray if light < dark else 1 - gray


def rarer_ink(gray):
    """(dark, light): how many pixels lie in the darkest and in the lightest EXTREME of the range
    of levels around them (in the background's widest window, background_window), counting
    only where that range is at least CONTRAST of the image's widest ranges. Strokes of ink are
    few beside the paper or board around them, whatever lies farther away: a dark table, a
    shadow, a light wall."""
    size = background_window(gray.shape)
    lowest = ndimage.minimum_filter(gray, size, mode="nearest")
    contrast = ndimage.maximum_filter(gray, size, mode="nearest") - lowest
    seen = contrast > max(MIN_CONTRAST, CONTRAST * np.percentile(contrast, 99))
    level = (gray[seen] - lowest[seen]) / contrast[seen]  # 0 the darkest around, 1 the lightest
    return np.count_nonzero(level < EXTREME), np.count_nonzero(level > 1 - EXTREME)


def made_on_computer(gray):
    """True if the image's border is of one colour that also covers half of the image: a drawing
    or a screenshot, not a photo of paper. One colour: all but FLAT_SHARE of the border within
    FLAT of its median; or PAINTED of it exactly that colour (within PANEL_LEVEL: no camera gives
    a sheet so even), if it is the image's lightest or darkest colour (a canvas drawn on, not the
    page around a canvas in a screenshot) and the rest of the border is mostly strokes drawn
    into it, more than halfway to the image's other extreme (not the grey of a photo's paper
    whose white was overexposed to one level)."""
    border = gray[border_mask(gray.shape)]
    level = np.median(border)
    away = np.abs(border - level)
    if np.mean(away <= FLAT) < FLAT_SHARE:  # not flat: painted, then?
        low, high = gray.min(), gray.max()
        if np.mean(away <= PANEL_LEVEL) < PAINTED or min(high - level, level - low) > PANEL_LEVEL:
            return False
        rest = away[away > PANEL_LEVEL]
        if rest.size and np.median(rest) < (high - low) / 2:
            return False
    return bool(np.mean(np.abs(gray - level) <= 0.1) >= 0.5)


def panel(gray):
    """(top, left, bottom, right) of the panel in which a grayscale image shows its writing, or
    None: a plot's image, a digit pasted on a slide, the canvas in a screenshot of a paint program,
    whose page around (axes and their numbers, a title, a caption, buttons) is not the writing.
    A panel is a region of one colour as a computer paints it: each pixel within FLAT of its
    neighbours, all but a few (FLAT_SHARE) within PANEL_LEVEL of its median, where a sheet in a
    photo is shaded and grainy. It is PANEL of the image or larger, clear of its edge, runs all
    around its box (FLAT_SHARE of the box's outline PANEL_RIM px in is of it), has a line drawn
    all around it (a plot's axes) or differs from the page around it by PANEL_STEP, and holds
    PANEL_HOLDS pixels or more of another colour (the writing). The largest is the panel, unless
    another such region (holding writing or not) lies beside it, PANEL_SIBLING of its size or
    more: the boxes of a form, the squares of a sheet."""
    if max(gray.shape) <= SMALL:
        return None
    labels, count = ndimage.label(local_range(gray) <= FLAT)
    edge = edge_frame(gray.shape)
    found = []
    for label, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
        height, width = rows.stop - rows.start, cols.stop - cols.start
        if height * width < PANEL * gray.size or min(height, width) <= 2 * PANEL_RIM or edge[rows, cols].any():
            continue
        mine = labels[rows, cols] == label
        own = gray[rows, cols][mine]
        colour = np.median(own)
        if np.mean(np.abs(own - colour) <= PANEL_LEVEL) < FLAT_SHARE:
            continue  # shading, grain or a gradient (a sheet in a photo, a colour bar), not one colour
        held = np.abs(gray[rows, cols][PANEL_RIM:-PANEL_RIM, PANEL_RIM:-PANEL_RIM] - colour) >= MIN_CONTRAST
        line = around(gray, rows, cols, PANEL_RIM)  # beside the pixels at its edge: a line drawn there
        page = around(gray, rows, cols, 2 * PANEL_RIM)  # beyond such a line
        framed = np.mean(np.abs(line - colour) >= MIN_CONTRAST) >= FLAT_SHARE
        inner = mine[PANEL_RIM:-PANEL_RIM, PANEL_RIM:-PANEL_RIM]
        if np.mean(inner[border_mask(inner.shape, 1)]) >= FLAT_SHARE and (framed or abs(np.median(page) - colour) >= PANEL_STEP):
            found.append((height * width, np.count_nonzero(held) >= PANEL_HOLDS,
                          (rows.start, cols.start, rows.stop, cols.stop)))
    holding = [(size, box) for size, holds, box in found if holds]
    if not holding:
        return None
    size, (top, left, bottom, right) = max(holding)
    beside = [s for s, _, (t, l, b, r) in found if not (t >= top and l >= left and b <= bottom and r <= right)]
    return None if any(s >= PANEL_SIBLING * size for s in beside) else (top, left, bottom, right)


def local_range(gray):
    """The range of levels (the highest less the lowest) over the 3 x 3 pixels around each pixel of
    `gray` (those in the image, at its edge): the maximum and minimum filters, a row and a column
    at a time."""
    highest, lowest = gray.copy(), gray.copy()
    for extreme, keep in ((highest, np.maximum), (lowest, np.minimum)):
        before = extreme.copy()  # the row above and the row below
        keep(extreme[1:], before[:-1], out=extreme[1:])
        keep(extreme[:-1], before[1:], out=extreme[:-1])
        before = extreme.copy()  # then the column on either side
        keep(extreme[:, 1:], before[:, :-1], out=extreme[:, 1:])
        keep(extreme[:, :-1], before[:, 1:], out=extreme[:, :-1])
    return highest - lowest


def around(gray, rows, cols, distance):
    """The pixels of `gray` on the outline of the box (slices `rows`, `cols`) grown by `distance`
    px on every side, as far as the image goes."""
    grown = gray[max(rows.start - distance, 0):rows.stop + distance, max(cols.start - distance, 0):cols.stop + distance]
    return grown[border_mask(grown.shape, 1)]


def thinness(mask):
    """How thin the marks of `mask` that do not touch the image's edge are: their stroke width over
    their longer side, averaged with their areas as weights (infinity if there are none).
    Marks of fewer than 20 pixels (noise) do not count."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.inf
    areas = np.bincount(labels.ravel(), minlength=count + 1).astype(float)
    inside = areas >= 20
    inside[labels[border_mask(labels.shape, 1)]] = False
    inside[0] = False
    if not inside.any():
        return np.inf
    sizes = np.array([max(r.stop - r.start, c.stop - c.start) for r, c in ndimage.find_objects(labels)], float)
    widths = stroke_widths(labels, count)[1:]
    keep = inside[1:]
    return float(np.average(widths[keep] / sizes[keep], weights=areas[1:][keep]))


def background_window(shape):
    """The widest window (px) within which the background is looked for: BACKGROUND of the
    image's shorter side, at least 15 px."""
    return max(15, round(min(shape) * BACKGROUND))


def remove_background(gray, path="image", flat=False):
    """The background and its noise mapped to 0, the brightest ink to 1, clipped to [0, 1].

    The background at each pixel is the grayscale opening of the image: the darkest
    level within a window around it, then the brightest of those. It follows paper,
    shadows, a table, dark corners, anything wider than the window, and leaves out the
    strokes, which are narrower. The window is first BACKGROUND of the image's shorter
    side, then PEN_WINDOW times the stroke width of the darkest mark, but no less than
    WIDEST_STROKE times the widest stroke among the strong marks, and no wider than the first
    unless the background is `flat` (one colour, made on a computer), where nothing but the
    strokes can be wider: a digit painted with a brush broader than the first window is not
    taken for background. Of what is left, everything within 4 noise widths (median absolute
    deviation) of the typical level is background.
    """
    widest = background_window(gray.shape)
    beyond = np.median(gray[border_mask(gray.shape)]) if flat else None  # a drawing's background
    above, floor, top, window = strokes_above_background(gray, widest, beyond)
    if top < floor + MIN_CONTRAST:
        raise InputError(f"{path}: no digit found (the image is blank or has too little contrast)")
    if window is not None and (window < widest or flat):  # again, with a window fitted to the strokes
        size = max(15, min(round(window), min(gray.shape)))
        above, floor, top, _ = strokes_above_background(gray, size, beyond)
    return np.clip((above - floor) / (top - floor), 0, 1)


def strokes_above_background(gray, size, beyond=None):
    """(gray less its opening with a size x size window, noise floor, strongest ink, the window
    fitted to the strokes). Marks that touch the image's edge (the edge of a sheet, a dark corner)
    do not count unless there are no others. A photo goes on beyond its edge as it ends there;
    a drawing on a background of one colour (its level `beyond`) is that background beyond its
    edge, so that a stroke drawn along the edge (a 7's bar along the top) is a stroke, not a
    broad surface (but an image narrower than the window is all edge, and goes on as it ends).
    """
    if beyond is not None and min(gray.shape) >= size:
        padded = np.pad(gray, size, constant_values=beyond)
    else:
        padded = np.pad(gray, size, mode="edge")
    flat = gray - ndimage.grey_opening(padded, size=(size, size))[size:-size, size:-size]
    level = np.median(flat)
    floor = level + 4 * 1.4826 * np.median(np.abs(flat - level))
    top, pen = None, None  # the strongest ink, and the stroke width of the mark holding it
    # marks of all the ink, then of the stronger half only: faint lines of squared paper running
    # to the edge must not join a digit's strokes to the edge
    for threshold in (floor + MIN_CONTRAST, max(floor + MIN_CONTRAST, (floor + flat.max()) / 2)):
        labels, count = ndimage.label(flat > threshold)
        inside = np.ones(count + 1, bool)
        inside[labels[border_mask(labels.shape, 1)]] = False
        inside[0] = False
        if inside.any():
            marks = np.flatnonzero(inside)
            peaks = mark_peaks(flat, labels, count)[marks]
            if top is None or peaks.max() > top:
                top = peaks.max()
                pen = stroke_width(flat * (labels == marks[np.argmax(peaks)]) > floor + 0.5 * (top - floor))
    if top is None:
        return flat, floor, flat.max(), None
    # the window: PEN_WINDOW pens of the strongest mark, and no narrower than WIDEST_STROKE times
    # the widest stroke among the strong marks clear of the edge (unless none are): a thin line
    # (a margin line) may hold the strongest ink beside a fat digit
    labels, count = ndimage.label(flat > floor + 0.5 * (top - floor))
    widths = stroke_widths(labels, count)
    clear = widths.copy()
    clear[labels[edge_frame(labels.shape)]] = 0
    return flat, floor, top, max(PEN_WINDOW * pen, WIDEST_STROKE * (clear.max() or widths.max()))


def ink_mask(ink, paper=True, edge=None):
    """Where the strokes are: pixels at least INK_LEVEL of the darkest ink and at most INK_LEVEL
    fainter than the ink on both sides of them (a closing 3 px wide: a gap a pixel wide between
    two strokes, or the hole of a loop in a fat pen, that blur has filled in, stays a gap),
    without the lines of ruled or squared paper (if the image may show `paper`: the long
    straight strokes of a digit drawn on a computer are not a ruling), without marks that touch
    the image's edge (the edge of the sheet, the table, a dark corner; `edge` says where it is,
    if not at the frame's: in an image turned) or long thin straight ones (a margin line) unless
    nothing else is left, without marks that hold another in a hole (frames: a box drawn around the
    writing) and rings drawn around it (drawn_around: of a ring that touches the digits, only the
    ring), without long marks fainter and broader than the strongest ink's (the
    light wall beside a dark board), and without specks.
    """
    strong = (ink >= INK_LEVEL) & (ndimage.grey_closing(ink, size=(3, 3)) - ink <= INK_LEVEL)
    lines = paper_lines(ink >= LINE_LEVEL, strong) if paper else np.zeros_like(strong)
    mask = strong & ~lines
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    areas[0] = 0
    inside = areas.copy()
    inside[labels[edge_frame(labels.shape) if edge is None else edge]] = 0
    objects, pens, peaks = ndimage.find_objects(labels), stroke_widths(labels, count), mark_peaks(ink, labels, count)
    boxes = np.array([(rows.start, cols.start, rows.stop, cols.stop) for rows, cols in objects])
    height, width = mask.shape
    lengths = np.r_[0.0, np.maximum((boxes[:, 2] - boxes[:, 0]) / height,
                                    (boxes[:, 3] - boxes[:, 1]) / width)]  # the share of the image a mark runs across
    for label, (rows, cols) in enumerate(objects, 1):
        length, pen = lengths[label], pens[label]
        own = labels[rows, cols] == label
        extent = max(rows.stop - rows.start, cols.stop - cols.start)
        if (length > LONGEST and pen * 8 < length * max(height, width)
                and spread(own) < min(pen, STRAIGHT * extent)):
            inside[label] = 0  # a long thin straight mark (not a number written in one stroke, nor a
            # tall digit in a fat pen): the margin line, the edge of the sheet
        elif (cols.stop - cols.start) > ACROSS * width and rows.stop - rows.start < 3 * pen:
            inside[label] = 0  # a thin level line across much of the image: no digit is that
    rings, boxed = drawn_around(labels, objects, boxes, pens, inside > 0)
    inside[boxed] = 0
    if inside.any():
        brightest = np.argmax(np.where(inside > 0, peaks, -1))
        wall = (peaks < FAINTER * peaks[brightest]) & (pens > BROADER * pens[brightest]) & (lengths > FRAME)
        inside[wall] = 0
        areas = inside
    keep = areas >= max(4, SPECK * areas.max())
    return keep[labels] & ~rings


def drawn_around(labels, objects, boxes, pens, kept):
    """(pixels, labels): the pixels of the rings drawn around the writing (ring_band) among the
    marks of a label image (`objects`, `boxes`: their slices and their top, left, bottom, right;
    `pens`: their stroke widths by label; `kept`: whether each label, from 0, counts), and the
    labels of the frames (frames) that are no ring, to be taken out whole: a box around a digit,
    a form's cells. Besides the frames, the mark with the largest box may be a ring: one that
    touches the only digit it holds makes one mark with it."""
    framing = frames(labels, boxes, kept)
    largest = int(np.argmax(np.r_[0, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])] * kept))
    rings, boxed = np.zeros(labels.shape, bool), []
    for label in sorted(set(framing.tolist()) | ({largest} - {0})):
        rows, cols = objects[label - 1]
        part = labels[rows, cols]
        band = ring_band(part == label, pens[label], None if label in framing else (part != label) & kept[part])
        if band is not None:
            rings[rows, cols] |= band
        elif label in framing:
            boxed.append(label)
    return rings, np.array(boxed, int)


def convex_hull(own):
    """The mask of the convex hull of the pixels of `own`: the polygon through its corners, which
    are among the first and last pixels of each row, found by Andrew's monotone chain (the lower
    and the upper half of the hull: hull_chain)."""
    rows = np.flatnonzero(own.any(axis=1))
    firsts, lasts = own[rows].argmax(axis=1), own.shape[1] - 1 - own[rows, ::-1].argmax(axis=1)
    points = sorted(set(zip(rows.tolist(), firsts.tolist())) | set(zip(rows.tolist(), lasts.tolist())))
    corners = hull_chain(points)[:-1] + hull_chain(points[::-1])[:-1]
    if len(corners) < 3:  # in one line, or too few
        return own.copy()
    hull = Image.new("L", (own.shape[1], own.shape[0]), 0)
    ImageDraw.Draw(hull).polygon([(c, r) for r, c in corners], fill=1, outline=1)
    return np.asarray(hull, bool)


def hull_chain(points):
    """One half of the convex hull of `points` ((row, column), sorted): each point in turn, after
    dropping the last corner of the chain so far while the chain does not bend counter-clockwise
    there (rows as x, columns as y)."""
    chain = []
    for point in points:
        while len(chain) >= 2 and cross_product(chain[-2], chain[-1], point) <= 0:
            chain.pop()
        chain.append(point)
    return chain


def cross_product(a, b, c):
    """The cross product of b - a and c - a: positive where a, b, c bend counter-clockwise, 0 where
    they are in one line."""
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def ring_band(own, pen, others=None):
    """The pixels of the mark `own` (strokes `pen` px wide) that are a ring drawn around something,
    or None if it is no such ring. The ring is followed along rays from the middle of the mark's
    convex hull, spread over the ellipse of its moments (ring_rays): on each ray, the run of ink
    that is outermost, or one further in where a digit crossing the ring juts out beyond it
    (follow_ring), looked for only if the outermost ink alone keeps to about one distance along
    RING_OUTERMOST of the rays. It is a ring if it is followed on RING_ROUND_SHARE of the rays at
    about one distance along them (within RING_ROUND of it): a digit's outline is not (an 8's
    waist, a 6's stem). Its pixels are those within half its width of where it runs, less those that a digit
    crossing it draws through it. Marks `others` (None: the mark is known to hold one, frames)
    or the rest of the mark must hold something inside it reaching farther than RING_CLEAR of its
    widths from it, of one mark at least MIN_HEIGHT as tall as it (not the inner edge of a fat 0,
    nor a stick: the outline of every shape holds something; nor a 0 holding a tick at its top
    where the pen started and a dot at its bottom, each small)."""
    if min(own.shape) < 3:
        return None  # a line or a dot
    hull = np.argwhere(convex_hull(own)).astype(float)
    centre = hull.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(hull.T))
    axes = 2 * np.sqrt(np.maximum(values, 1.0))  # the half-axes of a filled ellipse of those moments
    angles = np.linspace(0, 2 * np.pi, RING_RAYS, endpoint=False)
    starts, stops, lengths = ring_rays(own, centre, axes, vectors, angles)
    outermost = (starts[:, 0] + stops[:, 0]) / 2
    typical = np.nanmedian(outermost) if np.isfinite(outermost).any() else 0
    if not typical > 0 or np.mean(np.abs(outermost / typical - 1) <= RING_ROUND) < RING_OUTERMOST:
        return None  # most rays leave it where no ring would
    chosen = follow_ring(starts, stops, lengths, pen)
    rays = np.flatnonzero(chosen >= 0)
    inner, outer = starts[rays, chosen[rays]], stops[rays, chosen[rays]]
    middles = (inner + outer) / 2
    typical = np.median(middles) if len(rays) else 0
    if not typical > 0 or np.sum(np.abs(middles / typical - 1) <= RING_ROUND) < RING_ROUND_SHARE * RING_RAYS:
        return None
    middle = ndimage.median_filter(middles, size=RING_SMOOTH, mode="wrap")
    width = np.median((outer - inner) * lengths[rays]) + 1
    band = ring_pixels(own, centre, axes, vectors, angles[rays], middle, width)
    if others is not None:
        clear = ndimage.distance_transform_edt(~band) > RING_CLEAR * width
        marks = ndimage.label(own & ~band | others, structure=np.ones((3, 3)))[0]
        held = np.argwhere(marks * clear)
        offsets = held - centre
        u, v = offsets @ vectors[:, 0] / axes[0], offsets @ vectors[:, 1] / axes[1]
        held = held[np.hypot(u, v) < np.interp(np.arctan2(v, u), angles[rays], middle, period=2 * np.pi)]
        mark = marks[held[:, 0], held[:, 1]]  # each held pixel's mark: what one mark holds counts, not two apart
        tallest = max((np.ptp(held[mark == k, 0]) + 1 for k in np.unique(mark)), default=0)
        rows = np.flatnonzero(band.any(axis=1))
        if tallest < MIN_HEIGHT * (rows[-1] - rows[0] + 1):
            return None
    return band


def ellipse_rays(angles, axes, vectors):
    """(n, 2): for each of the `angles`, the point of the ellipse of half-axes `axes` along
    `vectors` at that angle, from its middle (row, column): a ray's direction and length."""
    return np.cos(angles)[:, None] * axes[0] * vectors[:, 0] + np.sin(angles)[:, None] * axes[1] * vectors[:, 1]


def ring_rays(own, centre, axes, vectors, angles):
    """(starts, stops, lengths): where the runs of ink of `own` along rays from `centre` at
    `angles` begin and end, outermost first (nan where a ray has fewer), in units of the ellipse
    of half-axes `axes` along `vectors` (1 on it), out to RING_REACH; and the rays' px per unit."""
    rays = ellipse_rays(angles, axes, vectors)
    lengths = np.hypot(rays[:, 0], rays[:, 1])
    steps = np.arange(0, RING_REACH, 0.5 / lengths.max())  # half a pixel apart on the longest ray
    coords = centre[:, None, None] + rays.T[:, :, None] * steps[None, None, :]
    inked = ndimage.map_coordinates(own.astype(np.uint8), coords, order=0, mode="constant") > 0
    edges = np.diff(np.pad(inked.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    ray, first = np.nonzero(edges == 1)
    last = np.nonzero(edges == -1)[1] - 1
    counts = np.bincount(ray, minlength=len(angles))
    rank = counts[ray] - 1 - (np.arange(len(ray)) - np.r_[0, np.cumsum(counts)][ray])  # 0: outermost
    starts = np.full((len(angles), max(counts.max(), 1)), np.nan)
    stops = starts.copy()
    starts[ray, rank], stops[ray, rank] = steps[first], steps[last]
    return starts, stops, lengths


def follow_ring(starts, stops, lengths, pen):
    """For each ray, the index of the run of ink (ring_rays) the ring runs through, or -1 where
    it has a gap: the way around that costs least (Viterbi, twice around so that its start does
    not matter), where a run costs RING_INNER per run outside it, a gap RING_GAP, and a step
    from ray to ray the change of distance along the ray in strokes. A gap keeps the distance
    of the run before it, so that it is no way to jump inwards for free."""
    count, kinds = starts.shape
    middles = np.zeros((count, kinds + 1))  # the last state of each ray: the gap
    middles[:, :-1] = np.nan_to_num((starts + stops) / 2, nan=0.0)
    costs = np.full((count, kinds + 1), RING_GAP)
    costs[:, :-1] = np.where(np.isnan(starts), 1e9, RING_INNER * np.arange(kinds))
    scales = lengths / max(pen, 1.0)
    states = np.arange(kinds + 1)
    cost, places, backs = np.zeros(kinds + 1), np.zeros(kinds + 1), []
    for step in range(2 * count):
        ray = step % count
        here = middles[ray].copy()
        total = cost[None, :] + np.abs(here[:, None] - places[None, :]) * scales[ray]
        total[-1] = cost  # into a gap, or on along it
        back = total.argmin(axis=1)
        cost = total[states, back] + costs[ray]
        here[-1] = places[back[-1]]
        places = here
        backs.append(back)
    chosen = np.empty(count, int)
    state = int(cost.argmin())
    for step in range(2 * count - 1, count - 1, -1):
        chosen[step % count] = state if state < kinds else -1
        state = int(backs[step][state])
    return chosen


def ring_pixels(own, centre, axes, vectors, angles, middle, width):
    """The pixels of `own` within half of `width` px of the ring that runs at `middle` (units of the
    ellipse, as ring_rays) along the rays at `angles`, less those that a stroke crossing the ring
    draws through it (a closing of the rest of the mark, the ring's width across)."""
    fine = np.linspace(0, 2 * np.pi, 8 * RING_RAYS, endpoint=False)
    along = np.interp(fine, angles, middle, period=2 * np.pi)
    rays = ellipse_rays(fine, axes, vectors)
    lengths = np.hypot(rays[:, 0], rays[:, 1])
    band = np.zeros_like(own)
    for offset in np.linspace(-0.5, 0.5, 9):
        at = np.round(centre + rays * (along + offset * width / lengths)[:, None]).astype(int)
        inside = (at >= 0).all(axis=1) & (at < own.shape).all(axis=1)
        band[at[inside, 0], at[inside, 1]] = True
    band = ndimage.binary_dilation(band) & own
    rest = own & ~band
    return band & ~ndimage.binary_closing(rest, structure=np.ones((3, 3)), iterations=max(1, round(width / 2)))


def frames(labels, boxes, kept):
    """The labels of the marks (of a label image; `boxes`: their top, left, bottom, right; `kept`:
    whether each label, from 0, counts) that hold in a hole another mark that counts, at least
    MIN_HEIGHT as tall as they are: a box drawn around a digit or a number, a form's cells, a
    ring around an answer. A digit's loops hold no digit. Only the MAX_MARKS tallest marks are
    looked at."""
    heights = boxes[:, 2] - boxes[:, 0]
    found = []
    for k in np.argsort(-heights, kind="stable")[:MAX_MARKS]:
        top, left, bottom, right = boxes[k]
        inner = (kept[1:] & (boxes[:, 0] > top) & (boxes[:, 1] > left) & (boxes[:, 2] < bottom) & (boxes[:, 3] < right)
                 & (heights >= MIN_HEIGHT * heights[k]))
        if inner.any():
            part = labels[top:bottom, left:right]
            hole = ndimage.binary_fill_holes(part == k + 1) & (part != k + 1)
            if np.isin(part[hole], np.flatnonzero(inner) + 1).any():
                found.append(k + 1)
    return np.array(found, int)


def spread(mask):
    """How far the pixels of `mask` spread across its longest axis: their standard deviation along
    the least of their principal axes, in pixels. A straight stroke w px wide spreads w / sqrt(12)."""
    points = np.argwhere(mask).astype(float)
    return float(np.sqrt(max(np.linalg.eigvalsh(np.cov(points.T))[0], 0.0))) if len(points) > 2 else 0.0


def paper_lines(mask, strokes):
    """The pixels of `mask` (which holds the faintest lines) that belong to the lines of ruled or
    squared paper, less those inside `strokes` where a stroke crosses a line.

    A line is a run of ink at most LINE_WIDTH thick and at least a third of the image
    long, across or down, where there are several such runs (ruled paper); a single one
    (a margin line, or the bar of a large 7) is a line only if it is LONGEST of the image.
    The sheet may be photographed askew, so runs are looked for along the slope at which
    the marks line up best (up to SKEW either way), and may wander a pixel. Ink on a stretch of
    ruling mostly fainter than ink (less than FAINT_SHARE of it as dark as `strokes`) is a stroke
    running along the line, if its mark also leaves the lines.
    """
    lines, along = np.zeros_like(mask), np.zeros_like(mask)
    for transpose in (False, True):  # lines across, then lines down
        marks = mask.T if transpose else mask
        slope = best_slope(marks)
        level = shear(marks, slope).view(np.uint8)
        wandering = ndimage.maximum_filter1d(level, 3, axis=0)
        shortest = max(21, marks.shape[1] // 3)  # a line's length at least
        runs = opening(wandering, shortest, axis=1) & level
        ruled = ndimage.label(runs.any(axis=1))[1] >= 2
        if not ruled:  # no ruling: only a line across most of the sheet
            runs = opening(wandering, round(LONGEST * marks.shape[1]), axis=1) & level
        runs[opening(runs, LINE_WIDTH + 2, axis=0) == 1] = 0  # runs LINE_WIDTH + 2 thick are strokes
        found = unshear(runs == 1, slope, marks.shape)
        lines |= found.T if transpose else found
        if not ruled:
            continue
        # strokes on a stretch of ruling that is mostly (over a shortest line's length) fainter
        # than the strokes: a stroke running along the line, if it also leaves the line
        strong = shear(strokes.T if transpose else strokes, slope).view(np.uint8) & runs
        share = ndimage.uniform_filter(strong.astype(np.float32), (LINE_WIDTH, shortest))
        share /= np.maximum(ndimage.uniform_filter(runs.astype(np.float32), (LINE_WIDTH, shortest)), 1e-6)
        found = unshear((strong == 1) & (share < FAINT_SHARE), slope, marks.shape)
        along |= found.T if transpose else found
    if along.any():
        labels, count = ndimage.label(strokes, structure=np.ones((3, 3)))
        leaves = np.bincount(labels[strokes & ~lines], minlength=count + 1) > 0
        lines &= ~(along & leaves[labels])
    if lines.any():
        crossed = (strokes & ~lines).view(np.uint8)
        size = 2 * LINE_WIDTH + 3  # a closing: what lies between strokes across a line
        crossed = ndimage.minimum_filter(ndimage.maximum_filter(crossed, size), size)
        lines &= crossed == 0
    return lines


def opening(mask, length, axis):
    """Of a uint8 0/1 mask, the pixels on runs at least `length` (made odd) long along `axis`:
    the binary opening with a line, as a minimum then a maximum over a sliding window.
    """
    length += 1 - length % 2
    return ndimage.maximum_filter1d(ndimage.minimum_filter1d(mask, length, axis=axis), length, axis=axis)


def best_slope(mask, slopes=np.tan(np.radians(np.arange(-SKEW, SKEW + 0.25, 0.5)))):
    """The slope (rows per column: by default up to SKEW either way) among `slopes` along which the
    marks of `mask` line up best: the one whose row sums, once each column is shifted by it, vary
    the most.
    """
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return 0.0
    offset = mask.shape[1] * max(1, int(np.ceil(np.abs(slopes).max())))  # no row shifted above 0
    variance = [np.bincount(rows - np.round(t * cols).astype(int) + offset).var() for t in slopes]
    return float(slopes[int(np.argmax(variance))])


def column_shifts(slope, width):
    """How far down each column moves in shear(): -round(slope * c), offset to start at 0."""
    shift = -np.round(slope * np.arange(width)).astype(int)
    return shift - shift.min()


def shear(mask, slope):
    """`mask` with column c moved up by round(slope * c) rows, so that lines of that slope are level."""
    h, w = mask.shape
    shift = column_shifts(slope, w)
    out = np.zeros((h + shift.max(), w), mask.dtype)
    out[np.arange(h)[:, None] + shift, np.arange(w)] = mask
    return out


def unshear(level, slope, shape):
    """The inverse of shear(mask, slope) for a mask of `shape`."""
    h, w = shape
    return level[np.arange(h)[:, None] + column_shifts(slope, w), np.arange(w)]


def marks_in_line(mask, path="image"):
    """The marks of `mask` that make one line of writing, left to right, as (label image,
    [[top, left, bottom, right, [labels]]], the line's height).

    Marks (connected groups of ink) that overlap horizontally by half the narrower one's
    width are pieces of one digit above each other (the bar of a 5), whatever lies between them
    from left to right (a line of print elsewhere on the page; up to MAX_MARKS marks, so that
    the work grows with the marks, not with their pairs). The line is that of the mark
    writing_anchor chooses; its height is the line's. Marks much smaller than that mark, or away
    from its line, are dots and strays; marks more than 1 / MIN_HEIGHT times as tall are no
    digits of it (a margin line turned with the sheet); and so are marks above or below it more
    than its height beyond either end of it, or less than ROW as tall (the letters of a line of
    print): only marks above or below the line itself, as tall as digits of it, make a second
    row. A line drawn under the number or over it (underlines) is taken out before the marks are
    judged to be one row (a form's comb with tall ticks would be a second row), and they are found
    again without it.
    """
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        raise InputError(f"{path}: no digit found (no marks dark and large enough to be ink)")
    groups = []  # [top, left, bottom, right, [labels]]
    objects = ndimage.find_objects(labels)
    for label, (rows, cols) in sorted(enumerate(objects, 1), key=lambda m: m[1][1].start):
        mark = [rows.start, cols.start, rows.stop, cols.stop, [label]]
        over = next((group for group in reversed(groups[-MAX_MARKS:]) if overlapping(group, mark)), None)
        if over:
            merge(over, mark)
        else:
            groups.append(mark)
    areas = np.bincount(labels.ravel())
    ink = np.array([areas[g[4]].sum() for g in groups])
    heights = np.array([g[2] - g[0] for g in groups])
    middles = np.array([(g[0] + g[2]) / 2 for g in groups])
    anchor = writing_anchor(labels, groups, ink, heights, middles)
    height, middle = heights[anchor], middles[anchor]
    tall, level = as_tall(heights, anchor), np.abs(middles - middle) <= height
    line = tall & level  # the marks of the line itself
    lefts, rights = np.array([g[1] for g in groups]), np.array([g[3] for g in groups])
    aside = np.maximum(lefts - rights[line].max(), lefts[line].min() - rights) > height
    second = (ink >= STRAY * ink[anchor]) & (heights >= ROW * height) & ~aside  # what may be a second row
    keep = tall & (level | second)  # not dots, specks, nor strays off the line (nor a smaller line of print)
    groups, middles = [g for g, kept in zip(groups, keep) if kept], middles[keep]
    if len(groups) > MAX_MARKS:
        raise InputError(f"{path}: found {len(groups)} separate marks, too many for a number of at most "
                         f"{MAX_DIGITS} digits; photograph one digit or one number at a time")
    ruled = underlines(labels, objects, groups)
    if ruled.any():  # a line drawn under the number or over it: the line's marks found without it
        return marks_in_line(mask & ~ruled, path)
    if max(middles) - min(middles) > height or any(stacked(objects, g, height) for g in groups):
        raise InputError(f"{path}: the marks are not in one line; photograph one digit or one number at a time")
    return labels, groups, height


def writing_anchor(labels, groups, ink, heights, middles):
    """The index of the mark that gives the line of writing its height and middle, among the
    MAX_MARKS marks ([top, left, bottom, right, labels], with their ink, heights and vertical
    middles) with the most ink: of the marks on the line (on_line) that weighs most, the one whose
    line holds the most ink, then with the most ink itself (a bright strip by the edge, a smudge,
    may hold more ink than any one digit, but not more than the digits together).

    A line weighs its ink times the fourth power of its height: the ink-weighted mean height of
    its marks other than lines and pens, or if all of them are such, the median height of the
    other marks looked at (of all, if there are none). A pen lying on the sheet is a single
    straight stroke (extent) wider than tall; a line (a margin line, a piece of a squared sheet's
    line, the lit edge of a board) is a single straight stroke more than THIN_LINE times as tall
    as its stroke is wide, or any mark bent from straight by no more than NEARLY_STRAIGHT of its
    height (bend) with less ink than a stroke 1 / THIN_LINE of its height wide along it (its
    stroke width may be blurred or broken by noise). The writing photographed is larger than a
    line of print on the same page, whose many small letters may hold more ink than a digit: as
    the ink of marks of one shape grows with the square of their size, a line of them weighs
    their number times the sixth power of their size, and thirty letters half as tall as a digit
    weigh half as much as it. A line or a pen is not taller for it: it weighs as a line of the
    marks' typical height would. Where two marks or more that may be digits stand in a row, a
    line that is not a single straight stroke (and so no 1) and is more than 1 / MIN_HEIGHT times
    that typical height (no digit of such a row) weighs only the ink of a piece that tall: a
    board's edge may hold as much ink as a small number beside it."""
    candidates = np.argsort(-ink, kind="stable")[:MAX_MARKS]
    lines = {k: on_line(heights, middles, k) for k in candidates}
    line_ink = {k: ink[line].sum() for k, line in lines.items()}
    sized = np.zeros(len(groups), bool)  # neither a line nor a pen
    bent_line = np.zeros(len(groups), bool)  # a line that is not a single straight stroke: no 1
    for k in candidates:
        top, left, bottom, right, own = groups[k]
        own = np.isin(labels[top:bottom, left:right], own)
        width, stroke, straight = right - left, stroke_width(own), np.isinf(extent(own)[0])
        line = bend(own) <= NEARLY_STRAIGHT * heights[k] and THIN_LINE * ink[k] < heights[k] ** 2
        sized[k] = not line and (not straight or width <= heights[k] <= THIN_LINE * stroke)
        bent_line[k] = line and not straight
    typical = np.median(heights[candidates[sized[candidates]]] if sized.any() else heights[candidates])
    row = any(np.count_nonzero(lines[k] & sized) >= 2 for k in candidates if sized[k])  # of marks that may be digits
    taller = bent_line & row & (MIN_HEIGHT * heights > typical)  # too tall to be a digit of that row
    weighed = np.where(taller, ink * typical / heights, ink)  # such a line's ink along a typical height

    def weight(k):
        on = lines[k] & sized
        return weighed[lines[k]].sum() * (np.average(heights[on], weights=ink[on]) if on.any() else typical) ** 4

    line = lines[max(candidates, key=lambda k: (weight(k), ink[k]))]
    return max(candidates[line[candidates]], key=lambda k: (line_ink[k], ink[k]))


def underlines(labels, objects, groups):
    """The pixels of the marks `groups` of a line of writing (`labels` their label image, `objects`
    each mark's (rows, columns) slices) that lie on a line drawn under the number or over it: a
    level stroke (level_strokes) over (or under) which, once it is gone, marks at least
    MIN_HEIGHT of the tallest mark's height stand, none under (or over) it, and which is
    - at least UNDERLINE of that height long, with two or more of those marks other than ticks
      (straight strokes less tall than SHORT of the tallest: a form's comb is such a line with
      ticks rising from it between the digits and at its ends) or one between ticks at both its
      ends (a box open at the top), and runs on past them at each end by a stroke's width or ends
      there free of them (ends_free): an underline may stop short of a number's ends, but a 2's
      foot that runs on into the next digit, or a bar that joins two 7s, ends in a digit;
    - or a mark of its own with one of those marks, a single digit: at least UNDERLINE as long
      and running on past the digit at both ends by a stroke's width; or at least UNDER_ONE as
      long (an underlined 1 is narrow), if that digit is all the line holds and nothing larger
      than a dot lies on the line's other side (an 8's waist has the 8's lower half under it),
      and it runs on past the digit at both ends or, under it, ends clear of it at both ends
      (an underline may be no wider than its digit).
    No level stroke is such a line if taking it away leaves a curved piece of its mark (not a
    single straight stroke) from SHARD to MIN_HEIGHT of the tallest mark's height tall: a line
    drawn under the writing leaves its digits whole, or a stem that crossed it a straight stub,
    but a 3's bowl whose pen runs on level into the next digit, or a fat pen's level ink, leaves
    pieces of a digit.
    Touching the digits, such a line makes one mark of them; apart, it joins the digit above it
    as a 5's bar does. A line touching a single digit stays: so do a 2's foot and a 7's bar.
    Apart from their digit, a 7's bar and a 5's flag end where its other strokes do, and a 4's
    bar has ink above and below it."""
    marks = [k for group in groups for k in group[4]]
    heights = {k: objects[k - 1][0].stop - objects[k - 1][0].start for k in marks}
    tallest = max(heights.values())
    standing = sum(height >= MIN_HEIGHT * tallest for height in heights.values())  # marks as tall as digits
    line = np.isin(labels, marks)
    ruled = np.zeros(labels.shape, bool)
    for k in marks:
        alone = heights[k] < MIN_HEIGHT * tallest and standing <= 1  # a flat mark k beside one digit
        for share in (UNDERLINE, UNDER_ONE) if alone else (UNDERLINE,):
            stroke = ruling(labels, objects, k, line, round(share * tallest), tallest, share == UNDERLINE)
            if stroke is not None:
                ruled |= stroke
                break
    return ruled


def ruling(labels, objects, k, line, length, tallest, long):
    """The pixels of mark k's level strokes at least `length` px long if they are a line drawn
    under or over the writing `line` (a mask), as underlines says, given the tallest mark's
    height and whether `length` is UNDERLINE of it (`long`); else None."""
    rows, cols = objects[k - 1]
    if cols.stop - cols.start < length:
        return None
    own = labels[rows, cols] == k
    level = level_strokes(own, length)
    if not level.any():
        return None
    remains = own & ~level  # the rest of the mark, once the level strokes are gone
    shards, _ = ndimage.label(remains, structure=np.ones((3, 3)))
    for label, (shard_rows, shard_cols) in enumerate(ndimage.find_objects(shards), 1):
        if (SHARD * tallest <= shard_rows.stop - shard_rows.start < MIN_HEIGHT * tallest
                and np.isfinite(extent(shards[shard_rows, shard_cols] == label)[0])):
            return None  # a stroke of the writing itself, whose taking away breaks a digit
    stroke = np.zeros(labels.shape, bool)
    stroke[rows, cols] = level
    across = np.flatnonzero(stroke.any(axis=0))
    middle = np.nonzero(stroke)[0].mean()
    parts, _ = ndimage.label(line & ~stroke, structure=np.ones((3, 3)))
    tall = [(label, part_rows, part_cols)
            for label, (part_rows, part_cols) in enumerate(ndimage.find_objects(parts), 1)
            if part_rows.stop - part_rows.start >= MIN_HEIGHT * tallest]
    on = [(label, part_cols.start, part_cols.stop, part_rows.start + part_rows.stop < 2 * middle,
           part_rows.stop - part_rows.start < SHORT * tallest
           and np.isinf(extent(parts[part_rows, part_cols] == label)[0]))
          for label, part_rows, part_cols in tall
          if part_cols.start <= across[-1] and part_cols.stop > across[0]]  # standing on it
    digits = [(start, stop) for _, start, stop, _, tick in on if not tick]
    if not digits or len({above for *_, above, _ in on}) > 1:
        return None
    ticks = [(start, stop) for _, start, stop, _, tick in on if tick]
    past = stroke_width(own)
    beyond = (min(start for start, _ in digits) - across[0] >= past,
              across[-1] + 1 - max(stop for _, stop in digits) >= past)
    rest = np.flatnonzero(remains.any(axis=1))
    apart = rest.size == 0 or rest[-1] - rest[0] < MIN_HEIGHT * tallest  # the mark is the line alone
    free = ends_free(stroke, np.isin(parts, [label for label, *_ in on]), past)
    if len(digits) == 1 and apart:  # a line apart from a single digit
        if all(beyond) and long:
            return stroke
        if ((all(beyond) or (on[0][3] and all(free))) and len(tall) == 1
                and not beside(parts, stroke, past, on[0][3])):
            return stroke
    walled = (any(start - across[0] < past for start, _ in ticks)
              and any(across[-1] + 1 - stop < past for _, stop in ticks))  # a box open at the top
    if long and (len(digits) >= 2 or walled) and (beyond[0] or free[0]) and (beyond[1] or free[1]):
        return stroke
    return None


def beside(parts, stroke, past, under):
    """True if a part of `parts` (a label image) larger than a square `past` px wide lies under
    the level `stroke` (a mask), or over it if not `under`, within its columns."""
    rows, cols = np.nonzero(stroke)
    side = parts[rows.max() + 1:] if under else parts[:rows.min()]
    return bool((np.bincount(side[:, cols.min():cols.max() + 1].ravel())[1:] >= past ** 2).any())


def ends_free(stroke, standing, past):
    """For the left and the right end of the level `stroke` (a mask), whether no pixel of
    `standing` lies within `past` px of its end pixels: a line that ends free of the digits,
    rather than in one (a 2's foot running on into the next digit)."""
    cols = np.flatnonzero(stroke.any(axis=0))
    reach = int(np.ceil(past))
    free = []
    for end in (cols[0], cols[-1]):
        rows = np.flatnonzero(stroke[:, end])
        top, left = max(rows[0] - reach, 0), max(end - reach, 0)
        free.append(not standing[top:rows[-1] + reach + 1, left:end + reach + 1].any())
    return free


def level_strokes(own, length):
    """The pixels of the mask `own` on level strokes at least `length` px long: runs of ink along
    a slope of up to SKEW either way (each column shifted by it, shear) that may wander a pixel."""
    near = ndimage.maximum_filter1d(own, 3, axis=0)  # ink within a pixel of each row (shifting columns keeps it)
    found = np.zeros(own.shape, bool)
    for slope in np.tan(np.radians(np.arange(-SKEW, SKEW + 0.25, 0.5))):
        runs = opening(shear(near, slope).view(np.uint8), length, axis=1)
        if runs.any():
            found |= unshear((runs & shear(own, slope).view(np.uint8)) == 1, slope, own.shape)
    return found


def on_line(heights, middles, k):
    """Which marks (of these heights and vertical middles) could be digits on one line with mark
    k: as tall as it (as_tall), their middles no farther apart than the taller one's height."""
    return as_tall(heights, k) & (np.abs(middles - middles[k]) <= np.maximum(heights, heights[k]))


def as_tall(heights, k):
    """Which marks (of these heights) are about as tall as mark k, as digits of one line are: each
    of the two at least MIN_HEIGHT of the other's height."""
    return np.minimum(heights, heights[k]) >= MIN_HEIGHT * np.maximum(heights, heights[k])


def stacked(objects, group, height):
    """True if two marks of `group` stand one above the other and are both as tall as digits
    (at least ROW of the line's `height`): two rows of writing, not the pieces of one digit.
    `objects` holds each mark's (rows, columns) slices, as ndimage.find_objects gives them."""
    tall = [(rows.start, rows.stop) for rows, _ in (objects[k - 1] for k in group[4])
            if rows.stop - rows.start >= ROW * height]
    return any(a_bottom <= b_top for _, a_bottom in tall for b_top, _ in tall)


def overlapping(group, mark):
    """True if `mark` lies over or under `group` ([top, left, bottom, right, ...]): it overlaps half
    the narrower one's width, and the gap between them is less than half the taller one's height.
    """
    across = min(group[3], mark[3]) - max(group[1], mark[1])
    gap = max(group[0], mark[0]) - min(group[2], mark[2])
    return (across >= 0.5 * min(group[3] - group[1], mark[3] - mark[1])
            and gap < 0.5 * max(group[2] - group[0], mark[2] - mark[0]))


def merge(group, other):
    """Grow `group` ([top, left, bottom, right, labels]) to take in `other`."""
    group[0], group[1] = min(group[0], other[0]), min(group[1], other[1])
    group[2], group[3] = max(group[2], other[2]), max(group[3], other[3])
    group[4].extend(other[4])


def stroke_width(mask):
    """The typical width of the strokes in `mask`, in pixels: twice the area over the outline."""
    area = np.count_nonzero(mask)
    return 2 * area / max(area - np.count_nonzero(inner(mask)), 1)


def inner(mask):
    """The pixels of `mask` whose four neighbours (above, below, left, right) are all in it too;
    the rest is its outline. Outside the image is outside the mask."""
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), bool)
    padded[1:-1, 1:-1] = mask
    return (padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1]
            & padded[1:-1, :-2] & padded[1:-1, 2:])


def mark_peaks(values, labels, count):
    """The largest of `values` in each of the `count` marks of a label image, by label (element 0:
    the background's)."""
    peaks = np.full(count + 1, -np.inf, values.dtype)
    np.maximum.at(peaks, labels.ravel(), values.ravel())
    return peaks


def stroke_widths(labels, count):
    """The stroke width (see stroke_width) of each of the `count` marks of a label image, by label
    (element 0: the background's, 0)."""
    mask = labels > 0
    outline = np.bincount(labels[mask & ~inner(mask)], minlength=count + 1)
    widths = 2 * np.bincount(labels.ravel(), minlength=count + 1) / np.maximum(outline, 1)
    widths[0] = 0
    return widths


def line_bounds(groups):
    """(top, left, bottom, right) of the box around all the marks `groups` ([top, left, bottom,
    right, labels] each)."""
    return (min(g[0] for g in groups), min(g[1] for g in groups),
            max(g[2] for g in groups), max(g[3] for g in groups))


def tilt(mask):
    """The angle (degrees, counter-clockwise) by which the marks of `mask` run up from level, if
    they are a row of writing turned by more than TILT and less than MAX_TILT degrees, else 0
    (a row turned less is read as it is: lines of the paper are looked for along its slope).
    A row's marks lie in the narrowest band when it is level: the angle is that of the band
    (across the middle 90% of the ink) that is narrowest, which the slant of the digits does
    not sway, if it is narrower than at either end of the range. A row is at least ROW_LENGTH
    times as long as that band is wide: a digit or two alone may be narrowest at any angle."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return 0.0
    step = max(1, len(rows) // 4000)  # a few thousand pixels tell the angle
    rows, cols = rows[::step] - rows.mean(), cols[::step] - cols.mean()
    angles = np.radians(np.arange(-MAX_TILT, MAX_TILT + 0.25, 0.5))
    across = rows[None, :] * np.cos(angles)[:, None] + cols[None, :] * np.sin(angles)[:, None]
    widths = np.subtract(*np.percentile(across, [95, 5], axis=1))
    best = int(np.argmin(widths))
    along = cols * np.cos(angles[best]) - rows * np.sin(angles[best])
    angle = float(np.degrees(angles[best]))
    if (np.subtract(*np.percentile(along, [95, 5])) < ROW_LENGTH * widths[best]
            or not TILT < abs(angle) < MAX_TILT):  # narrowest at the end of the range: no row's angle
        return 0.0
    return angle


def turned(ink, angle):
    """`ink` turned `angle` degrees counter-clockwise about its middle, in a frame that holds it all."""
    return np.asarray(Image.fromarray(ink.astype(np.float32)).rotate(
        angle, Image.Resampling.BILINEAR, expand=True))


def unturned(box, turn):
    """(top, left, bottom, right): the box around `box`, in an image turned as `turn` = (angle,
    shape before, shape after) says, in the image before it was turned (the corners turned
    back about the middle); `box` itself if the image was not turned (None)."""
    if turn is None:
        return box
    angle, (height, width), size = turn
    theta = np.radians(angle)
    top, left, bottom, right = box
    x = np.array([left, right, left, right]) - size[1] / 2
    y = np.array([top, top, bottom, bottom]) - size[0] / 2
    xs, ys = width / 2 + x * np.cos(theta) - y * np.sin(theta), height / 2 + x * np.sin(theta) + y * np.cos(theta)
    return ys.min(), xs.min(), ys.max(), xs.max()


def line_image(ink, labels, groups, height):
    """(mask, marks, scale, origin) of the line of writing at a scale where it is at least
    LINE_HEIGHT px tall: mask its strokes, marks numbers them 1, 2, ... as `groups` does, left
    to right; a pixel (r, c) here is (origin + (r, c) / scale) in `ink`.
    """
    top, left, bottom, right = line_bounds(groups)
    marks = np.zeros(labels.shape, np.int32)
    for k, group in enumerate(groups, 1):
        marks[np.isin(labels, group[4])] = k
    marks, ink = marks[top:bottom, left:right], ink[top:bottom, left:right] * (marks[top:bottom, left:right] > 0)
    scale = max(1.0, LINE_HEIGHT / height)
    if scale > 1:  # a small line is enlarged smoothly, so that cuts and pens have pixels to work with
        size = (round(marks.shape[1] * scale), round(marks.shape[0] * scale))
        marks = np.asarray(Image.fromarray(marks).resize(size, Image.Resampling.NEAREST))
        ink = np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BILINEAR))
    mask = (ink >= INK_LEVEL) & (marks > 0)
    kept = np.bincount(marks[mask], minlength=len(groups) + 1) > 0  # the marks with pixels left: a hairline's ink,
    mask |= (marks > 0) & ~kept[marks]  # spread by the enlarging, may be fainter than that everywhere; it stays as it was
    return mask, marks * mask, scale, (top, left)


def cut_paths(own, height):
    """[(columns, strokes crossed)] of the best ways to cut the mark `own` (a mask) into a left and
    a right part, left to right: for each row the column of the cut, which may follow a slanted
    gap or cross the thinnest join. Each part keeps at least MIN_PART of the line's height in
    width and a tenth of the ink.

    The paths are the cheapest from the top row to the bottom one, moving at most a column per
    row, where each pixel of ink crossed costs 1 and each column moved SIDESTEP (a seam).
    """
    rows, cols = own.shape
    cost = own.astype(np.float32)
    total = cost.copy()
    step = np.zeros((rows, cols), np.int8)
    left, right = np.full(cols, np.inf, np.float32), np.full(cols, np.inf, np.float32)  # coming from either side
    for r in range(1, rows):
        above = total[r - 1]
        left[1:], right[:-1] = above[:-1] + SIDESTEP, above[1:] + SIDESTEP
        least = np.minimum(np.minimum(left, above), right)
        step[r] = np.where(left == least, -1, np.where(above == least, 0, 1))  # the first of the three, on a tie
        total[r] += least
    paths = np.empty((rows, cols), int)  # paths[:, end]: the cheapest path to column `end` of the bottom row
    paths[-1] = np.arange(cols)
    for r in range(rows - 1, 0, -1):
        paths[r - 1] = paths[r] + step[r, paths[r]]
    before = np.zeros((rows, cols + 1), int)  # before[r, c]: the ink of row r left of column c
    np.cumsum(own, axis=1, out=before[:, 1:])
    left_inks, middles = before[np.arange(rows)[:, None], paths].sum(axis=0), paths.mean(axis=0)
    stroke = stroke_width(own)
    margin = max(1, round(MIN_PART * height))
    ink = np.count_nonzero(own)
    found = []  # (middle column, path, strokes crossed)
    for end in np.argsort(total[-1], kind="stable"):
        if len(found) == MAX_CUTS:
            break
        if end < margin or end > cols - margin:
            continue
        if min(left_inks[end], ink - left_inks[end]) < 0.1 * ink:
            continue
        if any(abs(middles[end] - middle) < margin for middle, _, _ in found):
            continue
        path = paths[:, end]
        found.append((middles[end], path, float(cost[np.arange(rows), path].sum() / max(stroke, 1))))
    return [(path, crossed) for _, path, crossed in sorted(found, key=lambda f: f[0])]


def line_pieces(mask, marks, height):
    """(pieces, crossings): pieces numbers every pixel of the line 1, 2, ..., left to right,
    the marks cut where a cut may separate two digits; crossings[k] is how many strokes the
    cut between piece k + 1 and piece k + 2 crosses (0 between separate marks).
    """
    pieces = np.zeros(marks.shape, np.int32)
    crossings, first = [], 1
    for k in range(1, marks.max() + 1):
        own = marks == k
        cols = np.flatnonzero(own.any(axis=0))
        left, right = cols[0], cols[-1] + 1
        own = own[:, left:right]
        paths = cut_paths(own, height) if right - left >= CUTTABLE * height else []
        part = np.zeros(own.shape, np.int32)
        for path, _ in paths:
            part += np.arange(own.shape[1])[None, :] >= path[:, None]
        present = np.unique(part[own])  # paths that cross each other can leave a part empty
        crossed = [max(c for _, c in paths[a:b]) for a, b in zip(present[:-1], present[1:])]
        pieces[:, left:right][own] = first + np.searchsorted(present, part[own])
        crossings += [0.0] * (k > 1) + crossed
        first += len(present)
    return pieces, np.array(crossings)


def digit_ink(own, narrow=NARROW, size=None):
    """One digit's ink from the mask of its strokes: widened to `narrow` of its height if it is
    narrower (`size`: its extent, if known), then redrawn with MNIST's pen for its size. Widened
    before it is redrawn, so that the pen is the same in both directions and a narrow loop stays
    open.
    """
    width, height = extent(own) if size is None else size
    if width < narrow * height:
        rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
        own = own[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32)
        wide = (round(narrow * own.shape[0]), own.shape[0])
        own = np.asarray(Image.fromarray(own).resize(wide, Image.Resampling.BILINEAR)) >= 0.5
    target, now = STROKE * max(own.shape) / BOX, stroke_width(own)
    radius = round(abs(target - now) / 2)
    if radius and now < 0.75 * target:  # a round pen: the pixels within radius of the strokes
        own = squared_distances(~np.pad(own, radius)) <= radius**2 + radius
    elif radius and now > 1.33 * target:  # the pixels farther than radius from the strokes' edge
        thinner = squared_distances(np.pad(own, 1))[1:-1, 1:-1] > radius**2 + radius
        own = thinner if np.count_nonzero(thinner) > 0.3 * np.count_nonzero(own) else own
    return ndimage.uniform_filter(own.astype(np.float32), 3)


def extent(own):
    """(width, height) of the strokes in `own`, the width infinite if they are a single straight
    stroke (spread no more than a stroke's, no loop): a 0 or 7 written narrow may be widened, a 1
    not (unless it bulges: read_masks)."""
    width, height = box_size(own)
    stick = bend(own) <= STICK * height and not holes(own, PINHOLE).any()
    return (np.inf if stick else width), height


def bend(own):
    """How far in px the strokes in `own` spread across their longest axis beyond a straight
    stroke of their width (spread): 0 for a straight stroke, a tenth to a sixth of its height for a 0."""
    return spread(own) - stroke_width(own) / np.sqrt(12)


def holes(own, smallest):
    """The holes of the mask `own` (the background its strokes enclose) larger than `smallest`
    pixels: a loop's hole, not a pinhole in a stroke."""
    labels, count = ndimage.label(ndimage.binary_fill_holes(own) & ~own)
    large = np.bincount(labels.ravel(), minlength=count + 1) > smallest
    large[0] = False
    return large[labels]


def pinhole_area(own):
    """The area in px of the largest hole of the mask `own` that parts no stroke: a square half
    its stroke wide (a pinhole in a fat stroke, not a loop's hole)."""
    return (stroke_width(own) / 2) ** 2


def strokes_per_row(own):
    """How many strokes a row of the mask `own` crosses, on average over the rows with ink: 2 for
    a 0, 1 for a 1, 4 for two 0s side by side. A hole smaller than a square half a stroke wide (a
    pinhole in a fat stroke) does not part a stroke."""
    own = ndimage.binary_fill_holes(own) & ~holes(own, pinhole_area(own))
    starts = np.count_nonzero(own[:, 1:] & ~own[:, :-1], axis=1) + own[:, 0]
    return float(starts[own.any(axis=1)].mean())


def squared_distances(mask):
    """For each pixel of `mask`, the squared distance to the nearest pixel outside it (whole
    numbers, as pixels lie on a grid); 0 outside. A round pen of radius r covers the pixels
    r² + r or less from its centre: growing or thinning strokes by it is a threshold on these,
    in time linear in the pixels."""
    return np.round(ndimage.distance_transform_edt(mask) ** 2)


def read_line(ink, labels, groups, height, read=None):
    """[(28x28 input, (top, left, bottom, right) in `ink`'s pixels, probabilities or None)] for
    each digit of the line of writing, left to right.

    A line leaning further than MNIST's digits is first moved back to their slant
    (slanted_as_mnist). With `read` (a function from inputs (n, 28, 28) to the network's
    probabilities (n, 10)), the line is cut by recognition. Marks wider than CUTTABLE of the
    line's height are cut into pieces where two digits may touch (cut_paths). Every run of at
    most MAX_PIECES consecutive pieces, and every whole mark, no wider than WIDEST line heights,
    is a candidate digit (candidates), read by the network (read_candidates) and scored by the
    log of its highest probability (averaged with those of the candidate turned a little,
    read_steadily), less
    WIDE_COST per line height it is wider than WIDE, SHORT_COST per line height it is shorter
    than SHORT (SHORT_ONE if it is read as a 1), JOIN_COST for each gap between separate marks
    it spans (in proportion across a gap narrower than BROKEN of the line's height: a stroke
    broken by chalk or a pen running dry), ROW_STROKES_COST per stroke its rows cross on
    average beyond ROW_STROKES, and OFF_LINE_COST per line height its middle lies beyond OFF_LINE
    from the middle of the line (a 9 whose stem a fine pen left apart from its loop is not a 0
    over a 1).
    Each cut between candidates costs CUT_COST per stroke it crosses. A short piece between two
    others, the pen running on from one digit to the next, may be left out (links), and so may
    a short mark apart at either end of the line (a tick of a form's comb), and a run of them
    that together are short (link_runs).
    The reading is the way of cutting the line whose scores add up to the most (best_cuts), and
    if it has two digits or more other than 1s, the best again with candidates much wider than
    those digits made dear (hand_width). Without `read`, each mark is one digit.
    """
    mask, marks, scale, (top, left) = line_image(ink, labels, groups, height)
    height = height * scale
    mask, marks, moved = slanted_as_mnist(mask, marks)
    if read is None:
        spans = candidates(marks, np.zeros(len(groups) - 1), height, 1)
        inputs = np.array([candidate_input(candidate_mask(marks, span)) for span in spans], np.float32)
        chosen, probabilities = list(range(len(spans))), [None] * len(spans)
    else:
        pieces, crossings = line_pieces(mask, marks, height)
        spans, inputs, probabilities, _, chosen = cut_by_recognition(pieces, crossings, height, read)
    return [(inputs[k], tuple(v / scale + o for v, o in zip(unslanted(spans[k][2], moved), (top, left, top, left))),
             probabilities[k]) for k in chosen]


def slanted_as_mnist(mask, marks):
    """(mask, marks, moved): the line of writing with each row r moved moved[r] columns to the
    right, so that it slants no more than SLANTS allows, the slant of all but a few of MNIST's
    digits: a line slanted more (columns per row down, the best_slope of its strokes) is moved
    by what is beyond it, its marks numbered again left to right as they now stand; a line
    slanted less is left as it was, and moved is None."""
    slant = best_slope(mask.T, SLANT_STEPS)
    beyond = slant - np.clip(slant, *SLANTS)
    if beyond == 0:
        return mask, marks, None
    moved = column_shifts(beyond, mask.shape[0])
    mask, marks = shear(mask.T, beyond).T, shear(marks.T, beyond).T
    lefts = [cols.start for _, cols in ndimage.find_objects(marks)]
    order = np.zeros(len(lefts) + 1, marks.dtype)
    order[1 + np.argsort(lefts, kind="stable")] = np.arange(1, len(lefts) + 1)
    return mask, order[marks], moved


def unslanted(box, moved):
    """(top, left, bottom, right): the box around `box` of a line moved as slanted_as_mnist says,
    in the line as it was; `box` itself if it was not moved (None)."""
    if moved is None:
        return box
    top, left, bottom, right = box
    ends = moved[[top, bottom - 1]]
    return top, left - ends.max(), bottom, right - ends.min()


def cut_by_recognition(pieces, crossings, height, read):
    """(spans, inputs, probabilities, steady, chosen) for the pieces of a line (line_pieces): the
    candidate digits (first piece, last piece, box), their 28x28 inputs, the network's
    probabilities for them (read_candidates) and those averaged with the turned readings
    (read_steadily), and the indices of the candidates of the best reading (best_cuts). A
    candidate cut from a neighbour through ink and read less surely than SURE is also a
    candidate with the tail of the cut stroke trimmed (tail_trimmed), after the others, with the
    same span."""
    spans = candidates(pieces, crossings, height, MAX_PIECES)
    owns = [candidate_mask(pieces, span) for span in spans]
    inputs, probabilities, steady = read_masks(owns, read)
    trimmed = [(span, tail_trimmed(pieces, crossings, span, own, height))
               for span, own, p in zip(spans, owns, steady) if p.max() < SURE]
    trimmed = [(span, own) for span, own in trimmed if own is not None]
    if trimmed:  # each competes with the candidate it was trimmed from
        spans, owns = spans + [span for span, _ in trimmed], owns + [own for _, own in trimmed]
        more = read_masks([own for _, own in trimmed], read)
        inputs, probabilities, steady = (np.concatenate(pair) for pair in zip((inputs, probabilities, steady), more))
    rows = np.array([strokes_per_row(own) for own in owns])
    return spans, inputs, probabilities, steady, best_cuts(spans, steady, crossings, gaps_after(pieces, crossings), height, rows)


def read_masks(owns, read):
    """(inputs, probabilities, steady) of candidate digits from the masks of their strokes: their
    28x28 inputs, the network's probabilities (read_candidates) and those averaged with the
    turned readings (read_steadily). A single straight stroke that bulges (a narrow 4 or 9 whose
    loop a fat pen filled in) is read half as a stick, half as a narrow digit widened."""
    sizes = [extent(own) for own in owns]
    inputs = np.array([candidate_input(own, NARROW, size) for own, size in zip(owns, sizes)], np.float32)
    probabilities = read_candidates(owns, sizes, inputs, read)
    steady = read_steadily(inputs, probabilities, read)
    bulging = [k for k, (width, _) in enumerate(sizes) if np.isinf(width) and bulges(owns[k])]
    if bulging:
        drawn = [box_size(owns[k]) for k in bulging]  # their extents as if they were not sticks
        widened = np.array([candidate_input(owns[k], NARROW, size) for k, size in zip(bulging, drawn)], np.float32)
        wide = read_candidates([owns[k] for k in bulging], drawn, widened, read, sticks=False)
        probabilities[bulging] = (probabilities[bulging] + wide) / 2
        steady[bulging] = (steady[bulging] + read_steadily(widened, wide, read)) / 2
    return inputs, probabilities, steady


def bulges(own):
    """Whether the strokes in `own` are thicker in one part of the middle of their length (MIDDLE)
    than in another by BULGE or more: a straight stroke is as thick all along, a 4 whose arm a
    fat pen filled in is thick where the arm is."""
    points = np.argwhere(own).astype(float)
    if len(points) < 3:
        return False
    along = (points - points.mean(axis=0)) @ np.linalg.eigh(np.cov(points.T))[1][:, 1]  # along the longest axis
    start, stop, parts = MIDDLE
    low, length = along.min(), np.ptp(along)
    counts = np.histogram(along, low + length * np.linspace(start, stop, parts + 1))[0]
    return counts.max() >= BULGE * max(counts.min(), 1)


def box_size(own):
    """(width, height) of the box around the strokes in `own`."""
    rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
    return cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1


def tail_trimmed(pieces, crossings, span, own, height):
    """The mask `own` of a candidate digit (span: first piece, last piece, box) without its ink
    within TAIL of the line's height, along its strokes, of a cut through ink at either side: the
    end of the stroke by which the pen ran on from one digit into the next, which gives a 7 a
    2's foot or turns a 9 into an 8. None if no cut through ink parts it from a neighbour, or the
    cut is in its top HIGH (a 7's bar, a 5's flag), or what would go is not such an end: half its
    ink or more, the wall of a loop (a 0 that a 4 touches) or all but a single straight stroke (a
    4 without its arm)."""
    first, last, (top, left, bottom, right) = span
    neighbours = [label for label, cut in ((first, first > 0 and crossings[first - 1] > 0),
                                           (last + 2, last < len(crossings) and crossings[last] > 0)) if cut]
    if not neighbours:
        return None
    above, before = max(top - 1, 0), max(left - 1, 0)  # the box and a pixel around it
    touching = ndimage.binary_dilation(np.isin(pieces[above:bottom + 1, before:right + 1], neighbours))
    cut = touching[top - above:top - above + own.shape[0], left - before:left - before + own.shape[1]] & own
    if not cut.any() or np.nonzero(cut)[0].mean() < HIGH * own.shape[0]:
        return None
    steps = max(1, round(TAIL * height))  # along the ink, each step to a pixel above, below or beside
    kept = own & ~ndimage.binary_dilation(cut, iterations=steps, mask=own)
    if np.count_nonzero(kept) <= np.count_nonzero(own) / 2:
        return None
    smallest = pinhole_area(own)
    opened = (holes(own, smallest) & ~holes(kept, smallest)).any()
    return None if opened or (np.isinf(extent(kept)[0]) and not np.isinf(extent(own)[0])) else kept


def gaps_after(pieces, crossings):
    """gaps[k]: the distance in px between piece k + 1 and piece k + 2 (numbered from 1 in
    `pieces`), across the space between their nearest pixels of ink, where no cut through ink
    parts them (crossings[k] 0; elsewhere 0)."""
    boxes = ndimage.find_objects(pieces)
    gaps = np.zeros(len(crossings))
    for k in np.flatnonzero(crossings == 0):
        both = pieces[tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(boxes[k], boxes[k + 1]))]
        gaps[k] = ndimage.distance_transform_edt(both != k + 1)[both == k + 2].min() - 1
    return gaps


def candidates(pieces, crossings, height, longest):
    """[(first, last, (top, left, bottom, right))]: the runs of consecutive pieces (numbered from
    0 here) that may be one digit, with their box: runs of at most `longest` pieces, and every
    whole mark however many pieces it was cut into; none but a whole mark wider than WIDEST
    line heights (a 2 or a 5 whose stroke runs on far to the right may be one digit, and then
    only its width's cost tells), nor across a gap between separate marks wider than MERGE_GAP
    of it."""
    boxes = ndimage.find_objects(pieces)
    whole = np.split(np.arange(len(boxes)), np.flatnonzero(crossings == 0) + 1)  # the pieces of each mark
    runs = [(first, last) for first in range(len(boxes)) for last in range(first, min(len(boxes), first + longest))]
    runs += [(mark[0], mark[-1]) for mark in whole if len(mark) > longest]
    whole_marks = {(mark[0], mark[-1]) for mark in whole}
    spans = []
    for first, last in sorted(runs):
        top, left = min(boxes[k][0].start for k in range(first, last + 1)), boxes[first][1].start
        bottom, right = max(boxes[k][0].stop for k in range(first, last + 1)), boxes[first][1].stop
        for k in range(first + 1, last + 1):
            if crossings[k - 1] == 0 and boxes[k][1].start - right > MERGE_GAP * height:
                break
            left, right = min(left, boxes[k][1].start), max(right, boxes[k][1].stop)
        else:
            if last == first or (first, last) in whole_marks or right - left <= WIDEST * height:
                spans.append((first, last, (top, left, bottom, right)))
    return spans


def candidate_mask(pieces, span):
    """The mask of a candidate digit's strokes (first piece, last piece, box) within its box."""
    first, last, (top, left, bottom, right) = span
    return (pieces[top:bottom, left:right] > first) & (pieces[top:bottom, left:right] <= last + 1)


def candidate_input(own, narrow=NARROW, size=None):
    """The 28x28 input of a candidate digit from the mask of its strokes (`size`: their extent, if
    known): redrawn (digit_ink), cropped, scaled to the 20x20 box and centred by mass."""
    return centre_by_mass(scale_to_box(crop_to_ink(digit_ink(own, narrow, size))))


def read_candidates(owns, sizes, inputs, read, sticks=True):
    """The network's probabilities for the candidate digits (masks `owns`, their extents `sizes`,
    28x28 `inputs`): a narrow one (narrower than the least of WIDER of its height as written or
    once made upright, not a single stroke, unless `sticks` is False) is also read made upright
    and widened to each share in WIDER, and its probabilities are the average of the readings,
    as the same digit may be written in MNIST at any of these widths, and a narrow digit written
    slanted is only as wide as MNIST's once upright (and may be wider than that as written: its
    slant widens its box)."""
    probabilities = read(inputs)
    upright = {k: made_upright(own) for k, (own, (width, _)) in enumerate(zip(owns, sizes)) if np.isfinite(width)}
    upright_sizes = {k: extent(own) if sticks else box_size(own) for k, own in upright.items()}
    narrow = [k for k in upright if min(sizes[k][0], upright_sizes[k][0]) < min(WIDER) * sizes[k][1]]
    if narrow:
        wider = np.array([candidate_input(upright[k], share, upright_sizes[k]) for share in WIDER for k in narrow],
                         np.float32)
        readings = read(wider).reshape(len(WIDER), len(narrow), -1)
        probabilities[narrow] = (probabilities[narrow] + readings.sum(axis=0)) / (1 + len(WIDER))
    return probabilities


def made_upright(own):
    """The mask with each row moved sideways so that its ink does not slant: no covariance left
    between the rows and the columns of its pixels (the slant, in columns per row, is their
    covariance over the rows' variance)."""
    rows, cols = np.nonzero(own)
    middle = rows.mean()
    slant = np.mean((rows - middle) * (cols - cols.mean())) / max(np.var(rows), 1e-9)
    height, width = own.shape
    margin = int(np.ceil(abs(slant) * height)) + 1  # room for the rows moved
    # pixel (r, c) of the result is pixel (r, c + slant (r - middle) - margin) of the mask
    moved = ndimage.affine_transform(own.astype(np.float32), np.array([[1.0, 0.0], [slant, 1.0]]),
                                     (0.0, -slant * middle - margin), output_shape=(height, width + 2 * margin), order=1)
    return moved >= 0.5


def read_steadily(inputs, probabilities, read):
    """The network's probabilities for each input (`probabilities` as it is) averaged with those
    of the input turned a little either way: a piece of a digit that only happens to look like
    one is seldom read the same when turned."""
    turned = [ndimage.rotate(inputs, angle, axes=(1, 2), reshape=False, order=1) for angle in STEADY_ANGLES]
    return np.mean([probabilities] + [read(t) for t in turned], axis=0)


def best_cuts(spans, probabilities, crossings, gaps, height, row_strokes):
    """The indices of the spans (first piece, last piece, box) that cover all the pieces but
    runs of links left out (link_runs) with the highest total score (see read_line; gaps:
    gaps_after; row_strokes: an array of each span's strokes_per_row), left to right: for each
    piece, the best score of a reading that ends with it (with a digit, or with a run left out,
    which only a digit or the line's start may come before), from the best of those that end
    where a candidate starts. Leaving a run out costs JOIN_COST as it would be paid across the
    wider of its two outer gaps: nothing for a stroke cut from both neighbours through ink,
    little for one that nearly meets both, all of it at the line's ends.
    A reading of two digits or more other than 1s tells how wide the hand writes them
    (hand_width); the line is read again with each candidate wider than HAND_WIDE of that width
    costing HAND_COST per width beyond: two digits written over each other and read as one are
    half as wide again as the hand's digits or more."""
    n = max(last for _, last, _ in spans) + 1
    tops, lefts, bottoms, rights = np.array([box for _, _, box in spans]).T
    widths, heights = (rights - lefts) / height, (bottoms - tops) / height
    off_line = np.abs(tops + bottoms - tops.min() - bottoms.max()) / (2 * height)  # middle from the line's middle
    apart = np.where(crossings == 0, np.clip(gaps / (BROKEN * height), 0, 1), 0)  # joins paid across each cut
    joins = np.array([apart[first:last].sum() for first, last, _ in spans])
    short = np.where(probabilities.argmax(axis=1) == 1, SHORT_ONE, SHORT)
    scores = (np.log(probabilities.max(axis=1) + 1e-12) - WIDE_COST * np.maximum(widths - WIDE, 0)
              - SHORT_COST * np.maximum(short - heights, 0) - JOIN_COST * joins
              - ROW_STROKES_COST * np.maximum(row_strokes - ROW_STROKES, 0)
              - OFF_LINE_COST * np.maximum(off_line - OFF_LINE, 0))
    steps = [(first, last, scores[k] - (CUT_COST * crossings[first - 1] if first else 0.0), k)
             for k, (first, last, _) in enumerate(spans)]
    outer = np.r_[1.0, apart, 1.0]  # outer[k]: the share of a join paid before piece k, all of it at the ends
    steps += [(first, last, -JOIN_COST * max(outer[first], outer[last + 1]), None)
              for first, last in link_runs(spans, crossings, heights, height)]  # the cut after is paid after it
    chosen = best_reading(n, steps)
    typical = hand_width(widths[chosen], probabilities[chosen])
    if typical is not None:
        beyond = HAND_COST * np.maximum(widths - HAND_WIDE * typical, 0) / typical
        chosen = best_reading(n, [(first, last, score - (0.0 if k is None else beyond[k]), k)
                                  for first, last, score, k in steps])
    return chosen


def hand_width(widths, probabilities):
    """The width of a digit in the hand of a reading (the widths and probabilities of its digits):
    the lower median of those not read as a 1, if there are at least two; else None."""
    widths = np.sort(widths[probabilities.argmax(axis=1) != 1])
    return widths[(len(widths) - 1) // 2] if len(widths) >= 2 else None


def best_reading(n, steps):
    """The indices of the candidates of the best reading of pieces 0 .. n - 1 from `steps` (first
    piece, last piece, score, index of the candidate or None for a run left out), left to right;
    it may end with a run left out."""
    best = np.full((n + 1, 2), -np.inf)  # best[i, 1]: of the readings of pieces 0 .. i - 1 ending with a run left out
    best[0, 0] = 0.0
    came_from = {}
    for first, last, score, k in sorted(steps, key=lambda step: step[1]):
        left_out = int(k is None)
        before = 0 if left_out else int(np.argmax(best[first]))  # a run left out follows a digit or the start
        if best[first, before] + score > best[last + 1, left_out]:
            best[last + 1, left_out], came_from[last + 1, left_out] = best[first, before] + score, (first, before, k)
    chosen, end, state = [], n, int(np.argmax(best[n]))
    while end > 0:
        end, state, k = came_from[end, state]
        chosen.append(k)
    return [k for k in chosen[::-1] if k is not None]


def link_runs(spans, crossings, heights, height):
    """(first, last) of the runs of consecutive links (see links) that may be left out together,
    never the whole line: a joining stroke may be cut in several pieces, but together they are
    less tall than SHORT of the line, or they would be a digit written in pieces."""
    n, linked = len(crossings) + 1, set(links(spans, crossings, heights))
    boxes = {first: box for first, last, box in spans if first == last}
    runs = []
    for first in sorted(linked):
        top, bottom, last = np.inf, -np.inf, first
        while last in linked:
            top, bottom = min(top, boxes[last][0]), max(bottom, boxes[last][2])
            if bottom - top >= SHORT * height:
                break
            if last - first < n - 1:
                runs.append((first, last))
            last += 1
    return runs


def links(spans, crossings, heights):
    """The pieces that may be a stroke joining two digits rather than part of one, or a mark
    beside the number, and be left out of the reading: less tall than SHORT of the line's height
    (`heights`: each span's, in line heights), and either between two pieces and cut from both
    through ink (the pen running on from one digit to the next) or mostly clear of both
    neighbours' columns (the pen lifted on the way), or at either end of the line, apart from
    its neighbour and mostly clear of its columns (the tick at the end of a form's comb)."""
    n = len(crossings) + 1
    boxes = {first: box for first, last, box in spans if first == last}

    def clear(k):  # less than half of piece k's width shared with either neighbour's columns
        _, left, _, right = boxes[k]
        return all(min(right, boxes[j][3]) - max(left, boxes[j][1]) < (right - left) / 2
                   for j in (k - 1, k + 1) if 0 <= j < n)

    def between(k):  # cut from both neighbours through ink, or clear of both
        return (crossings[k - 1] > 0 and crossings[k] > 0) or clear(k)

    def at_end(k):  # apart from its one neighbour and clear of it
        return crossings[0 if k == 0 else k - 1] == 0 and clear(k)

    return [last for (first, last, _), tall in zip(spans, heights) if first == last and n > 1 and tall < SHORT
            and (between(last) if 0 < last < n - 1 else at_end(last))]


def crop_to_ink(gray):
    """The smallest rectangle holding all the ink, ignoring specks of noise.

    A pixel counts as ink if it is above 0 and at least 2 of its 8 neighbours are
    too: strokes, even 1 px wide, pass that test; isolated specks of noise do not.
    """
    ink = gray > 0
    neighbours = ndimage.convolve(ink.astype(np.int8), np.ones((3, 3), np.int8), mode="constant") - ink
    if (ink & (neighbours >= 2)).any():
        ink &= neighbours >= 2
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def scale_to_box(gray, box=BOX):
    """The ink rescaled (anti-aliased) so its longer side is `box` px, keeping the aspect ratio."""
    height, width = gray.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return gray
    scaled = Image.fromarray(gray.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    scaled = np.clip(np.asarray(scaled), 0, None)
    return scaled / scaled.max()


def centre_by_mass(gray, size=SIZE, centre=CENTRE):
    """A size x size image with `gray` placed so that its centre of mass falls on (centre, centre)."""
    rows, cols = np.indices(gray.shape)
    mass = gray.sum()
    top = int(round(centre - (rows * gray).sum() / mass))
    left = int(round(centre - (cols * gray).sum() / mass))
    top = min(max(top, 0), size - gray.shape[0])
    left = min(max(left, 0), size - gray.shape[1])
    out = np.zeros((size, size), np.float32)
    out[top:top + gray.shape[0], left:left + gray.shape[1]] = gray
    return out


def to_gray(image):
    """The decoded image as a grayscale array in [0, 1], turned upright, smoothed if its shades are
    drawn in dots (dithered) and at most WORK_SIZE px."""
    upright = apply_exif_orientation(image)
    common = common_mode(upright)
    if dithered(upright):
        common = common.filter(ImageFilter.GaussianBlur(DOT_BLUR))
    elif common.mode not in ("I", "F") and (side := square_side(upright)):
        common = common.filter(ImageFilter.BoxBlur((side - 1) / 2))
    return flatten_transparency(shrink_large(common))


def dithered(image):
    """Whether an image of few colours (black and white, or with a palette: a GIF, an 8-bit PNG)
    draws its shades with dots, as a photo saved so is drawn (dithering): more than DOTTED of the
    pixels of its middle (at most 2 WORK_SIZE px square) are dots, DOT darker or lighter than all
    four of their neighbours. A stroke's edge or a photo's grain makes almost none; a dithered
    sheet of paper, grey dots on white, makes them everywhere, and its ink found pixel by pixel
    is dust, or the digit dots."""
    if image.mode not in ("1", "P") or max(image.size) <= SMALL:
        return False
    gray = middle_levels(image)
    middle, neighbours = gray[1:-1, 1:-1], (gray[:-2, 1:-1], gray[2:, 1:-1], gray[1:-1, :-2], gray[1:-1, 2:])
    dots = (middle < np.minimum.reduce(neighbours) - DOT) | (middle > np.maximum.reduce(neighbours) + DOT)
    return bool(dots.mean() > DOTTED)


def middle_levels(image):
    """The grey levels (gray_levels) of the middle of the image, at most 2 WORK_SIZE px square:
    enough to tell how it was made (dithered, square_side) at a bounded cost."""
    width, height = image.size
    left, top = max(0, width // 2 - WORK_SIZE), max(0, height // 2 - WORK_SIZE)
    return gray_levels(image.crop((left, top, min(width, left + 2 * WORK_SIZE), min(height, top + 2 * WORK_SIZE))))


def square_side(image):
    """The side in px of the squares of one colour the image is made of, or None: a small image
    scaled up without smoothing (each of its pixels a square: nearest neighbour), as matplotlib
    shows an MNIST digit and as many save one enlarged. Its levels change from one pixel to the
    next (by more than PANEL_LEVEL) only between squares: along at least SQUARES columns or rows
    of its middle (at most 2 WORK_SIZE px square) and two of the other (a 1 is narrow), at least
    SQUARE px apart; the side is the least such distance. The staircase of their edges is no
    part of the writing: the image is smoothed by a box that wide, as it would have been scaled
    up smoothly (bilinear)."""
    if max(image.size) <= SMALL:
        return None
    gray = middle_levels(image)
    edges = []
    for axis in (1, 0):  # the columns where a level changes, then the rows
        edges.append(np.flatnonzero((np.abs(np.diff(gray, axis=axis)) > PANEL_LEVEL).any(axis=1 - axis)))
        if (len(edges[-1]) - 1) * SQUARE > gray.shape[axis] - 2:
            return None  # too many to lie SQUARE px apart: a photo's grain, a line's smooth edge
    if max(map(len, edges)) < SQUARES or min(map(len, edges)) < 2:
        return None
    side = min(np.diff(e).min() for e in edges)
    return int(side) if side >= SQUARE else None


def ink_of(gray, path="image"):
    """(ink, made on a computer) for a grayscale image: its ink made light (make_ink_light) and
    its background removed (remove_background), and whether it was made on a computer (a flat
    background, on which no lines of paper are looked for)."""
    computer = made_on_computer(gray)
    light = make_ink_light(gray, computer)
    try:
        return remove_background(light, path, computer), computer
    except InputError:  # no ink of the colour told: a shadow across the sheet misled the choice,
        return remove_background(1 - light, path, computer), computer  # or there is none of either colour


def thickened(ink):
    """`ink` with its hairlines (hairline) thickened by a pixel: the grey dilation of the ink,
    2 x 2; `ink` itself if its strokes are no hairlines."""
    return ndimage.grey_dilation(ink, size=(2, 2)) if hairline(ink) else ink


def hairline(ink):
    """Whether the strokes of `ink` are narrower than THIN px where their ink is at least half the
    strongest's (stroke_width, on the ink enlarged twice: a stroke 2 px wide or less is all outline
    at its own size, where its width measures 2; one that measures 2 THIN or more there is no
    hairline): a fine pen's stroke in a photo, or a paint program's pencil a pixel wide, whose ink
    falls now on one pixel, now across two (or, shrunk to the working size, fades and comes back),
    so that it is broken into dashes where it is found; and where it runs aslant, its pixels meet
    only at their corners, and a cut passes between them without crossing ink."""
    return (stroke_width(ink >= 0.5) < 2 * THIN
            and stroke_width(ndimage.zoom(ink, 2, order=1) >= 0.5) / 2 < THIN)


def line_of(image, path="image"):
    """(gray, made on a computer, ink, line, turn) of an upright image: its grayscale at the
    working size (to_gray), whether it was made on a computer and its ink with its hairlines
    thickened (ink_of, thickened), and its line of writing and how its ink was turned (line_in)."""
    gray = to_gray(image)
    ink, computer = ink_of(gray, path)
    return (gray, computer) + line_in(thickened(ink), computer, path)


def line_in(ink, computer, path="image"):
    """(ink, line, turn) for the `ink` of an image (ink_of; `computer`: made on a computer): its
    line of writing as marks_in_line gives it (None for an image no larger than SMALL, which
    holds one digit), and how the ink was turned: None, or (angle, shape before, shape after) for
    a row of writing turned from level (tilt; a phone held askew), whose ink is turned level and
    looked at again, `ink` and `line` then of the turned ink. Its edge is where the image's edge
    was, and beyond it.

    In an image made on a computer (a drawing, a pad's canvas) no mark is left out for touching
    the image's edge: there is no sheet whose edge it could be, and a digit drawn to the edge of
    the canvas is a digit.
    An image (a photo, or a drawing made on a computer) whose line of writing is at least TIGHT
    of its height tall was cropped close to the writing. ink_mask judges a mark by whether it
    touches the image's edge (the sheet's edge) and by the share of the image it runs across (a
    margin line, lines of the paper: runs a third of the image long), and in a close crop a
    digit touches the edge, a 1 runs across most of it and a digit's straight stroke is as long
    as a line of the paper. So the strokes of such an image are found again with a line's height
    of bare background around its ink, and those of a photo whose marks make no line of writing
    at all (InputError) with the image's height.
    """
    if max(ink.shape) <= SMALL:
        return ink, None, None
    frame = np.zeros(ink.shape, bool) if computer else edge_frame(ink.shape)  # a drawing's edge is no sheet's
    mask = ink_mask(ink, paper=not computer, edge=frame)
    try:
        line, refused = marks_in_line(mask, path), None
    except InputError as error:  # perhaps a close crop or a turned row: looked at again below
        line, refused = None, error
    angle = tilt(mask if line is None else np.isin(line[0], [k for g in line[1] for k in g[4]]))
    turn = None
    if angle:  # a row of writing turned from level: turned level, its strokes found again
        level = turned(ink, -angle)
        edge = (np.zeros(level.shape, bool) if computer  # none in a drawing; in a photo, and the corners beyond it
                else turned((~frame).astype(np.float32), -angle) < 0.5)
        try:
            line, refused = marks_in_line(ink_mask(level, paper=not computer, edge=edge), path), None
            ink, turn = level, (-angle, ink.shape, level.shape)
        except InputError:
            pass
    if computer and refused:
        raise refused
    if line is None or line[2] >= TIGHT * ink.shape[0]:
        margin = ink.shape[0] if line is None else line[2]
        mask = ink_mask(np.pad(ink, margin), paper=not computer)[margin:-margin, margin:-margin]
        line = marks_in_line(mask, path)
    return ink, line, turn


def closer_box(image, gray, bounds, height):
    """The part of the upright `image` to look at again, closer: (left, top, right, bottom) in its
    pixels, around its line of writing (`bounds`: its top, left, bottom, right in `gray`, the
    image at the working size) with a margin of the line's height on every side, and at least
    CLOSER_MARGIN px of `gray`: a line a few pixels tall there has strokes fainter than a pixel,
    and a digit at either end of it may not have been found (a number 160 px tall in an image
    15,000 px long lost its first digit). None if the line is LINE_HEIGHT px tall or more in
    `gray`, or if the image has no more pixels of that part than `gray` has (across or down:
    factors), however large the part is (it is looked at shrunk to WORK_SIZE, as any image).
    """
    if height >= LINE_HEIGHT:
        return None
    across, down = factors(image, gray)
    top, left, bottom, right = bounds
    margin = max(height, CLOSER_MARGIN)
    box = (round(max(left - margin, 0) * across), round(max(top - margin, 0) * down),
           round(min(right + margin, gray.shape[1]) * across), round(min(bottom + margin, gray.shape[0]) * down))
    if min(across, down) * min(1, WORK_SIZE / max(box[2] - box[0], box[3] - box[1])) <= 1:
        return None
    return box


def factors(image, gray):
    """(across, down): the pixels of `image` per pixel of `gray`, its grayscale at the working size,
    along its width and along its height (the working size rounds each side to whole pixels: for
    an image 300 x 16,000, 10 x 512, 30 and 31.25)."""
    return image.size[0] / gray.shape[1], image.size[1] / gray.shape[0]


def on_margin(image, box, across, down):
    """(part, (x, y)): the panel `box` of `image` (top, left, bottom, right in the working size's
    pixels, each `across` and `down` of the image's: factors) as an image of its own, on a margin
    of its colour (the commonest on its outline) PANEL_MARGIN of its longer side wide, so that a
    stroke drawn up to the panel's edge does not touch the edge of the image; and where the
    part's (0, 0) lies in `image`."""
    top, left, bottom, right = box
    x, y = int(np.ceil(left * across)), int(np.ceil(top * down))
    part = image.crop((x, y, int(right * across), int(bottom * down)))
    margin = max(1, round(PANEL_MARGIN * max(part.size)))
    width, height = part.size  # its outline read strip by strip: the panel may have millions of pixels
    strips = [part.crop(strip) for strip in ((0, 0, width, 1), (0, height - 1, width, height),
                                             (0, 1, 1, height - 1), (width - 1, 1, width, height - 1))]
    pixels = np.concatenate([np.asarray(strip).reshape(-1, len(part.getbands())) for strip in strips])
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    colour = colours[np.argmax(counts)]  # the commonest on its outline, in the image's own mode
    framed = ImageOps.expand(part, margin, tuple(colour.tolist()) if len(colour) > 1 else colour[0].item())
    framed.info = dict(image.info)
    return framed, (x - margin, y - margin)


def to_digits(image, path="image", read=None):
    """[(28x28 array, box, probabilities)] for each digit in the image, left to right: light digit
    on black in [0, 1], drawn, sized and centred as MNIST's digits are; box = (left, top, right,
    bottom) of the digit in the image's pixels; the network's probabilities from `read` (see
    read_line), or None without it.

    The whole image is looked at WORK_SIZE px wide; a line of writing small in it is looked at
    again in a part of the image around it, at up to the image's own resolution (closer_box),
    unless that closer look does not find a line of writing. The line is read with its hairlines
    thickened (thickened): in the closer look, or in the whole image's ink looked at again; the
    first look only finds where the line is, and is thickened only if its marks make no line. A
    row turned level (line_in) is read level; its boxes are those around its digits' boxes
    turned back. An image that shows its writing in a panel (panel) is read as the panel alone,
    on a margin of its colour (on_margin), unless no writing is found there.
    """
    upright = apply_exif_orientation(image)
    gray = to_gray(upright)
    inside = panel(gray)
    if inside is not None:  # the panel read as an image of its own; failing that, the whole image
        part, (x, y) = on_margin(upright, inside, *factors(upright, gray))
        try:
            digits = digits_of(part, to_gray(part), path, read)
        except InputError:
            pass
        else:
            decoded = upright.info.get("decoded scale", 1)  # its boxes are in the file's pixels
            return [(digit, (round(l + x * decoded), round(t + y * decoded), round(r + x * decoded),
                             round(b + y * decoded)), p) for digit, (l, t, r, b), p in digits]
    return digits_of(upright, gray, path, read)


def digits_of(upright, gray, path, read):
    """to_digits for an image turned upright and its grayscale (to_gray), without a panel."""
    found, computer = ink_of(gray, path)
    thick = None  # the ink with its hairlines thickened, once asked for
    try:
        ink, line, turn = line_in(found, computer, path)
    except InputError as error:  # a hairline broken into dashes may make no line: looked at thickened
        thick = thickened(found)
        if thick is found:
            raise
        try:
            ink, line, turn = line_in(thick, computer, path)
        except InputError:
            raise error from None
    decoded = upright.info.get("decoded scale", 1)  # the file's pixels per decoded pixel
    origin, (across, down) = (0, 0), factors(upright, gray)  # working pixels -> the decoded image's
    if line is None:  # an image this small holds one digit, as MNIST's do
        digit = centre_by_mass(scale_to_box(crop_to_ink(ink)))
        return [(digit, (0, 0, round(upright.size[0] * decoded), round(upright.size[1] * decoded)),
                 read(digit[None])[0] if read else None)]
    box = closer_box(upright, gray, unturned(line_bounds(line[1]), turn), line[2])
    part, closer = upright if box is None else upright.crop(box), None
    try:
        if box is not None:  # the line read closer, its hairlines thickened
            closer = line_of(part, path)
        elif thick is None:  # the whole image's ink read again, if it has hairlines, thickened
            thick = thickened(found)
            if thick is not found:
                closer = (gray, computer) + line_in(thick, computer, path)
    except InputError:
        pass
    if closer is not None and closer[3] is not None:
        gray, _, ink, line, turn = closer
        origin, (across, down) = (0, 0) if box is None else box[:2], factors(part, gray)
    digits = read_line(ink, *line, read)
    if len(digits) > MAX_DIGITS:
        raise InputError(f"{path}: found {len(digits)} digits, more than the {MAX_DIGITS} digits of a number; "
                         "photograph one digit or one number at a time")
    boxes = [unturned(box, turn) for _, box, _ in digits]  # in `gray`'s pixels
    return [(digit, tuple(round(v * decoded) for v in (origin[0] + left * across, origin[1] + top * down,
                                                       origin[0] + right * across, origin[1] + bottom * down)),
             probabilities) for (digit, _, probabilities), (top, left, bottom, right) in zip(digits, boxes)]


def to_mnist(image, path="image", read=None):
    """28x28 array in [0, 1] of the one digit in the image (InputError if there are several)."""
    digits = to_digits(image, path, read)
    if len(digits) > 1:
        raise InputError(f"{path}: found {len(digits)} digits where one was expected")
    return digits[0][0]


def to_raw(image):
    """28x28 array in [0, 1]: grayscale and resized, nothing else (what the original did)."""
    return np.asarray(image.convert("L").resize((SIZE, SIZE)), np.float32) / 255
