"""Accuracy of models on photos and images of handwritten digits and numbers (tests/photos.py).

    python benchmarks/photos.py model_mnist.npz augmented.npz --per-group 40 --seed 3
    python benchmarks/photos.py model_mnist.npz --framing far --seed 21
    python benchmarks/photos.py model_mnist.npz --by-writing --per-group 100
    python benchmarks/photos.py model_mnist.npz --framing alone --mnist 0 --seed 99
    python benchmarks/photos.py model_mnist.npz --font /usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf --mnist 0

Writes the images to a temporary folder (or to --folder, kept), reads them with
predict_image.py --json (as a user would) and prints a Markdown table: the share read
exactly, per family and kind, and of MNIST test digits scaled up to 280x280, white on black.
With --by-writing, a second table splits the numbers by how they were written: the hand, the
spacing, joining strokes, the pen and the width of the writing. With --font, every digit is
written in that font (its ten digits redrawn as MNIST's are), a hand the table does not have.
With --framing alone, each digit of a number is photographed on its own and the number counts
as read when each of its digits is: what a perfect cutting of the numbers would read.
"""

import collections
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import photos  # noqa: E402
from digits import cli, mnist_data  # noqa: E402
from digits.model_file import load_model  # noqa: E402

KINDS = ("single", "number")
LARGEST_NUMBER = 8  # numbers have 2 to this many digits
MNIST_TEST_DIGITS = 10_000


def write_photos(folder, per_group, seed, mnist_per_group=None, framing="normal", font=None):
    """per_group images of each family and kind, named <family>_<kind>_<k>_<label>.<ext>, and
    mnist_per_group (default: per_group) MNIST test digits at 280x280, white on black. Framed
    otherwise (photos.FRAMINGS), each photo is the one of the same seed's normal framing, with
    the same writing on the same sheet, framed far or close, turned, with a line of print,
    underlined or ringed, or written in a fine pen, wide or slanted, or its 1s and 7s formed
    otherwise, or without its joining strokes. Framed `alone`, each digit of a number is a photo
    of its own, named <family>_number_<k>-<i>_<digit>: the number's photo with only its i-th
    digit written (read_alone takes them together again). With a `font`, (images, labels) of a
    font's digits (photos.font_digits), every digit is that font's, redrawn as MNIST's hand is.
    Returns {file name: how its digits were written} (photos.handwriting's record) for the
    photos and drawings."""
    images, labels = mnist_data.load_mnist(splits=("test",))["test"]
    images = images.reshape(-1, 28, 28)
    in_font = font is not None
    hand, hand_labels = font if in_font else (images, labels)
    rng = np.random.default_rng(seed)
    written = {}
    for family in photos.FAMILIES:
        for kind in KINDS:
            for k in range(per_group):
                count = 1 if kind == "single" else int(rng.integers(2, LARGEST_NUMBER + 1))
                framed = copy.deepcopy(rng)
                record = {}
                apart = framing == "alone" and kind == "number"  # a photo for each digit, the first made here
                data, label = photos.make_photo(rng, hand, hand_labels, family, count, record=record, font=in_font,
                                                alone=0 if apart else None)
                extension = "png" if family == "screen" else "jpg"
                name = f"{family}_{kind}_{k:03d}_{label}.{extension}"
                written[name] = record
                if apart:  # the other digits from the same draws
                    shots = {f"{family}_{kind}_{k:03d}-0_{label[0]}.{extension}": data}
                    for i, digit in enumerate(label[1:], 1):
                        shots[f"{family}_{kind}_{k:03d}-{i}_{digit}.{extension}"] = photos.make_photo(
                            copy.deepcopy(framed), hand, hand_labels, family, count, font=in_font, alone=i)[0]
                elif framing in ("normal", "alone"):
                    shots = {name: data}
                else:
                    shots = {name: photos.make_photo(framed, hand, hand_labels, family, count, framing=framing,
                                                     font=in_font)[0]}
                for shot, data in shots.items():
                    with open(os.path.join(folder, shot), "wb") as f:
                        f.write(data)
    for k in rng.choice(len(images), per_group if mnist_per_group is None else mnist_per_group, replace=False):
        with open(os.path.join(folder, f"mnist280_single_{k:05d}_{labels[k]}.png"), "wb") as f:
            f.write(photos.mnist_on_black(images[k], rng=rng))
    return written


def name_fields(name):
    """(family, kind, label) of an image from its file name, as write_photos names it."""
    family, kind, _, label = os.path.splitext(name)[0].split("_")
    return family, kind, label


