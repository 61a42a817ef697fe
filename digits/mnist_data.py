"""MNIST as uint8 images (N, 784) and integer labels (N,), split 60,000 train / 10,000 test.

Sources: the IDX files bundled in data/mnist/ (the default, no network), any folder
holding the four IDX files (gzipped or not), or OpenML through scikit-learn.
"""

import gzip
import os
import warnings
import zlib

import numpy as np

from digits.cli import InputError

BUNDLED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "mnist")
SPLITS = {
    "train": ("train-images", "train-labels"),
    "test": ("t10k-images", "t10k-labels"),
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def find_idx_file(folder, stem, missing=""):
    """Path of `stem` in `folder`: NAME-idxK-ubyte or NAME.idxK-ubyte, optionally .gz; if there is
    none, an InputError naming it, followed by `missing` (what to do)."""
    kind = "idx3-ubyte" if stem.endswith("images") else "idx1-ubyte"
    for sep in "-.":
        for ext in ("", ".gz"):
            path = os.path.join(folder, f"{stem}{sep}{kind}{ext}")
            if os.path.isfile(path):
                return path
    raise InputError(f"{os.path.join(folder, stem + '-' + kind)}[.gz]: file not found{missing}")


def read_bytes(path):
    """Contents of `path`, gunzipped when it starts with the gzip signature."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return data


def parse_idx(data, path, magic):
    """The array in an IDX file: big-endian magic, dimension sizes, then uint8 values."""
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise InputError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise InputError(f"{path}: bad magic number 0x{found:08x}, expected 0x{magic:08x}")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise InputError(f"{path}: {problem}: {len(data)} bytes, header promises {expected}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def load_idx_split(folder, split, missing=""):
    """(images (N, 784) uint8, labels (N,) int64) of one split from a folder of IDX files
    (`missing`: what to do if one is not there, see find_idx_file)."""
    images_stem, labels_stem = SPLITS[split]
    images_path = find_idx_file(folder, images_stem, missing)
    labels_path = find_idx_file(folder, labels_stem, missing)
    images = parse_idx(read_bytes(images_path), images_path, IMAGES_MAGIC)
    labels = parse_idx(read_bytes(labels_path), labels_path, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise InputError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(images) != len(labels):
        raise InputError(f"{images_path}: {len(images)} images but {labels_path} has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise InputError(f"{labels_path}: label {labels.max()} is not a digit 0-9")
    return images.reshape(len(images), 784), labels.astype(np.int64)


def load_openml():
    """MNIST from OpenML (the original's source): rows 0-59,999 train, 60,000-69,999 test."""
    from sklearn.datasets import fetch_openml

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # retry notices; a failure is reported below
            X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False,
                                parser="auto", n_retries=1, delay=0.1)
    except Exception as e:  # noqa: BLE001 - any failure to download means the same to the user
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--source openml: cannot download MNIST from OpenML ({reason}); "
                         "the bundled copy (--source bundled, the default) needs no network") from None
    return split_openml(X, y)


def split_openml(X, y):
    """OpenML's 70,000 rows -> train (first 60,000) and test (last 10,000), uint8 and int64."""
    X = np.asarray(X, dtype=np.uint8)
    y = np.asarray(y).astype(np.int64)
    return {"train": (X[:60000], y[:60000]), "test": (X[60000:], y[60000:])}


def load_mnist(source="bundled", data_dir=None, splits=SPLITS):
    """{"train": (images, labels), "test": (images, labels)} from the chosen source, of `splits`
    (both by default; from openml, both always: it is one download).

    data_dir, when given, is a folder with the IDX files of those splits and overrides source.
    """
    if data_dir is not None:
        if not os.path.isdir(data_dir):
            raise InputError(f"--data {data_dir}: no such folder")
        stems = [stem for split in splits for stem in SPLITS[split]]
        files = ", ".join(stems[:-1]) + " and " + stems[-1]
        folder, missing = data_dir, f"; --data {data_dir} must be the folder that holds MNIST's {files} IDX files"
    elif source == "openml":
        return load_openml()
    else:
        folder, missing = BUNDLED_DIR, ("; the project's copy of MNIST in data/mnist/ is incomplete: restore it "
                                        "from the project's files, or give --data DIR or --source openml")
    return {split: load_idx_split(folder, split, missing) for split in splits}


def add_source_arguments(parser):
    """The --source and --data options that choose where MNIST comes from."""
    parser.add_argument("--source", choices=("bundled", "openml"), default=None,
                        help="bundled: the IDX files in data/mnist/, no network (default); "
                             "openml: download with scikit-learn's fetch_openml, as the original")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="read MNIST's IDX files (gzipped or not) from DIR instead")


def check_source_arguments(parser, args):
    """Reject --source together with --data; afterwards args.source names where data came from."""
    if args.data is not None and args.source is not None:
        parser.error("give either --source or --data, not both")
    if args.source is None:
        args.source = "bundled"
