"""Reading digits and numbers from Python, with the answers predict_image.py --json prints:

    from digits import reader
    model = reader.load("model_mnist.npz")
    answer = reader.read(model, "photo.jpg")  # a path, a PIL image or a NumPy array
    print(answer.get("number", answer.get("digit")), answer.get("number_confidence"))

One digit answers {"digit", "confidence", "probabilities"}; several answer {"number",
"number_confidence", "digits"}, each digit with its "box" in the image's pixels. The model is
read once and can answer any number of images. why() says why the network reads what it does
in one 28x28 input (predict_image.py --why). predict_image.py and the drawing page read images
through these functions too.
"""

import functools

import numpy as np
from PIL import Image

import network
from digits import preprocess
from digits.cli import InputError
from digits.model_file import load_model


def load(path="model_mnist.npz"):
    """The parameters W1 b1 W2 b2 of a model file written by train.py (InputError if unusable)."""
    return load_model(path)[0]


def probabilities(params, inputs):
    """The network's probabilities (n, 10) for n 28x28 images in [0, 1], in one matrix product."""
    X = inputs.reshape(len(inputs), -1).T.astype(params["W1"].dtype)
    return network.forward_prop(params, X)[3].T


def as_image(source, name, max_pixels):
    """A PIL image from a path, a binary file, a PIL image or a NumPy array (height x width gray,
    or x 3 / x 4 colour; whole numbers 0-255 or floats 0-1)."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] not in (3, 4)) or source.size == 0:
            raise InputError(f"{name}: an image array is height x width, or height x width x 3 or 4; "
                             f"got shape {source.shape}")
        pixels = source * 255 if source.dtype.kind == "f" else source
        return Image.fromarray(np.clip(np.nan_to_num(pixels), 0, 255).astype(np.uint8))
    return preprocess.load_image(source, name, max_pixels)


def digits_in(params, source, raw=False, name=None, max_pixels=preprocess.MAX_PIXELS):
    """[(28x28 input the network sees, box, probabilities)] for each digit in the image, left to
    right; box = (left, top, right, bottom) in the image's pixels. A line of several digits is
    cut where the network reads digits best; `raw` only resizes, as the original did.
    Errors name the image as `name` (default: the path, or "image").
    """
    name = (source if isinstance(source, str) else "image") if name is None else name
    image = as_image(source, name, max_pixels)
    read = functools.partial(probabilities, params)
    if raw:
        scale = image.info.get("decoded scale", 1)  # the box is in the file's pixels, as to_digits' are
        try:
            digit = preprocess.to_raw(image)
        except ValueError as e:
            raise InputError(f"{name}: --raw cannot convert this image to grayscale ({e})") from None
        return [(digit, (0, 0, *(round(v * scale) for v in image.size)), read(digit[None])[0])]
    return preprocess.to_digits(image, name, read)


def answer(digits, params=None):
    """The answer predict_image.py --json prints (without "path") for digits_in's result; with
    `params`, each digit also says why (see why()).
    """
    def one(image, box, p):
        digit = int(p.argmax())
        return {"digit": digit, "confidence": round(float(p[digit]), 6), "probabilities": rounded(p, 6),
                **({"box": list(box)} if len(digits) > 1 else {}),
                **({"why": why(params, image, digit)} if params is not None else {})}

    read = [one(*digit) for digit in digits]
    if len(read) == 1:
        return read[0]
    confidence = np.prod([p[d["digit"]] for d, (_, _, p) in zip(read, digits)])  # the product of the digits'
    return {"number": "".join(str(d["digit"]) for d in read), "number_confidence": round(float(confidence), 6),
            "digits": read}


def contributions(params, digit_image):
    """(C, c, T) for one 28x28 input x: C[d, i] = x_i T[d, i], what pixel i adds to the logit of
    digit d, and the constants c, so that Z2[d] = sum_i C[d, i] + c[d] (network.explain)."""
    x = digit_image.reshape(784, 1).astype(params["W1"].dtype)
    T, c = network.explain(params, x)
    return T * x.T, c[:, 0], T


def why(params, digit_image, digit, pushed=10):
    """Why the network reads `digit` (the digit answered) in a 28x28 input: its logit Z2[d], the
    part of it from the pixels (sum_i x_i T[d, i]) and from the constant c[d], and the `pushed`
    pixels that added most to it, as [row, column, contribution].
    """
    C, c, _ = contributions(params, digit_image)
    pixels = C.sum(axis=1, dtype=np.float64)
    most = np.argsort(-C[digit], kind="stable")[:pushed]
    return {"digit": digit, "logit": round(float(pixels[digit] + c[digit]), 4),
            "from_pixels": round(float(pixels[digit]), 4), "constant": round(float(c[digit]), 4),
            "pushed_most": [[int(i) // 28, int(i) % 28, round(float(C[digit, i]), 4)] for i in most]}


def read(params, source, raw=False):
    """The answer for the image in `source` (a path, a PIL image or a NumPy array)."""
    return answer(digits_in(params, source, raw))


def rounded(values, places):
    """Plain Python floats rounded to `places` decimals, for short JSON."""
    return [round(float(v), places) for v in values]
