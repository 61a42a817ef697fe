"""The model file: an .npz with arrays W1 b1 W2 b2 and, optionally, a JSON string `meta`.

W1 (h, 784), b1 (h, 1), W2 (10, h), b2 (10, 1); h is 128 unless trained otherwise.
Files without `meta`, or with float64 arrays, load too. Nothing is ever unpickled.
"""

import io
import json
import zipfile

import numpy as np

from cli import InputError, write_atomically
from network import PARAM_NAMES


def save_model(path, params, meta):
    """Write params and meta (a JSON-serialisable dict) to `path`, atomically."""
    arrays = {name: params[name] for name in PARAM_NAMES}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, lambda f: f.write(buffer.getbuffer()))


def load_model(path):
    """(params, meta) from a model file; InputError naming the file if it is unusable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in PARAM_NAMES if name not in npz.files]
            if missing:
                raise InputError(f"model {path}: missing array(s) {', '.join(missing)}; "
                                 "expected W1 b1 W2 b2 (train one with train.py)")
            params = {name: npz[name] for name in PARAM_NAMES}
            meta = json.loads(str(npz["meta"])) if "meta" in npz.files else {}
    except FileNotFoundError:
        raise InputError(f"model {path}: file not found; train one with: python train.py") from None
    except IsADirectoryError:
        raise InputError(f"model {path}: is a folder, not a model file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        if "allow_pickle" in str(e):
            raise InputError(f"model {path}: contains pickled Python objects; "
                             "refusing to load them (a model holds only plain arrays)") from None
        raise InputError(f"model {path}: not a readable .npz model file ({e})") from None
    check_shapes(path, params)
    return params, meta


def check_shapes(path, params):
    """Raise InputError unless the four arrays are finite floats of consistent shapes."""
    h = params["W1"].shape[0] if params["W1"].ndim == 2 else -1
    expected = {"W1": (h, 784), "b1": (h, 1), "W2": (10, h), "b2": (10, 1)}
    for name in PARAM_NAMES:
        array = params[name]
        if array.shape != expected[name] or h < 1:
            raise InputError(f"model {path}: {name} has shape {array.shape}; a 784-h-10 network "
                             "has W1 (h, 784), b1 (h, 1), W2 (10, h), b2 (10, 1)")
        if array.dtype.kind != "f":
            raise InputError(f"model {path}: {name} holds {array.dtype}, expected floats")
        if not np.all(np.isfinite(array)):
            raise InputError(f"model {path}: {name} contains NaN or infinite values")
