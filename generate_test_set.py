"""Write sample digits from MNIST's held-out test split as 28x28 PNGs, plus a contact sheet.

    python generate_test_set.py                 # test/digit_<label>_sample_<k>.png, 2 per digit,
                                                # and test_contact_sheet.png
    python generate_test_set.py --per-digit 5 --out samples
"""

import io
import os

import numpy as np
from PIL import Image, PngImagePlugin

from digits import cli, mnist_data

PROG = "generate_test_set.py"


def parse_args(argv=None):
    p = cli.ArgumentParser(
        prog=PROG,
        description="Write sample digits from the MNIST test split (images the network never "
                    "trains on) as exact 28x28 grayscale PNGs, and a contact sheet of them all "
                    "beside the folder (OUT_contact_sheet.png).",
    )
    p.add_argument("--per-digit", type=cli.positive_int, default=2, metavar="N",
                   help="images per digit (default: %(default)s)")
    p.add_argument("--out", metavar="DIR", default="test",
                   help="folder to write to, created if needed (default: %(default)s)")
    p.add_argument("--seed", type=cli.seed_number, default=0, metavar="N",
                   help="seed of the random choice of test images (default: %(default)s)")
    mnist_data.add_source_arguments(p)
    args = p.parse_args(argv)
    mnist_data.check_source_arguments(p, args)
    return args


def choose_samples(labels, per_digit, seed):
    """{digit: indices of `per_digit` test images of that digit}, chosen at random with `seed`."""
    rng = np.random.default_rng(seed)
    chosen = {}
    for digit in range(10):
        candidates = np.flatnonzero(labels == digit)
        if per_digit > candidates.size:
            raise cli.InputError(f"--per-digit {per_digit}: the test split has only "
                                 f"{candidates.size} images of digit {digit}")
        chosen[digit] = np.sort(rng.choice(candidates, per_digit, replace=False))
    return chosen


def sample_path(out, digit, k):
    return os.path.join(out, f"digit_{digit}_sample_{k}.png")


def written_by_us(path):
    """True if the PNG at `path` carries this script's mark (so it may be replaced)."""
    try:
        with cli.open_regular_file(path) as f, Image.open(f) as image:
            return image.text.get("Software") == PROG
    except Exception:  # noqa: BLE001 - anything unreadable, or not a regular file, is not ours
        return False


def check_no_foreign_files(paths):
    """Refuse, before writing anything, to replace a file this script did not write."""
    for path in paths:
        if os.path.lexists(path) and not os.path.isfile(path):
            raise cli.InputError(f"{path} exists and is not a regular file; move it or choose another --out")
        if os.path.lexists(path) and not written_by_us(path):
            raise cli.InputError(f"{path} exists and was not written by {PROG}; "
                                 "move it or choose another --out")


def contact_sheet_path(out):
    """test -> test_contact_sheet.png: beside the folder, so the folder holds only samples."""
    return os.path.normpath(out) + "_contact_sheet.png"


def png_bytes(pixels, index):
    """An exact 8-bit grayscale PNG of a 28x28 MNIST image, marked as ours."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", PROG)
    info.add_text("Source", f"MNIST test split, image {index}")
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(28, 28)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def contact_sheet_bytes(images, chosen):
    """A PNG figure: one row per digit, its samples side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_digit = len(chosen[0])
    fig, axes = plt.subplots(10, per_digit, figsize=(1.1 * per_digit + 0.6, 11.5), squeeze=False)
    for digit, indices in chosen.items():
        for k, index in enumerate(indices):
            ax = axes[digit, k]
            ax.imshow(images[index].reshape(28, 28), cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"sample_{k}", fontsize=8)
        axes[digit, 0].set_ylabel(str(digit), rotation=0, fontsize=14, labelpad=14, va="center")
    fig.suptitle("MNIST test digits written by generate_test_set.py", fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": PROG})
    plt.close(fig)
    return buffer.getvalue()


def main(argv=None):
    args = parse_args(argv)
    images, labels = mnist_data.load_mnist(args.source, args.data, ("test",))["test"]
    chosen = choose_samples(labels, args.per_digit, args.seed)
    files = {sample_path(args.out, digit, k): png_bytes(images[index], index)
             for digit, indices in chosen.items() for k, index in enumerate(indices)}
    sheet = contact_sheet_path(args.out)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise cli.InputError(f"--out {args.out}: exists and is not a folder")
    check_no_foreign_files([*files, sheet])
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise cli.InputError(f"--out {args.out}: cannot create folder ({e.strerror})") from None

    files[sheet] = contact_sheet_bytes(images, chosen)
    for path, data in files.items():
        cli.write_atomically(path, lambda f, data=data: f.write(data))
    print(f"Wrote {len(files) - 1} images from the MNIST test split ({args.per_digit} per digit) "
          f"to {cli.printable(args.out)}/ as digit_<label>_sample_<k>.png")
    print(f"Wrote the contact sheet {cli.printable(sheet)}")
    return 0


if __name__ == "__main__":
    cli.run_main(PROG, main)
