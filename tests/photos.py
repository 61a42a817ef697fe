"""Photos of handwritten digits and numbers on notebook paper, made from MNIST test digits.

Each photo varies everything a phone photo varies: the paper (white, cream, gray; plain,
ruled or squared, with or without a margin line), the pen (black, blue or red ink, pencil,
marker; thin to fat strokes), the handwriting's size, slant and spacing, how much of the
frame the sheet fills (a table around it, dark corners), light falling unevenly and
shadows, a slight perspective, blur, sensor noise and JPEG compression. The digits are
MNIST's held-out test digits, redrawn as pen strokes: the network never trained on them.

    photo, labels = make_photo(rng, images, labels, family="ruled", count=4)
"""

import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

FAMILIES = ("plain", "ruled", "squared")
INKS = {  # RGB of the ink, and how dark it lays down at full pressure
    "black pen": ((25, 25, 35), 0.95),
    "blue pen": ((25, 45, 150), 0.9),
    "red pen": ((175, 25, 35), 0.9),
    "pencil": ((70, 70, 75), 0.6),
    "marker": ((20, 20, 20), 1.0),
}
PAPERS = [(245, 244, 238), (250, 246, 228), (232, 232, 228), (240, 238, 242)]


def stroke_mask(digit, height, pen_width, rng):
    """A digit (28x28 uint8) as pen strokes `pen_width` px wide, `height` px tall, slanted a little."""
    scale = height / 20
    big = Image.fromarray(digit).resize((round(28 * scale), round(28 * scale)), Image.Resampling.BICUBIC)
    shear = rng.uniform(-0.25, 0.25)
    big = big.transform(big.size, Image.Transform.AFFINE, (1, shear, -shear * big.size[1] / 2, 0, 1, 0),
                        Image.Resampling.BILINEAR)
    squeeze = rng.uniform(0.75, 1.1)  # some people write narrow
    big = big.resize((max(8, round(big.size[0] * squeeze)), big.size[1]), Image.Resampling.BILINEAR)
    inked = np.asarray(big) > 100
    depth = ndimage.distance_transform_edt(inked)
    middle = inked & (depth >= ndimage.maximum_filter(depth, size=3) - 0.75)  # the ridge: a skeleton of sorts
    pen = ndimage.distance_transform_edt(~middle) <= pen_width / 2
    edge = ndimage.gaussian_filter(pen.astype(np.float32), 0.6)
    rows, cols = np.flatnonzero(edge.max(axis=1) > 0.05), np.flatnonzero(edge.max(axis=0) > 0.05)
    return edge[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def paper_lines(shape, family, spacing, rng):
    """A (h, w) array of how much line colour each pixel of the sheet gets (0 none, 1 full)."""
    lines = np.zeros(shape, np.float32)
    if family == "plain":
        return lines
    width = rng.uniform(1.0, 2.5)
    rows = np.arange(shape[0])[:, None]
    offset = rng.uniform(0, spacing)
    lines = np.maximum(lines, np.clip(width / 2 + 0.5 - np.abs((rows - offset) % spacing - spacing / 2), 0, 1))
    if family == "squared":
        cols = np.arange(shape[1])[None, :]
        lines = np.maximum(lines, np.clip(width / 2 + 0.5 - np.abs((cols - offset) % spacing - spacing / 2), 0, 1))
    return np.broadcast_to(lines, shape).astype(np.float32)


def make_photo(rng, images, labels, family="plain", count=1, size=None, quality=None):
    """(JPEG bytes, label string) of a photo of `count` random test digits written on paper."""
    chosen = rng.choice(len(images), count, replace=False)
    ink_name = list(INKS)[rng.integers(len(INKS))]
    ink_rgb, opacity = INKS[ink_name]
    width, height = size or (int(rng.choice([1000, 1200, 1600])), int(rng.choice([750, 900, 1200])))
    digit_height = rng.uniform(0.12, 0.35) * height / max(1, count ** 0.5)
    pen_width = {"marker": rng.uniform(0.12, 0.2), "pencil": rng.uniform(0.04, 0.08)}.get(
        ink_name, rng.uniform(0.025, 0.09)) * digit_height
    pen_width = max(2.0, pen_width)

    sheet_h, sheet_w = int(height * rng.uniform(0.8, 1.3)), int(width * rng.uniform(0.8, 1.3))
    paper = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32) / 255
    sheet = np.ones((sheet_h, sheet_w, 3), np.float32) * paper
    grain = ndimage.gaussian_filter(rng.normal(0, 1, (sheet_h // 8 + 1, sheet_w // 8 + 1)), 2).astype(np.float32)
    grain = np.asarray(Image.fromarray(grain, mode="F").resize((sheet_w, sheet_h), Image.Resampling.BILINEAR))
    sheet *= 1 + 0.015 * grain[:, :, None]
    spacing = digit_height * rng.uniform(0.45, 0.9)
    line_colour = np.array([(150, 180, 215), (170, 170, 175), (140, 170, 200)][rng.integers(3)], np.float32) / 255
    lines = paper_lines((sheet_h, sheet_w), family, spacing, rng)[:, :, None] * rng.uniform(0.5, 1.0)
    sheet = sheet * (1 - lines) + line_colour * lines
    if family != "plain" and rng.random() < 0.5:  # the red margin line
        x = int(sheet_w * rng.uniform(0.05, 0.15))
        sheet[:, x:x + 2] = sheet[:, x:x + 2] * 0.3 + np.array([0.85, 0.3, 0.3]) * 0.7

    # write the digits in a row, somewhere on the sheet
    masks = [stroke_mask(images[i], digit_height * rng.uniform(0.85, 1.15), pen_width, rng) for i in chosen]
    gaps = [rng.uniform(0.15, 0.5) * digit_height for _ in masks]
    row_width = sum(m.shape[1] for m in masks) + sum(gaps[:-1])
    left = int(sheet_w / 2 - row_width / 2 + rng.uniform(-0.15, 0.15) * width)
    top = int(sheet_h / 2 - digit_height / 2 + rng.uniform(-0.15, 0.15) * height)
    ink = np.zeros((sheet_h, sheet_w), np.float32)
    x = left
    for mask, gap in zip(masks, gaps):
        y = top + int(rng.uniform(-0.08, 0.08) * digit_height)
        y0, x0 = max(0, y), max(0, x)
        part = mask[y0 - y:sheet_h - y, x0 - x:sheet_w - x]
        ink[y0:y0 + part.shape[0], x0:x0 + part.shape[1]] = np.maximum(ink[y0:y0 + part.shape[0],
                                                                           x0:x0 + part.shape[1]], part)
        x += mask.shape[1] + int(gap)
    if ink_name == "pencil":
        ink *= np.clip(rng.normal(1, 0.25, ink.shape), 0.3, 1.3)
    ink = np.clip(ink * opacity, 0, 1)[:, :, None]
    sheet = sheet * (1 - ink) + np.array(ink_rgb, np.float32) / 255 * ink

    # the sheet on a table, seen from slightly off-axis
    table = np.array([(120, 85, 55), (60, 60, 65), (170, 160, 140), (30, 30, 30)][rng.integers(4)], np.float32) / 255
    sheet_image = Image.fromarray((np.clip(sheet, 0, 1) * 255).astype(np.uint8))
    angle = rng.uniform(-4, 4)
    sheet_image = sheet_image.rotate(angle, Image.Resampling.BILINEAR, expand=True,
                                     fillcolor=tuple(int(c * 255) for c in table))
    canvas = Image.new("RGB", (width, height), tuple(int(c * 255) for c in table))
    canvas.paste(sheet_image, (int((width - sheet_image.size[0]) / 2 + rng.uniform(-0.1, 0.1) * width),
                               int((height - sheet_image.size[1]) / 2 + rng.uniform(-0.1, 0.1) * height)))
    k = rng.uniform(-0.00004, 0.00004, 2)
    canvas = canvas.transform(canvas.size, Image.Transform.PERSPECTIVE, (1, 0, 0, 0, 1, 0, k[0], k[1]),
                              Image.Resampling.BILINEAR)

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
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(quality or rng.integers(60, 92)))
    return buffer.getvalue(), "".join(str(labels[i]) for i in chosen)
