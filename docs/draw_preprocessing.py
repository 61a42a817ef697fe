"""Draw docs/preprocessing.png: one photo-like digit through every step of digits/preprocess.py.

    python docs/draw_preprocessing.py

Also writes the input it uses, docs/example-digit.jpg: a handwritten MNIST training
digit enlarged to 300 px, printed as dark ink on unevenly lit, noisy gray paper,
rotated and placed off-centre, saved as a JPEG - the kind of image a phone gives.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from digits import mnist_data  # noqa: E402
from digits import cli, preprocess  # noqa: E402

EXAMPLE = os.path.join(ROOT, "docs", "example-digit.jpg")
FIGURE = os.path.join(ROOT, "docs", "preprocessing.png")


def make_example_photo(index=2, seed=0):
    """A photo-like RGB image of MNIST training digit `index` (a 4)."""
    rng = np.random.default_rng(seed)
    images, labels = mnist_data.load_mnist(splits=("train",))["train"]
    digit = Image.fromarray(images[index].reshape(28, 28)).resize((300, 300), Image.Resampling.BICUBIC)
    digit = digit.rotate(8, resample=Image.Resampling.BICUBIC)
    ink = np.zeros((480, 640), np.float32)
    ink[60:360, 250:550] = np.asarray(digit, np.float32) / 255
    rows, cols = np.indices(ink.shape)
    paper = 0.78 - 0.18 * cols / cols.max() - 0.06 * rows / rows.max()  # light from the left
    gray = paper * (1 - 0.85 * ink) + rng.normal(0, 0.025, ink.shape)
    rgb = np.stack([gray * 1.02, gray, gray * 0.93], axis=-1)  # warm paper
    return Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)), int(labels[index])


def steps(image):
    """(title, array) for the image after each step of preprocess.to_mnist."""
    gray = preprocess.to_gray(image)
    light = preprocess.make_ink_light(gray)
    clean = preprocess.remove_background(light)
    cropped = preprocess.crop_to_ink(clean)
    scaled = preprocess.scale_to_box(cropped)
    final = preprocess.centre_by_mass(scaled)
    return [
        ("1. grayscale", gray),
        ("2. ink made light\n(background was light)", light),
        ("3. background removed,\ncontrast stretched", clean),
        (f"4. cropped to the ink\n{cropped.shape[1]}x{cropped.shape[0]} px", cropped),
        (f"5. longer side scaled\nto 20 px: {scaled.shape[1]}x{scaled.shape[0]}", scaled),
        ("6. centred by mass\nin 28x28: the input", final),
    ]


def main():
    p = cli.ArgumentParser(prog="docs/draw_preprocessing.py",
                           description="Draw the preprocessing figure: one photo-like digit "
                                       "through every step of digits/preprocess.py.")
    p.add_argument("--example", default=EXAMPLE, help="where to write the input photo (default: %(default)s)")
    p.add_argument("--out", default=FIGURE, help="where to write the figure (default: %(default)s)")
    args = p.parse_args()
    cli.check_output_path("--example", args.example, "example-digit.jpg")
    cli.check_output_path("--out", args.out, "preprocessing.png")
    photo, label = make_example_photo()
    cli.write_atomically(args.example, lambda f: photo.save(f, "JPEG", quality=85))
    image = preprocess.load_image(args.example)
    panels = steps(image)
    raw = preprocess.to_raw(image)

    fig, axes = plt.subplots(1, 8, figsize=(18, 3.6), width_ratios=[1.6, 1.6, 1.6, 1.6, 1, 1, 1, 1])
    axes[0].imshow(np.asarray(image))
    axes[0].set_title(f"input: {os.path.basename(args.example)}\n640x480 JPEG", fontsize=10)
    for ax, (title, array) in zip(axes[1:7], panels):
        ax.imshow(array, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
    axes[7].imshow(raw, cmap="gray", vmin=0, vmax=1)
    axes[7].set_title("--raw, for comparison:\nplain resize", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    cli.write_atomically(args.out, lambda f: fig.savefig(f, format="png", dpi=70))
    print(f"Wrote {args.example} (a handwritten {label}) and {args.out}")


if __name__ == "__main__":
    cli.run_main("docs/draw_preprocessing.py", main)
