"""Recognise the digit in an image with a model trained by train.py.

    python predict_image.py                  # asks for an image path
    python predict_image.py a.png b.jpg dir/ # one line per image
"""

import json
import os
import sys

import numpy as np

import cli
import network
import preprocess
from model_file import load_model

PROG = "predict_image.py"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SHADES = " .:-=+*#%@"


def parse_args(argv=None):
    p = cli.ArgumentParser(
        prog=PROG,
        description="Predict the digit in each image with the network trained by train.py. "
                    "Images are converted to MNIST's conventions first (light ink on black, "
                    "20x20 box, centred by mass), so photos, scans and drawings work.",
        epilog="Without image paths it asks for one and prints 'Predicted digit' and 'Confidence'.",
    )
    p.add_argument("images", nargs="*", metavar="IMAGE",
                   help="image files, or folders whose images are all classified")
    p.add_argument("--model", metavar="PATH", default="model_mnist.npz",
                   help="model file written by train.py (default: %(default)s)")
    p.add_argument("--top", type=cli.positive_int, default=1, metavar="K",
                   help="also list the K most likely digits with their probabilities")
    p.add_argument("--show", action="store_true",
                   help="draw the 28x28 input the network sees, as text")
    p.add_argument("--raw", action="store_true",
                   help="only convert to grayscale and resize to 28x28, as the original did")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per image and line: path, digit, confidence, probabilities "
                        "(or path and error)")
    args = p.parse_args(argv)
    if args.top > 10:
        p.error(f"argument --top: at most 10 digits exist, got {args.top}")
    return args


def expand_paths(paths):
    """(path, error) pairs: files as given, folders replaced by the image files in them."""
    for path in paths:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
            if not names:
                yield path, f"{path}: folder has no image files ({', '.join(IMAGE_EXTENSIONS)})"
            for name in names:
                yield os.path.join(path, name), None
        else:
            yield path, None


def image_to_input(path, raw=False):
    """The 28x28 image the network sees for the image file at `path`."""
    image = preprocess.load_image(path)
    return preprocess.to_raw(image) if raw else preprocess.to_mnist(image, path)


def classify(params, digit_image):
    """The 10 probabilities the network gives a 28x28 image in [0, 1]."""
    X = digit_image.reshape(784, 1).astype(params["W1"].dtype)
    return network.predict_proba(params, X)[:, 0]


def render(digit_image):
    """The 28x28 image as 28 lines of text, darker characters for more ink."""
    levels = np.minimum((digit_image * len(SHADES)).astype(int), len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def top_k_text(probabilities, k):
    """'5: 0.9876, 3: 0.0100, ...' for the k most probable digits."""
    order = np.argsort(probabilities)[::-1][:k]
    return ", ".join(f"{d}: {probabilities[d]:.4f}" for d in order)


def ask_for_path():
    """The path typed at the prompt, without the quotes a drag-and-drop adds; "" at Ctrl-D."""
    try:
        text = input("Image path: ")
    except EOFError:
        print()
        return ""
    return text.strip().strip("'\"")


def result_text(path, digit_image, probabilities, args, prompted):
    """What to print for one classified image, in the form the options ask for."""
    digit = int(probabilities.argmax())
    confidence = float(probabilities[digit])
    if args.json:
        return json.dumps({"path": path, "digit": digit, "confidence": round(confidence, 6),
                           "probabilities": [round(float(p), 6) for p in probabilities]})
    lines = [render(digit_image)] if args.show else []
    top = top_k_text(probabilities, args.top) if args.top > 1 else None
    if prompted:
        lines += [f"Predicted digit: {digit}", f"Confidence: {confidence:.4f}"]
        lines += [f"Top {args.top}: {top}"] if top else []
    else:
        lines.append(f"{path}: {digit} (confidence {confidence:.4f})" + (f"  top {args.top}: {top}" if top else ""))
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    params, _ = load_model(args.model)
    prompted = not args.images
    if prompted:
        path = ask_for_path()
        if not path:
            raise cli.InputError("no image path given")
        args.images = [path]
        prompted = not os.path.isdir(path)  # a folder gets one line per image, with its path

    failures = 0
    for path, error in expand_paths(args.images):
        if error is None:
            try:
                digit_image = image_to_input(path, args.raw)
            except cli.InputError as e:
                error = str(e)
        if error is None:
            probabilities = classify(params, digit_image)
            print(result_text(path, digit_image, probabilities, args, prompted), flush=True)
        else:
            failures += 1
            if args.json:
                print(json.dumps({"path": path, "error": error}), flush=True)
            print(f"{PROG}: error: {error}", file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run_main(PROG, main)
