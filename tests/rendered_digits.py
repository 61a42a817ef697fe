"""Digits as people have them, rendered with fonts: the test set for image preprocessing.

Each image is a typed digit in one of several fonts, sizes, positions and small
rotations, in one of several styles: dark on white, light on dark, on gray noisy
paper, saved as JPEG, as RGBA on a transparent background, or small on a large canvas.
"""

import os

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
         "DejaVuSans-Oblique.ttf", "STIXGeneral.ttf")
STYLES = ("dark_on_white", "light_on_dark", "noisy_paper", "jpeg", "transparent_dark",
          "transparent_light", "large_canvas")


def ink_mask(digit, font_name, glyph_size, angle):
    """A tight 8-bit mask (255 = ink) of the digit, rotated by `angle` degrees."""
    font = ImageFont.truetype(os.path.join(FONT_DIR, font_name), glyph_size)
    canvas = Image.new("L", (glyph_size * 2, glyph_size * 2), 0)
    ImageDraw.Draw(canvas).text((glyph_size // 2, glyph_size // 4), str(digit), fill=255, font=font)
    canvas = canvas.rotate(angle, resample=Image.Resampling.BICUBIC)
    return canvas.crop(canvas.getbbox())


def place(mask, canvas_size, rng):
    """(mask pasted at a random position on a black canvas, as an 8-bit image)."""
    width, height = canvas_size
    canvas = Image.new("L", canvas_size, 0)
    x = int(rng.integers(0, max(1, width - mask.width)))
    y = int(rng.integers(0, max(1, height - mask.height)))
    canvas.paste(mask, (x, y))
    return canvas


def render(digit, style, rng):
    """(PIL image, file extension) of one digit in one style."""
    font = FONTS[rng.integers(len(FONTS))]
    angle = float(rng.uniform(-12, 12))
    if style == "large_canvas":
        glyph, canvas_size = int(rng.integers(40, 120)), (int(rng.integers(600, 1400)), int(rng.integers(500, 1000)))
    else:
        glyph = int(rng.integers(24, 200))
        canvas_size = (int(glyph * rng.uniform(1.1, 2.5)), int(glyph * rng.uniform(1.3, 2.5)))
    ink = np.asarray(place(ink_mask(digit, font, glyph, angle), canvas_size, rng), np.float32) / 255
    if style in ("dark_on_white", "large_canvas", "jpeg"):
        gray = 1 - ink * rng.uniform(0.7, 1.0)
    elif style == "light_on_dark":
        gray = 0.1 + ink * rng.uniform(0.6, 0.9)
    elif style == "noisy_paper":
        paper = rng.uniform(0.55, 0.8)
        gray = paper - ink * (paper - 0.1) + rng.normal(0, 0.05, ink.shape)
    else:  # transparent: the ink lives in the alpha channel
        value = 0 if style == "transparent_dark" else 255
        rgba = np.zeros(ink.shape + (4,), np.uint8)
        rgba[..., :3] = value
        rgba[..., 3] = (ink * 255).astype(np.uint8)
        return Image.fromarray(rgba, "RGBA"), ".png"
    image = Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
    return image, (".jpg" if style == "jpeg" else ".png")


def write_rendered_digits(folder, per_style_and_digit=3, seed=0):
    """Write the images to `folder` as <style>_<digit>_<k>.<ext>; return {path: digit}."""
    rng = np.random.default_rng(seed)
    labels = {}
    for style in STYLES:
        for digit in range(10):
            for k in range(per_style_and_digit):
                image, ext = render(digit, style, rng)
                path = os.path.join(folder, f"{style}_{digit}_{k}{ext}")
                image.save(path, quality=75) if ext == ".jpg" else image.save(path)
                labels[path] = digit
    return labels
