"""The model file: an .npz with arrays W1 b1 W2 b2 and, optionally, a JSON string `meta`.

W1 (h, 784), b1 (h, 1), W2 (10, h), b2 (10, 1); h is 128 unless trained otherwise.
Files without `meta`, or with float64 arrays, load too. Nothing is ever unpickled, and
every array's shape is checked from its header before any of its data is read.
"""

import io
import json
import os
import shlex
import zipfile
import zlib

import numpy as np

from digits.cli import InputError, is_web_address, open_regular_file, write_atomically
from network import PARAM_NAMES

MAX_ARRAY_BYTES = 1 << 30  # arrays claiming more than this in all are refused unread
MAX_META_BYTES = 1 << 20
MAX_LOGIT = 1e30  # a model whose logits could exceed this is refused: far below float32's overflow
                  # (3.4e38), so every sum in the forward pass stays finite


def save_model(path, params, meta):
    """Write params and meta (a JSON-serialisable dict) to `path`, atomically."""
    arrays = {name: params[name] for name in PARAM_NAMES}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, lambda f: f.write(buffer.getbuffer()))


def load_model(path):
    """(params, meta) from a model file; InputError naming the file and its problem if it is unusable."""
    name = f"model {path}"
    if not os.path.lexists(path) and not is_web_address(path):  # a web address: open_regular_file says so
        model = "" if os.path.basename(str(path)) == "model_mnist.npz" else f" --model {shlex.quote(str(path))}"
        raise InputError(f"{name}: file not found; train one with: python train.py{model}"
                         + (" (with the options of its recipe in the README)" if model else ""))
    with open_regular_file(path, name) as f:
        if f.read(6) == b"\x93NUMPY":
            raise InputError(f"{name}: a single NumPy array (.npy), not an .npz model holding "
                             "W1 b1 W2 b2 (train one with train.py)")
        try:
            with zipfile.ZipFile(f) as archive:
                return read_model(archive, name)
        except zipfile.BadZipFile:
            raise InputError(f"{name}: not a readable .npz model file (not a zip archive); "
                             "train one with train.py") from None
        except (ValueError, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as e:
            raise InputError(f"{name}: not a readable .npz model file ({e})") from None


def read_model(archive, name):
    """(params, meta) from an open .npz archive: headers checked first, then the data read."""
    members = set(archive.namelist())
    missing = [p for p in PARAM_NAMES if p + ".npy" not in members]
    if missing:
        raise InputError(f"{name}: missing array(s) {', '.join(missing)}; "
                         "expected W1 b1 W2 b2 (train one with train.py)")
    headers = {p: array_header(archive, p, name) for p in PARAM_NAMES}
    for p, (shape, dtype) in headers.items():
        if dtype.hasobject:
            raise InputError(f"{name}: {p} contains pickled Python objects; "
                             "refusing to load them (a model holds only plain arrays)")
        if dtype.kind != "f":
            raise InputError(f"{name}: {p} holds {dtype}, expected floats")
    check_shapes(name, {p: shape for p, (shape, _) in headers.items()})
    claimed = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in headers.values())
    if claimed > MAX_ARRAY_BYTES:
        raise InputError(f"{name}: its arrays claim {claimed / 2**30:.1f} GiB, "
                         f"more than a model of this network can need ({MAX_ARRAY_BYTES / 2**30:.0f} GiB)")
    params = {p: read_array(archive, p) for p in PARAM_NAMES}
    for p, array in params.items():
        if not np.all(np.isfinite(array)):
            raise InputError(f"{name}: {p} contains NaN or infinite values")
    bound = largest_logit(params)
    if not bound <= MAX_LOGIT:
        raise InputError(f"{name}: its weights are so large that its outputs can overflow (logits up to "
                         f"{bound:.1e} for inputs in [0, 1], at most {MAX_LOGIT:.0e} is usable); "
                         "train one with train.py")
    return params, read_meta(archive, name) if "meta.npy" in members else {}


def largest_logit(params):
    """The largest |Z2| the network can produce for an input in [0, 1]^784, by the triangle
    inequality layer by layer (in float64): |Z1| <= |W1| 1 + |b1|, |Z2| <= |W2| |Z1| + |b2|.
    """
    with np.errstate(over="ignore"):
        Z1 = np.abs(params["W1"]).astype(np.float64).sum(axis=1, keepdims=True) + np.abs(params["b1"])
        return float((np.abs(params["W2"]).astype(np.float64) @ Z1 + np.abs(params["b2"])).max())


def array_header(archive, array_name, name):
    """(shape, dtype) of an array in the archive, read from its .npy header alone."""
    info = archive.getinfo(array_name + ".npy")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(member)
        except ValueError:
            raise InputError(f"{name}: {array_name} is not a NumPy array") from None
    if int(np.prod(shape)) * dtype.itemsize > info.file_size:
        raise InputError(f"{name}: {array_name} claims shape {shape} but holds only "
                         f"{info.file_size:,} bytes")
    return shape, dtype


def read_array(archive, array_name):
    """The array stored as `array_name`.npy, never unpickling anything."""
    with archive.open(array_name + ".npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def read_meta(archive, name):
    """The dict stored as the JSON string `meta`."""
    shape, dtype = array_header(archive, "meta", name)
    if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_META_BYTES:
        raise InputError(f"{name}: meta is not a JSON string (a {dtype} array of shape {shape})")
    try:
        meta = json.loads(str(read_array(archive, "meta")))
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: meta is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{name}: meta is JSON but not an object ({type(meta).__name__})")
    return meta


def check_shapes(name, shapes):
    """Raise InputError unless the four shapes are those of a 784-h-10 network."""
    h = shapes["W1"][0] if len(shapes["W1"]) == 2 else -1
    expected = {"W1": (h, 784), "b1": (h, 1), "W2": (10, h), "b2": (10, 1)}
    for p in PARAM_NAMES:
        if tuple(shapes[p]) != expected[p] or h < 1:
            raise InputError(f"{name}: {p} has shape {tuple(shapes[p])}; a 784-h-10 network "
                             "has W1 (h, 784), b1 (h, 1), W2 (10, h), b2 (10, 1)")
