"""Reading digits and numbers from Python, with the answers predict_image.py --json prints:

    from digits import reader
    model = reader.load("model_mnist.npz")
    answer = reader.read(model, "photo.jpg")  # a path, a PIL image or a NumPy array
    print(answer.get("number", answer.get("digit")), answer.get("number_confidence"))

One digit answers {"digit", "confidence", "probabilities"}; several answer {"number",
"number_confidence", "digits"}, each digit with its "box" in the image's pixels. The model is
read once and can answer any number of images. predict_image.py and the drawing page read
images through these functions too.
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


def answer(digits):
    """The answer predict_image.py --json prints (without "path") for digits_in's result."""
    if len(digits) == 1:
        p = digits[0][2]
        digit = int(p.argmax())
        return {"digit": digit, "confidence": round(float(p[digit]), 6), "probabilities": rounded(p, 6)}
    read = [int(p.argmax()) for _, _, p in digits]
    return {"number": "".join(map(str, read)),
            "number_confidence": round(float(np.prod([p[d] for d, (_, _, p) in zip(read, digits)])), 6),
            "digits": [{"digit": d, "confidence": round(float(p[d]), 6), "probabilities": rounded(p, 6),
                        "box": list(box)} for d, (_, box, p) in zip(read, digits)]}


def read(params, source, raw=False):
    """The answer for the image in `source` (a path, a PIL image or a NumPy array)."""
    return answer(digits_in(params, source, raw))


def rounded(values, places):
    """Plain Python floats rounded to `places` decimals, for short JSON."""
    return [round(float(v), places) for v in values]
