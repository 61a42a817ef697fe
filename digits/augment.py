"""Random distortions of training digits, a new one for every image in every epoch (--augment).

A digit stays the same digit when it is turned a little, slanted, written larger or
smaller, moved, or written with a thinner or thicker pen. Training on such distorted
copies tells the network so, without a single new label. The functions work on
whole batches of images at once; none loops over images.

Each distortion D is a linear map (rotation, slant, zoom) about the image centre
c = (13.5, 13.5) followed by a shift s. To draw the distorted image, every output
pixel p = (row, col) is traced back to where it came from in the original,

    q = A (p - c - s) + c,      A = D^-1,

and the original is read there by bilinear interpolation: the four pixels around q,
weighted by how close q is to each. Positions outside the image read 0 (background).
"""

import queue
import threading

import numpy as np

SIZE = 28
PADDED = SIZE + 2  # a frame of zeros around each image: what lies outside reads as background
CENTRE = (SIZE - 1) / 2
RANGES = {  # of the random distortions of --augment
    "rotation": 15.0,  # degrees, either way
    "zoom": (0.8, 1.15),  # factor on the digit's size
    "shear": 0.3,  # slant: a pixel moves sideways by up to 0.3 x its height above or below the centre
    "shift": 2.0,  # pixels, in each direction
    "pen": (1 / 3, 1 / 3),  # shares of the images drawn with a thinner and with a thicker pen
}
THINNEST = 0.5  # a thinner pen may take away at most half of a digit's ink
CHUNK = 256  # images distorted together: their arrays stay in the processor's cache
ROW_STEP = np.array([[PADDED, 1]], np.float32)  # (row, col) -> index in a row-after-row padded image
PIXELS = np.indices((SIZE, SIZE), dtype=np.float32).reshape(2, SIZE * SIZE)  # p: (row, col) of each pixel


def random_distortions(n, rng, rotation, zoom, shear, shift, pen):
    """(A, offset, pen) for n random distortions: q = A p + offset for every pixel p, and the pen
    of each image (0 thinner, 1 as written, 2 thicker).

    D = R(angle) H(shear) zoom, so A = D^-1 = (1/zoom) H(-shear) R(-angle); in (row, col)
    coordinates R(-angle) = [[cos, -sin], [sin, cos]] and H(-shear) = [[1, 0], [-shear, 1]].
    The offset gathers the constant terms: q = A p + (c - A (c + s)).
    """
    angle = np.radians(rng.uniform(-rotation, rotation, n))
    zoom = rng.uniform(*zoom, n)
    shear = rng.uniform(-shear, shear, n)
    shift = rng.uniform(-shift, shift, (n, 2))
    draw = rng.random(n)
    chosen = np.where(draw < pen[0], 0, np.where(draw >= 1 - pen[1], 2, 1))
    cos, sin = np.cos(angle), np.sin(angle)
    A = np.empty((n, 2, 2))
    A[:, 0, 0], A[:, 0, 1] = cos, -sin
    A[:, 1, 0], A[:, 1, 1] = sin - shear * cos, cos + shear * sin
    A /= zoom[:, None, None]
    offset = CENTRE - A @ (CENTRE + shift)[:, :, None]
    return A.astype(np.float32), offset.astype(np.float32), chosen


def pens(images):
    """(3, n, 900) uint8: each image drawn thinner (2x2 minimum, unless that leaves less than
    THINNEST of its ink), as written, and thicker (2x2 maximum), as 30x30 images in a frame of
    zeros, row after row.

    In a row-after-row 30x30 image the pixels left of, above, and above-left of pixel k
    are k - 1, k - 30 and k - 31, so a 2x2 window is four shifted copies of the image.
    """
    n = len(images)
    out = np.zeros((3, n, PADDED, PADDED), np.uint8)
    out[1, :, 1:-1, 1:-1] = images.reshape(n, SIZE, SIZE)
    out = out.reshape(3, n, PADDED * PADDED)
    k = PADDED + 1
    here, left, above, above_left = out[1, :, k:], out[1, :, k - 1:-1], out[1, :, 1:-k + 1], out[1, :, :-k]
    np.minimum(np.minimum(here, left), np.minimum(above, above_left), out=out[0, :, k:])
    np.maximum(np.maximum(here, left), np.maximum(above, above_left), out=out[2, :, k:])
    too_thin = out[0].sum(axis=1, dtype=np.int32) < THINNEST * out[1].sum(axis=1, dtype=np.int32)
    out[0, too_thin] = out[1, too_thin]  # strokes already thin stay as written
    return out


def bilinear(source, q, first):
    """source (flat, 30x30 images) read at positions q (n, 2, 784) of images first[i]; (n, 784) floats."""
    q += 1  # into the padded frame
    np.clip(q, 0, SIZE + 0.999, out=q)
    top_left = np.floor(q)
    q -= top_left  # what is left are the weights of the lower and of the right neighbours
    index = (ROW_STEP @ top_left)[:, 0]  # row * 30 + col
    index += first[:, None]
    index = index.astype(np.intp)
    row_weight, col_weight = q[:, 0], q[:, 1]
    upper = lerp(np.take(source, index), np.take(source, index + 1), col_weight)
    index += PADDED
    lower = lerp(np.take(source, index), np.take(source, index + 1), col_weight)
    return lerp(upper, lower, row_weight)


def lerp(a, b, weight):
    """a + weight (b - a), elementwise, as float32."""
    out = np.subtract(b, a, dtype=np.float32)
    out *= weight
    out += a
    return out


def distort(images, rng, ranges=RANGES):
    """images (n, 784) uint8 -> (784, n) float32 in [0, 1]: each image freshly distorted within
    `ranges` (see RANGES), one per column (X's layout), computed CHUNK images at a time.
    """
    n = len(images)
    X = np.empty((n, SIZE * SIZE), np.float32)
    A, offset, pen = random_distortions(n, rng, **ranges)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        k = len(X[part])
        q = A[part] @ PIXELS
        q += offset[part]
        first = (pen[part] * k + np.arange(k)) * PADDED**2
        X[part] = bilinear(pens(images[part]).ravel(), q, first)
    X *= np.float32(1 / 255)
    return X.T


def distorted_batches(images, rng, ahead=4):
    """A function from an epoch's batches (column index sets) to an iterator over their distorted
    inputs Xb, made in a second thread up to `ahead` batches in advance.

    The random numbers are drawn in batch order, so the result does not depend on timing.
    """
    def inputs(epoch_batches):
        made = queue.Queue(maxsize=ahead)
        cancelled = threading.Event()

        def make():
            for columns in epoch_batches:
                if cancelled.is_set():
                    return
                made.put(distort(images[columns], rng))

        worker = threading.Thread(target=make, daemon=True)
        worker.start()
        try:
            for _ in epoch_batches:
                yield made.get()
        finally:  # also when training stops in the middle of the epoch
            cancelled.set()
            while worker.is_alive():
                try:
                    made.get(timeout=0.01)
                except queue.Empty:
                    pass

    return inputs