def read_right(folder, model):
    """{file name: whether one model read it exactly}."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "predict_image.py"), "--json", "--model", model,
                          folder], capture_output=True, text=True).stdout
    right = {}
    for line in out.splitlines():
        answer = json.loads(line)
        name = os.path.basename(answer["path"])
        right[name] = answer.get("number", str(answer.get("digit", ""))) == name_fields(name)[2]
    return right


def read_alone(right):
    """read_right's answers with the photos of a number's digits taken alone (write_photos framed
    `alone`) counted as the number's: {the number's file name: whether each of its digits was read}."""
    numbers = {}
    for name, ok in sorted(right.items()):  # a number's digits in their order: 0 to 7
        stem, extension = os.path.splitext(name)
        family, kind, k, digit = stem.split("_")
        k = k.split("-")[0]  # <k>-<i> for a number's digit, <k> for a single digit
        label, read = numbers.get((family, kind, k, extension), ("", True))
        numbers[family, kind, k, extension] = (label + digit, read and ok)
    return {f"{family}_{kind}_{k}_{label}{extension}": read
            for (family, kind, k, extension), (label, read) in numbers.items()}


def group_counts(right):
    """{(family, kind): [read exactly, images]} from read_right's answers."""
    counts = collections.defaultdict(lambda: [0, 0])
    for name, ok in right.items():
        family, kind, _ = name_fields(name)
        counts[family, kind][0] += ok
        counts[family, kind][1] += 1
    return counts


def table(models, results):
    """The Markdown table of shares read exactly: a row per family and kind, a column per model."""
    rows = ["| images | " + " | ".join(f"`{os.path.basename(m)}`" for m in models) + " |",
            "| --- |" + " --- |" * len(models)]
    names = {"plain": "plain paper", "ruled": "ruled paper", "squared": "squared paper",
             "board": "chalk on a dark board", "screen": "made on a computer"}
    for kind in KINDS:
        for family in photos.FAMILIES:
            what = "one digit" if kind == "single" else f"a number of 2-{LARGEST_NUMBER} digits"
            cells = [f"{r[family, kind][0] / r[family, kind][1]:.1%}" for r in results]
            rows.append(f"| {what}, {names[family]} | " + " | ".join(cells) + " |")
    for label, families in (("all single digits on paper", photos.PAPER_FAMILIES),
                            ("all numbers", photos.FAMILIES)):
        kind = "single" if "single" in label else "number"
        cells = [f"{sum(r[f, kind][0] for f in families) / sum(r[f, kind][1] for f in families):.1%}"
                 for r in results]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    if results[0]["mnist280", "single"][1]:  # none with --mnist 0
        rows.append("| MNIST test digits at 280x280, white on black | "
                    + " | ".join(f"{r['mnist280', 'single'][0] / r['mnist280', 'single'][1]:.1%}" for r in results)
                    + " |")
    return "\n".join(rows)


WRITING = [  # (row, whether a number's record belongs in it) for the table by how numbers were written
    ("hand: MNIST's digits redrawn", lambda r: r["hand"] == "mnist"),
    ("hand: written stroke by stroke", lambda r: r["hand"] == "written"),
    ("hand: a font's digits redrawn", lambda r: r["hand"] == "font"),
    *((f"digits {name}", lambda r, name=name: r["spacing"] == name) for name in photos.SPACING_NAMES),
    ("no digits joined by a stroke", lambda r: r["joined"] == 0),
    ("some digits joined by a stroke", lambda r: r["joined"] > 0),
    ("pen under 6% of the digits' height", lambda r: r["pen"] < 0.06),
    ("pen 6-12% of the height", lambda r: 0.06 <= r["pen"] < 0.12),
    ("pen 12% of the height or more", lambda r: r["pen"] >= 0.12),
    ("writing under 0.6 of its natural width", lambda r: r["width"] < 0.6),
    ("writing 0.6-0.9 of its natural width", lambda r: 0.6 <= r["width"] < 0.9),
    ("writing 0.9 of its natural width or more", lambda r: r["width"] >= 0.9),
]


def writing_table(models, rights, written):
    """The Markdown table of the shares of numbers read exactly, split by how they were written
    (WRITING): a row per way, a column per model, each cell the share and of how many."""
    numbers = {name: record for name, record in written.items() if name_fields(name)[1] == "number"}
    rows = ["| numbers written with | " + " | ".join(f"`{os.path.basename(m)}`" for m in models) + " |",
            "| --- |" + " --- |" * len(models)]
    for label, belongs in WRITING:
        names = [name for name, record in numbers.items() if belongs(record)]
        if names:
            rows.append(f"| {label} | " + " | ".join(
                f"{sum(right.get(n, False) for n in names) / len(names):.1%} of {len(names)}" for right in rights) + " |")
    return "\n".join(rows)


