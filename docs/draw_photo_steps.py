"""Draw docs/photo-steps.png: a photo of a number on ruled paper through each step of reading it.

    python docs/draw_photo_steps.py

The photo is made by tests/photos.py (docs/photo-number.jpg).
"""

import functools
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from digits import mnist_data  # noqa: E402
import photos  # noqa: E402
from digits import cli, preprocess, reader  # noqa: E402
from digits.model_file import load_model  # noqa: E402

SEED = 12  # of the photo

def main():
    p = cli.ArgumentParser(prog="docs/draw_photo_steps.py",
                           description="Draw a photo of a number on ruled paper through each step of "
                                       "preprocess.to_digits, with what the network reads.")
    p.add_argument("--model", default="model_mnist.npz", help="model to read the digits (default: %(default)s)")
    p.add_argument("--photo", default=os.path.join(ROOT, "docs", "photo-number.jpg"),
                   help="where to write the photo (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "photo-steps.png"),
                   help="where to write the figure (default: %(default)s)")
    args = p.parse_args()
    cli.check_output_path("--photo", args.photo, "photo-number.jpg")
    cli.check_output_path("--out", args.out, "photo-steps.png")
    params, _ = load_model(args.model)
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    data, label = photos.make_photo(np.random.default_rng(SEED), images.reshape(-1, 28, 28), labels, "ruled", 4,
                                    size=(1600, 1200), quality=85)
    cli.write_atomically(args.photo, lambda f: f.write(data))

    image = preprocess.load_image(args.photo)
    gray = preprocess.to_gray(image)
    ink, computer = preprocess.ink_of(gray)
    lines = preprocess.paper_lines(ink >= preprocess.LINE_LEVEL, ink >= preprocess.INK_LEVEL)
    mask = preprocess.ink_mask(ink, paper=not computer)
    digits = preprocess.to_digits(image, read=functools.partial(reader.probabilities, params))
    read = [int(probabilities.argmax()) for _, _, probabilities in digits]

    fig = plt.figure(figsize=(16, 7.6))
    top = fig.subplots(1, 4, gridspec_kw={"top": 0.93, "bottom": 0.42, "left": 0.02, "right": 0.98})
    top[0].imshow(np.asarray(image))
    top[0].set_title(f"1. the photo ({image.info['decoded scale'] * image.size[0]:.0f} px wide, JPEG)")
    top[1].imshow(ink, cmap="gray")
    top[1].set_title("2. ink found: the paper's light\nremoved, darkest ink = 1")
    overlay = np.zeros((*mask.shape, 3))
    overlay[lines] = (0.2, 0.4, 1.0)
    overlay[mask] = 1.0
    top[2].imshow(overlay)
    top[2].set_title("3. strokes (white); lines of the\npaper found and removed (blue)")
    top[3].imshow(np.asarray(image))
    shown = image.info["decoded scale"]  # boxes are in the file's pixels; the photo is shown as decoded
    for box, digit in zip((box for _, box, _ in digits), read):
        left, top_, right, bottom = (v / shown for v in box)
        top[3].add_patch(Rectangle((left, top_), right - left, bottom - top_, fill=False, color="red", lw=2))
        top[3].text(left, top_ - 8, str(digit), color="red", fontsize=14, weight="bold")
    top[3].set_title(f"4. digits found, left to right:\nread {''.join(map(str, read))} (written: {label})")
    bottom = fig.subplots(1, len(digits), gridspec_kw={"top": 0.33, "bottom": 0.03, "left": 0.25, "right": 0.75})
    for ax, (digit_image, _, _), digit in zip(np.atleast_1d(bottom), digits, read):
        ax.imshow(digit_image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"28x28 input: {digit}")
    for ax in [*top, *np.atleast_1d(bottom)]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.text(0.5, 0.36, "5. each digit as MNIST's digits are: its own 20x20 box, strokes of MNIST's width, "
                        "centred by mass in 28x28", ha="center", fontsize=12)
    cli.write_atomically(args.out, lambda f: fig.savefig(f, format="png", dpi=70))
    print(f"Wrote {args.photo} (the number {label}) and {args.out}")


if __name__ == "__main__":
    cli.run_main("docs/draw_photo_steps.py", main)
