"""The MNIST loader: the bundled files, other folders, OpenML's split, and every kind of bad file."""

import gzip
import hashlib
import os
import re
import shutil

import numpy as np
import pytest

from digits import mnist_data
from digits.cli import InputError
from conftest import assert_clean_error, run_script, write_idx


def official_md5s():
    """File name -> MD5 of the uncompressed file, from the table in data/mnist/README.md."""
    with open(os.path.join(mnist_data.BUNDLED_DIR, "README.md")) as f:
        return dict(re.findall(r"\| (\S+\.gz) \|[^|]*\| ([0-9a-f]{32}) \|", f.read()))


def test_bundled_files_match_the_official_checksums():
    md5s = official_md5s()
    assert len(md5s) == 4
    for name, md5 in md5s.items():
        with gzip.open(os.path.join(mnist_data.BUNDLED_DIR, name)) as f:
            assert hashlib.md5(f.read()).hexdigest() == md5, name


def test_bundled_split_shapes_types_and_labels(mnist):
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = mnist[split]
        assert images.shape == (n, 784) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert set(np.unique(labels)) == set(range(10))
        assert images.max() == 255 and images.min() == 0
    # the first training image is the famous 5, the first test image a 7
    assert mnist["train"][1][0] == 5 and mnist["test"][1][0] == 7


def test_folder_of_uncompressed_files_loads(small_idx_dir, mnist):
    data = mnist_data.load_mnist(data_dir=str(small_idx_dir))
    assert np.array_equal(data["train"][0], mnist["train"][0][:600])
    assert np.array_equal(data["test"][1], mnist["test"][1][:200])


def test_folder_with_dotted_names_and_mixed_compression(tmp_path, small_idx_dir):
    folder = tmp_path / "kaggle-style"
    folder.mkdir()
    for path in small_idx_dir.iterdir():
        name = path.name.replace("-idx", ".idx")
        if "images" in name:
            with open(path, "rb") as src, gzip.open(folder / (name + ".gz"), "wb") as dst:
                dst.write(src.read())
        else:
            shutil.copy(path, folder / name)
    data = mnist_data.load_mnist(data_dir=str(folder))
    assert data["train"][0].shape == (600, 784) and data["test"][0].shape == (200, 784)


def corrupt(folder, name, transform):
    path = folder / name
    path.write_bytes(transform(path.read_bytes()))
    return path


@pytest.mark.parametrize("name, transform, message", [
    ("train-images-idx3-ubyte", lambda b: b"\x00\x00\x08\x01" + b[4:], "bad magic number 0x00000801"),
    ("t10k-labels-idx1-ubyte", lambda b: b[:-10], "truncated"),
    ("train-images-idx3-ubyte", lambda b: b + b"\x00", "trailing bytes"),
    ("train-labels-idx1-ubyte", lambda b: b[:3], "too short"),
    ("t10k-labels-idx1-ubyte", lambda b: b[:8] + b"\x0c" + b[9:], "not a digit"),
])
def test_corrupt_file_is_named_with_its_problem(small_idx_dir, name, transform, message):
    corrupt(small_idx_dir, name, transform)
    with pytest.raises(InputError, match=message) as error:
        mnist_data.load_mnist(data_dir=str(small_idx_dir))
    assert name in str(error.value)


def test_count_mismatch(small_idx_dir, mnist):
    write_idx(small_idx_dir / "train-labels-idx1-ubyte", mnist["train"][1][:599])
    with pytest.raises(InputError, match="600 images but .*train-labels-idx1-ubyte has 599 labels"):
        mnist_data.load_mnist(data_dir=str(small_idx_dir))


def test_wrong_image_size(small_idx_dir):
    write_idx(small_idx_dir / "t10k-images-idx3-ubyte", np.zeros((200, 32, 32)))
    with pytest.raises(InputError, match="32x32, expected 28x28"):
        mnist_data.load_mnist(data_dir=str(small_idx_dir))


