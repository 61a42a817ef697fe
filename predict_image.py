"""Recognise the digit in an image with a model trained by train.py.

    python predict_image.py                  # asks for an image path
    python predict_image.py a.png b.jpg dir/ # one line per image
    python predict_image.py --serve          # a page to draw digits on, at http://127.0.0.1:8000/
"""

import functools
import io
import json
import os
import re
import sys
from urllib.parse import urlsplit

if __name__ == "__main__" and not (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
    # One thread for the BLAS, set before NumPy loads it (unless the user chose): reading an image
    # makes many small matrix products, after each of which OpenBLAS's idle threads spin: with a
    # second thread, reading took up to 1.6 times the processor time and was no faster (README: Speed).
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

import network  # noqa: E402
from digits import cli, preprocess, reader  # noqa: E402
from digits.model_file import load_model  # noqa: E402

PROG = "predict_image.py"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".heic", ".heif", ".avif", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SHADES = " .:-=+*#%@"


def parse_args(argv=None):
    p = cli.ArgumentParser(
        prog=PROG,
        description="Predict the digit, or the number, in each image with the network trained by "
                    "train.py. Images are converted to MNIST's conventions first (light ink on black, "
                    "20x20 box, centred by mass), so photos of handwriting, scans and drawings work; "
                    "several digits side by side are read as a number.",
        epilog="Without image paths it asks for one and prints 'Predicted digit' and 'Confidence'. "
               "With --serve it serves the drawing page, http://127.0.0.1:8000/, until Ctrl-C.",
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
                   help="one JSON object per image and line: path, digit, confidence, probabilities; "
                        "for a number: path, number and digits (each with its box); or path and error")
    p.add_argument("--why", action="store_true",
                   help="also say why each digit was read: its logit Z2 as the sum of what the pixels "
                        "add and a constant, and the 10 pixels that added most (with --json: \"why\")")
    p.add_argument("--serve", action="store_true",
                   help="instead of reading files, serve a web page to draw digits on and watch "
                        "the network answer as you draw")
    cli.add_page_options(p, "--serve", 8000)
    args = p.parse_args(argv)
    if args.top > 10:
        p.error(f"argument --top: at most 10 digits exist, got {args.top}")
    cli.check_page_options(p, args, "--serve", "drawing page", 8000)
    if args.json and args.show:
        p.error("argument --show: --json prints JSON only; leave out one of --show and --json")
    if args.serve and (args.images or args.json or args.show or args.top > 1 or args.why):
        p.error("argument --serve: the page takes its images from the browser (and always shows why); "
                "leave out IMAGE, --json, --show, --top and --why")
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


def hidden_layer(params, digit_image):
    """A1, the 128 hidden activations, for a 28x28 image in [0, 1]."""
    X = digit_image.reshape(784, 1).astype(params["W1"].dtype)
    return network.forward_prop(params, X)[1][:, 0]


def page_answer(params, image_bytes, raw=False, max_pixels=preprocess.MAX_PIXELS):
    """What the drawing page shows for an image sent as bytes: for its first digit, the digit,
    its confidence and the 10 probabilities, as predict_image.py answers for the same image, the
    28x28 input and its hidden activations A1; the number the digits read, the confidence of that
    reading (the product of the digits'), and the same for each digit under "digits", with why
    (for each digit d: the contributions x_i T[d, i] of the 784 pixels of the input to its logit,
    the template T[d], their sum and the constant c[d]).
    """
    digits, reading = [], 1.0
    for digit_image, box, A2 in reader.digits_in(params, io.BytesIO(image_bytes), raw, "sent image", max_pixels):
        A1 = hidden_layer(params, digit_image)
        digit = int(A2.argmax())
        reading *= float(A2[digit])
        C, c, T = reader.contributions(params, digit_image)
        digits.append({"digit": digit, "confidence": round(float(A2[digit]), 6),
                       "probabilities": reader.rounded(A2, 6), "input": reader.rounded(digit_image.ravel(), 3),
                       "hidden": reader.rounded(A1, 4), "box": list(box),
                       "why": {"contributions": np.round(C.astype(np.float64), 3).tolist(),
                               "templates": np.round(T.astype(np.float64), 3).tolist(),
                               "from_pixels": reader.rounded(C.sum(axis=1, dtype=np.float64), 4),
                               "constants": reader.rounded(c, 4)}})
    first = {key: value for key, value in digits[0].items() if key != "why"}  # "why" only once, in digits
    return {**first, "number": "".join(str(d["digit"]) for d in digits),
            "number_confidence": round(reading, 6), "digits": digits}


def render(digit_image):
    """The 28x28 image as 28 lines of text, darker characters for more ink."""
    levels = np.minimum((digit_image * len(SHADES)).astype(int), len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def top_k_text(probabilities, k):
    """'5: 0.9876, 3: 0.0100, ...' for the k most probable digits."""
    order = np.argsort(probabilities)[::-1][:k]
    return ", ".join(f"{d}: {probabilities[d]:.4f}" for d in order)


def ask_for_path():
    """The path typed at the prompt, as `typed_path` reads it; "" at Ctrl-D, or when the script
    was started with no input to read (pythonw, a scheduler, `<&-`)."""
    if sys.stdin is None:
        return ""
    try:
        text = input("Image path: ")
    except EOFError:
        print()
        return ""
    return typed_path(text)


def typed_path(text):
    """The file a typed or dropped path means: quotes, shell escapes, file:// URLs and ~ undone.

    Dropping a file on a terminal types its path quoted ('my digit.png'), with
    backslash-escaped spaces (my\\ digit.png) or as a file:// URL, depending on the terminal.
    On Windows a backslash separates folders, and file:///C:/x.png is C:\\x.png.
    """
    text = text.strip()
    if text[:1] in "'\"" and text[-1:] == text[:1] and len(text) > 1:
        text = text[1:-1]
    elif text.startswith("file://"):
        from urllib.request import url2pathname  # here: it brings in http.client and ssl, 25 ms
        text = url2pathname(urlsplit(text).path)
    elif "\\" in text and os.sep == "/" and not os.path.exists(text):
        text = re.sub(r"\\(.)", r"\1", text)
    return os.path.expanduser(text)


def result_text(path, results, args, prompted, params):
    """What to print for one classified image, in the form the options ask for; results holds
    (28x28 input, box, probabilities) for each digit found, left to right.
    """
    if args.json:
        return json.dumps({"path": path, **reader.answer(results, params if args.why else None)},
                          allow_nan=False)
    text = (number_text if len(results) > 1 else digit_text)(path, results, args, prompted)
    if args.why:
        text += "".join(f"\n{why_text(reader.why(params, image, int(p.argmax())), k if len(results) > 1 else None)}"
                        for k, (image, _, p) in enumerate(results, 1))
    return text


def why_text(why, k=None):
    """'why 7: Z2[7] = 13.25 = 12.55 from the pixels + 0.71 constant; pushed most by ...' (for digit
    k of a number: 'digit k why 7: ...')."""
    d = why["digit"]
    pushed = ", ".join(f"({row}, {column}) {value:+.2f}" for row, column, value in why["pushed_most"])
    c = why["constant"]
    return (f"{f'digit {k} ' if k else ''}why {d}: Z2[{d}] = {why['logit']:.2f} = {why['from_pixels']:.2f} "
            f"from the pixels {'-' if c < 0 else '+'} {abs(c):.2f} constant; pushed most by the pixels at "
            f"(row, column) {pushed}")


def digit_text(path, results, args, prompted):
    """What to print for an image holding one digit."""
    digit_image, _, probabilities = results[0]
    digit = int(probabilities.argmax())
    confidence = float(probabilities[digit])
    lines = [render(digit_image)] if args.show else []
    top = top_k_text(probabilities, args.top) if args.top > 1 else None
    if prompted:
        lines += [f"Predicted digit: {digit}", f"Confidence: {confidence:.4f}"]
        lines += [f"Top {args.top}: {top}"] if top else []
    else:
        lines.append(f"{cli.printable(path)}: {digit} (confidence {confidence:.4f})"
                     + (f"  top {args.top}: {top}" if top else ""))
    return "\n".join(lines)


def number_text(path, results, args, prompted):
    """What to print for an image holding several digits: the number, then each digit (as text)."""
    digits = [int(p.argmax()) for _, _, p in results]
    number = "".join(map(str, digits))
    lines = []
    for k, (digit_image, box, _) in enumerate(results, 1):
        lines += [f"Digit {k}, found at left {box[0]}, top {box[1]}, right {box[2]}, bottom {box[3]}:",
                  render(digit_image)] if args.show else []
    tops = [f"top {args.top}: {top_k_text(p, args.top)}" if args.top > 1 else "" for _, _, p in results]
    if prompted:
        lines.append(f"Predicted number: {number}")
        lines += [f"Digit {k}: {d} (confidence {p[d]:.4f})" + (f"  {top}" if top else "")
                  for k, (d, (_, _, p), top) in enumerate(zip(digits, results, tops), 1)]
    else:
        confidences = ", ".join(f"{p[d]:.4f}" for d, (_, _, p) in zip(digits, results))
        lines.append(f"{cli.printable(path)}: number {number} (confidence {confidences})"
                     + "".join(f"  digit {k} {top}" for k, top in enumerate(tops, 1) if top))
    return "\n".join(lines)


def serve(args, params, meta):
    """Run the drawing page's server until Ctrl-C (or SIGTERM)."""
    stopped_by = []
    cli.stop_on_signals(stopped_by)  # from here on, Ctrl-C stops the server once its connections are closed
    from digits import web_server

    answer = functools.partial(page_answer, params, raw=args.raw, max_pixels=web_server.MAX_PIXELS)
    accuracy = meta.get("test_accuracy")
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 <= accuracy <= 1:
        accuracy = None  # a model from elsewhere may say anything in its meta
    info = {"model": args.model, "hidden": params["W1"].shape[0], "raw": args.raw, "test_accuracy": accuracy}
    server = web_server.make_server(args.host, args.port, web_server.drawing_page(answer, info))
    try:
        print(cli.page_address("Drawing page", args.host, server.server_address[1]), flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        server.serve_forever(stopped_by)
    finally:
        server.server_close()
    print("Stopped.")
    return 0


def main(argv=None):
    args = parse_args(argv)
    params, meta = load_model(args.model)
    if args.serve:
        return serve(args, params, meta)
    prompted = not args.images
    if prompted:
        path = ask_for_path()
        if not path:
            raise cli.InputError(f"no image path given; name one after the script: python {PROG} digit.png")
        args.images = [path]
        prompted = not os.path.isdir(path)  # a folder gets one line per image, with its path

    failures = 0
    for path, error in expand_paths(args.images):
        if error is None:
            try:
                results = reader.digits_in(params, path, args.raw)
            except cli.InputError as e:
                error = str(e)
            except Exception as e:  # a fault of ours that this image brings out: the others are still read
                error = f"{path}: could not be read, a fault of {PROG} ({type(e).__name__}: {e}); please report it"
        if error is None:
            print(result_text(path, results, args, prompted, params), flush=True)
        else:
            failures += 1
            if args.json:
                print(json.dumps({"path": path, "error": error}), flush=True)
            print(f"{PROG}: error: {cli.printable(error)}", file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run_main(PROG, main)
