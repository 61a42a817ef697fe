"""Shared test helpers: run the real scripts as a user would, and write IDX files."""

import gzip
import http.client
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# The modules that take longest (13 to 75 s each in a run on 2 cores, `pytest --durations=0`), longest
# first. pytest.ini gives each module to one worker, in the order of collection: handed out first,
# they leave the short modules to even out the two workers' ends.
SLOWEST_MODULES = ["test_readme.py", "test_draw_page.py", "test_predict_cli.py", "test_predict_numbers.py",
                   "test_bench.py", "test_photos.py", "test_draw_server.py", "test_watch.py", "test_train_cli.py",
                   "test_generate_test_set.py"]


def pytest_collection_modifyitems(items):
    """Collect the slowest modules first (SLOWEST_MODULES), the others after them as they were."""
    rank = {name: k for k, name in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def run_script(script, *args, cwd, input=None, timeout=300, env=None):
    """Run `python ROOT/script args...` (or an absolute script path) in `cwd`; return the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)],
                          cwd=cwd, input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


def assert_clean_error(result, *words):
    """A failed run: non-zero exit, one line on stderr containing `words`, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def heic_photo(image, heic):
    """Save the image file `image` as a phone saves a HEIC photo: its pixels as the sensor lay (a
    quarter turn from upright) and the way the phone was held (EXIF orientation 6: turn them back)."""
    import pillow_heif
    pillow_heif.register_heif_opener()
    held = Image.Exif()
    held[0x0112] = 6
    Image.open(image).transpose(Image.Transpose.ROTATE_90).save(heic, "HEIF", exif=held.tobytes(), quality=80)


def request(server, method, path, body=None, headers=None, timeout=30):
    """(status, Content-Type, body) of one HTTP request to server = (host, port), on a new connection."""
    connection = http.client.HTTPConnection(*server, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def write_idx(path, array, compress=False):
    """Write a uint8 array as an IDX file (magic 0x0000080N, big-endian sizes)."""
    array = np.ascontiguousarray(array, np.uint8)
    header = (0x800 + array.ndim).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="session")
def mnist():
    from digits import mnist_data
    return mnist_data.load_mnist()


@pytest.fixture
def small_idx_dir(tmp_path, mnist):
    """A folder with a small MNIST in IDX form: 600 train and 200 test images, uncompressed."""
    folder = tmp_path / "small-mnist"
    folder.mkdir()
    for split, prefix, n in (("train", "train", 600), ("test", "t10k", 200)):
        images, labels = mnist[split]
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images[:n].reshape(n, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels[:n])
    return folder


def pytest_sessionstart(session):
    """With pytest-xdist's workers (pytest.ini: -n 2), the tests' model is trained here, before
    they start (see trained_model): with both cores free its 2 BLAS threads take 2 to 3 s, where
    in a worker, spinning beside the other worker's tests, they took 5 to 9 s."""
    config = session.config
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        folder = config._tmp_path_factory.getbasetemp() / "model"  # each worker's folder is beside it
        folder.mkdir()
        train_tests_model(folder)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """A model trained by train.py with the fast recipe cut to 4 epochs (about 97.5% test accuracy),
    with 2 BLAS threads however busy the machine is: the weights differ in their last bits with
    the threads, and so may the reading of an ambiguous drawing. Trained once a run, before
    pytest-xdist's workers start (pytest_sessionstart), or by the one process without them."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        return tmp_path_factory.getbasetemp().parent / "model" / "model_mnist.npz"
    return train_tests_model(tmp_path_factory.mktemp("model"))


def train_tests_model(folder):
    """The path of the model train.py writes in `folder` (see trained_model)."""
    result = run_script("train.py", "--batch-size", "128", "--lr", "0.1", "--momentum", "0.9",
                        "--epochs", "4", "--threads", "2", "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "model_mnist.npz"