def test_missing_file(small_idx_dir):
    os.remove(small_idx_dir / "t10k-images-idx3-ubyte")
    with pytest.raises(InputError, match=r"t10k-images-idx3-ubyte\[\.gz\]: file not found"):
        mnist_data.load_mnist(data_dir=str(small_idx_dir))


@pytest.mark.parametrize("script, first, files", [
    ("train.py", "train-images", "train-images, train-labels, t10k-images and t10k-labels"),
    ("generate_test_set.py", "t10k-images", "t10k-images and t10k-labels")])  # it writes test images only
def test_a_data_folder_without_mnist_says_what_it_must_hold(tmp_path, script, first, files):
    empty = tmp_path / "downloads"
    empty.mkdir()
    result = run_script(script, "--data", empty, cwd=tmp_path)
    assert_clean_error(result, f"{first}-idx3-ubyte[.gz]: file not found",
                       f"--data {empty} must be the folder that holds MNIST's {files} IDX files")
    assert sorted(os.listdir(tmp_path)) == ["downloads"]


def test_the_bundled_copy_missing_a_file_says_how_to_go_on(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_data, "BUNDLED_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"train-images-idx3-ubyte\[\.gz\]: file not found; the project's copy "
                                         r"of MNIST in data/mnist/ is incomplete: .* --data DIR or --source openml"):
        mnist_data.load_mnist()


def test_corrupt_gzip(small_idx_dir):
    data = gzip.compress((small_idx_dir / "train-labels-idx1-ubyte").read_bytes())
    (small_idx_dir / "train-labels-idx1-ubyte").unlink()
    (small_idx_dir / "train-labels-idx1-ubyte.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match="train-labels-idx1-ubyte.gz: corrupt or truncated gzip"):
        mnist_data.load_mnist(data_dir=str(small_idx_dir))


def test_openml_rows_split_as_the_original():
    # 70,000 rows of 784 float64 pixels, as fetch_openml gives them, each row its own: a window
    # sliding along one short array (a full array of them, 440 MB, took most of this test's time)
    X = np.lib.stride_tricks.sliding_window_view(np.arange(70000 + 783, dtype=np.float64) % 256, 784)
    y = np.array([str(i % 10) for i in range(70000)], dtype=object)
    data = mnist_data.split_openml(X, y)
    assert data["train"][0].shape == (60000, 784) and data["test"][0].shape == (10000, 784)
    assert data["train"][0].dtype == np.uint8 and data["test"][1].dtype == np.int64
    assert np.array_equal(data["test"][0][0], X[60000].astype(np.uint8))
    assert data["train"][1][:3].tolist() == [0, 1, 2] and data["test"][1][0] == 0


def test_bundled_copy_matches_openml_order(mnist):
    """OpenML's mnist_784 row 0 is a 5 and row 60,000 a 7: the same split as the IDX files."""
    assert mnist["train"][1][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist["test"][1][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def offline_env(tmp_path):
    """An environment where any download fails at once and no OpenML cache exists."""
    env = dict(os.environ, SCIKIT_LEARN_DATA=str(tmp_path / "no-cache"))
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[var] = "http://127.0.0.1:9"  # the discard port: connection refused
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    return env


def test_openml_offline_fails_in_one_line(tmp_path):
    result = run_script("train.py", "--source", "openml", cwd=tmp_path, env=offline_env(tmp_path),
                        timeout=120)
    assert_clean_error(result, "--source openml", "bundled", "needs no network")
    assert not (tmp_path / "model_mnist.npz").exists()


def test_train_script_reports_a_corrupt_data_folder(tmp_path, small_idx_dir):
    corrupt(small_idx_dir, "train-images-idx3-ubyte", lambda b: b[:1000])
    result = run_script("train.py", "--data", small_idx_dir, cwd=tmp_path)
    assert_clean_error(result, "train-images-idx3-ubyte", "truncated")
