"""Photos of handwritten digits and numbers on notebook paper (tests/photos.py), read by predict_image.py.

The floors are per family of photos, for a model trained with the augmented recipe that
the README recommends for reading handwriting (30 epochs). They sit about three standard
deviations of a sample this small below what larger sets measure (README: Photos and numbers),
so that they catch a step that breaks, not the luck of 90 photos.
"""

import collections
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import photos
from conftest import ROOT, run_script

PER_GROUP = 15  # photos of each family (plain, ruled, squared) and kind (one digit, a number)
FLOORS = {"plain single": 0.85, "lined single": 0.8, "number": 0.7}  # measured: see the README


@pytest.fixture(scope="module")
def photos_and_model(tmp_path_factory, mnist):
    """(folder of photos, augmented model): PER_GROUP photos of each family and kind, named
    <family>_<kind>_<k>_<label>.jpg, made here while train.py trains the model beside them.
    """
    model_folder, folder = tmp_path_factory.mktemp("augmented"), tmp_path_factory.mktemp("photos")
    training = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--batch-size", "128", "--lr", "0.1", "--momentum", "0.9",
         "--epochs", "30", "--augment", "--schedule", "cosine", "--quiet"],
        cwd=model_folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        images, labels = mnist["test"]
        rng = np.random.default_rng(2026)
        for family in photos.FAMILIES:
            for kind in ("single", "number"):
                for k in range(PER_GROUP):
                    count = 1 if kind == "single" else int(rng.integers(2, 7))
                    data, label = photos.make_photo(rng, images.reshape(-1, 28, 28), labels, family, count)
                    (folder / f"{family}_{kind}_{k:02d}_{label}.jpg").write_bytes(data)
        _, err = training.communicate(timeout=600)
    finally:
        if training.poll() is None:
            training.kill()
            training.communicate()
    assert training.returncode == 0, err
    return folder, model_folder / "model_mnist.npz"


def test_photos_of_digits_and_numbers_on_paper_are_read(photos_and_model):
    photo_folder, augmented_model = photos_and_model
    result = run_script("predict_image.py", "--json", "--model", augmented_model, photo_folder, cwd=photo_folder)
    right = collections.Counter()
    seen = collections.Counter()
    for line in result.stdout.splitlines():
        answer = json.loads(line)
        family, kind, _, label = answer["path"].rsplit("/", 1)[1][:-4].split("_")
        group = "number" if kind == "number" else "plain single" if family == "plain" else "lined single"
        read = answer.get("number", str(answer.get("digit", "")))
        right[group] += read == label
        seen[group] += 1
    accuracy = {group: right[group] / seen[group] for group in seen}
    print("photos read right:", {g: f"{right[g]}/{seen[g]}" for g in seen})
    assert sum(seen.values()) == 6 * PER_GROUP
    for group, floor in FLOORS.items():
        assert accuracy[group] >= floor, (group, accuracy)