def write_and_read(models, folder, write):
    """(what `write` returns, [read_right for each model]) of the images that write(folder) writes
    into `folder` (--folder: a new or empty folder, kept) or a temporary folder. Each model is
    loaded first: a missing one is one line, before any image is made."""
    refuse_used_folder(folder)
    for model in models:
        load_model(model)
    with tempfile.TemporaryDirectory() as scratch:
        folder = folder or scratch
        os.makedirs(folder, exist_ok=True)
        written = write(folder)
        return written, [read_right(folder, model) for model in models]


def refuse_used_folder(folder):
    """InputError (one line) if --folder `folder` is given but is a file or a folder with something in it."""
    if folder and os.path.lexists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise cli.InputError(f"--folder {folder}: {'not empty' if os.path.isdir(folder) else 'not a folder'}"
                             "; give a new or empty folder for the images")


def main():
    p = cli.ArgumentParser(prog="benchmarks/photos.py",
                           description="Accuracy of models on photos of digits and numbers.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files written by train.py")
    p.add_argument("--per-group", type=cli.positive_int, default=40,
                   help="images of each family and kind (default: 40)")
    p.add_argument("--mnist", type=lambda text: cli.whole_number(text, 0, MNIST_TEST_DIGITS), default=None,
                   metavar="N", help="MNIST digits at 280x280, white on black, 0 to 10,000 (default: --per-group)")
    p.add_argument("--seed", type=cli.seed_number, default=3, help="seed of the images (default: %(default)s)")
    p.add_argument("--framing", choices=photos.FRAMINGS + ("alone",), default="normal",
                   help="how a photo is taken: as people hold a phone (normal), "
                        f"{photos.FAR} times as wide and tall around the same writing (far), cropped "
                        f"close around the writing (close), with the sheet turned {photos.TURNED} degrees "
                        "more (turned), with a line of print on the sheet above or below the writing (printed), or "
                        "underlined or written under a line, once or twice (underlined), with a ring drawn "
                        "around the writing (ringed), written on paper in a fine pen (fine), with its digits "
                        f"{photos.WIDE_HAND[0]}-{photos.WIDE_HAND[1]} times their natural width (wide), "
                        f"slanted {photos.SLANTED_HAND[0]}-{photos.SLANTED_HAND[1]} columns per row either way "
                        "(slanted), or with its 1s written with a long flag and its 7s crossed (abroad); "
                        "images made on a computer are the same in all of these; or without the strokes that "
                        "join neighbouring digits, on a computer too (unjoined); or each digit of a number "
                        "photographed on its own, in the number's photo with only that digit written, the number "
                        "read if each of its digits is: what a perfect cutting of the numbers would read (alone) "
                        "(default: %(default)s)")
    p.add_argument("--font", metavar="FILE", default=None,
                   help="write every digit in this handwriting font (a .ttf or .otf file) instead of the table's "
                        "hands, redrawn with the table's pens, widths, slants and spacings as MNIST's digits are")
    p.add_argument("--folder", default=None,
                   help="a new or empty folder to write the images to and keep them in (default: a temporary folder)")
    p.add_argument("--by-writing", action="store_true",
                   help="also print a table of the numbers read exactly by how they were written: the hand, "
                        "the spacing, joining strokes, the pen and the width")
    args = p.parse_args()
    if args.mnist is None and args.per_group > MNIST_TEST_DIGITS:
        p.error(f"argument --mnist: must be at most {MNIST_TEST_DIGITS}, got {args.per_group} from --per-group")
    font = None
    if args.font:
        if not os.path.isfile(args.font):
            what = "is a folder" if os.path.isdir(args.font) else "no such file"
            raise cli.InputError(f"--font {args.font}: {what}; give a .ttf or .otf font file")
        try:
            font = photos.font_digits(args.font)
        except (OSError, ValueError) as error:
            raise cli.InputError(f"--font {args.font}: not a font with digits that FreeType can read ({error})")
    written, rights = write_and_read(args.models, args.folder, lambda folder: write_photos(
        folder, args.per_group, args.seed, args.mnist, args.framing, font))
    if args.framing == "alone":
        rights = [read_alone(right) for right in rights]
    print(table(args.models, [group_counts(right) for right in rights]))
    if args.by_writing:
        print()
        print(writing_table(args.models, rights, written))


if __name__ == "__main__":
    cli.run_main("benchmarks/photos.py", main)
