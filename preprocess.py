"""Turn an image people actually have into the 28x28 input MNIST digits look like.

MNIST digits are light ink on a black background, scaled so that the longer side of
the ink's bounding box is 20 px, and placed in 28x28 with the ink's centre of mass
at the centre. A photo, scan, drawing or screenshot of a digit is usually dark on
light, off-centre and any size. Each function below is one step of the way from
one to the other; `to_mnist` runs them in order. `to_raw` is the plain resize, for
comparison. Images are float arrays in [0, 1], row by row, 1 = ink once inverted.
"""

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cli import InputError, open_regular_file

MAX_PIXELS = 50_000_000  # larger images are refused before they are decoded
WORK_SIZE = 512  # larger images are shrunk to this longer side first: faster, less noise
BOX = 20  # MNIST: the ink's bounding box fits 20x20 ...
SIZE = 28  # ... inside a 28x28 image ...
CENTRE = 14.0  # ... with the centre of mass at pixel (14, 14)
MIN_CONTRAST = 0.08  # ink must differ from the background by this much to count as ink
EXIF_ORIENTATION = 0x0112  # the EXIF tag that says how the camera was held


def load_image(source, name=None, max_pixels=MAX_PIXELS):
    """The decoded image in `source` (a path or a binary file object), refusing anything but a
    regular file, non-images, truncated files and decompression bombs. Errors name the image as
    `name` (default: the path). A large JPEG is decoded at reduced size (at least WORK_SIZE px).
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
                image.draft(image.mode, (WORK_SIZE, WORK_SIZE))
            image.load()
    except UnidentifiedImageError:
        kind = "empty file" if byte_size(file) == 0 else "not an image file PIL can read"
        raise InputError(f"{name}: {kind}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{name}: image is too large (possible decompression bomb)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: cannot decode image ({e})") from None
    finally:
        if file is not source:
            file.close()
    return image


def byte_size(file):
    """The size in bytes of a seekable file object."""
    return file.seek(0, os.SEEK_END)


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


def border_mask(shape):
    """True on the image's outer frame, a few pixels wide, where the background shows."""
    mask = np.zeros(shape, bool)
    width = max(1, min(shape) // 20)
    mask[:width] = mask[-width:] = True
    mask[:, :width] = mask[:, -width:] = True
    return mask


def make_ink_light(gray):
    """The image with light ink on a dark background, inverted if the ink is dark.

    The ink is whichever extreme, darkest or lightest pixel, lies farther from
    the background level (the median of the border).
    """
    level = np.median(gray[border_mask(gray.shape)])
    return 1 - gray if level - gray.min() > gray.max() - level else gray


def background_plane(gray):
    """The background level at every pixel: a plane a + b*row + c*col fitted to the border.

    A plane follows light that falls unevenly across the page. Border pixels far
    from the first fit (ink touching the edge) are left out of a second fit.
    """
    mask = border_mask(gray.shape)
    rows, cols = np.indices(gray.shape, dtype=np.float32)
    A = np.column_stack([np.ones(mask.sum(), np.float32), rows[mask], cols[mask]])
    b = gray[mask]
    coefficients = np.linalg.lstsq(A, b, rcond=None)[0]
    residual = b - A @ coefficients
    typical = 3 * np.median(np.abs(residual)) + 1e-6
    keep = np.abs(residual) <= typical
    coefficients = np.linalg.lstsq(A[keep], b[keep], rcond=None)[0]
    return coefficients[0] + coefficients[1] * rows + coefficients[2] * cols


def remove_background(gray, path="image"):
    """The background and its noise mapped to 0, the brightest ink to 1, clipped to [0, 1].

    After the background plane is subtracted, the noise left on the border is
    measured (median absolute deviation); everything within 4 of those noise
    widths of the background counts as background.
    """
    flat = gray - background_plane(gray)
    frame = flat[border_mask(gray.shape)]
    level = np.median(frame)
    noise = 1.4826 * np.median(np.abs(frame - level))
    floor = level + 4 * noise
    top = flat.max()
    if top < floor + MIN_CONTRAST:
        raise InputError(f"{path}: no digit found (the image is blank or has too little contrast)")
    return np.clip((flat - floor) / (top - floor), 0, 1)


def crop_to_ink(gray):
    """The smallest rectangle holding all the ink, ignoring specks of noise.

    A pixel counts as ink if it is above 0 and at least 2 of its 8 neighbours are
    too: strokes, even 1 px wide, pass that test; isolated specks of noise do not.
    """
    ink = gray > 0
    padded = np.pad(ink, 1).astype(np.int8)
    h, w = ink.shape
    neighbours = sum(padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1)) - ink
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
    scaled = Image.fromarray(gray.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
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
    """The decoded image as a grayscale array in [0, 1], turned upright and at most WORK_SIZE px."""
    return flatten_transparency(shrink_large(common_mode(apply_exif_orientation(image))))


def to_mnist(image, path="image"):
    """28x28 array in [0, 1], light digit on black, sized and centred as MNIST's digits are."""
    gray = remove_background(make_ink_light(to_gray(image)), path)
    return centre_by_mass(scale_to_box(crop_to_ink(gray)))


def to_raw(image):
    """28x28 array in [0, 1]: grayscale and resized, nothing else (what the original did)."""
    return np.asarray(image.convert("L").resize((SIZE, SIZE)), np.float32) / 255
