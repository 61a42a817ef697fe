"""Draw docs/cuts.png: a 7 touching a 3, cut into digits by recognition.

    python docs/draw_cuts.py --model model_mnist.npz

Top: the drawing with the ways to cut it that preprocess.cut_paths finds (the chosen one in
red). Below: every candidate digit the cuts make, as the network sees it, with what it reads,
its score, and the candidates of the best reading framed.
"""

import functools
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import browser  # noqa: E402
from digits import cli, preprocess, reader  # noqa: E402
from digits.model_file import load_model  # noqa: E402


def main():
    p = cli.ArgumentParser(prog="docs/draw_cuts.py", description="Draw a touching pair of digits cut by recognition.")
    p.add_argument("--model", default="model_mnist.npz", help="model to read the digits (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "cuts.png"),
                   help="where to write the figure (default: %(default)s)")
    args = p.parse_args()
    cli.check_output_path("--out", args.out, "cuts.png")
    params, _ = load_model(args.model)
    read = functools.partial(reader.probabilities, params)

    image = browser.drawing(browser.NUMBERS["73"]())
    ink, computer = preprocess.ink_of(preprocess.to_gray(image))
    labels, groups, height = preprocess.marks_in_line(preprocess.ink_mask(ink, paper=not computer))
    mask, marks, scale, (top, left) = preprocess.line_image(ink, labels, groups, height)
    height *= scale
    pieces, crossings = preprocess.line_pieces(mask, marks, height)
    spans, inputs, _, steady, chosen = preprocess.cut_by_recognition(pieces, crossings, height, read)
    own = marks == 1
    cols = np.flatnonzero(own.any(axis=0))
    paths = preprocess.cut_paths(own[:, cols[0]:cols[-1] + 1], height)
    # the first piece after each chosen cut: where a chosen candidate starts or ends (a link left out has both)
    cut_at = {spans[k][0] for k in chosen[1:]} | {spans[k][1] + 1 for k in chosen[:-1]}

    fig = plt.figure(figsize=(12, 4.6))
    ax = fig.add_axes([0.02, 0.3, 0.3, 0.58])
    ax.imshow(mask, cmap="gray_r")
    for k, (path, crossed) in enumerate(paths):
        colour = "red" if k + 1 in cut_at else "0.6"
        ax.plot(path + cols[0], np.arange(len(path)), color=colour, lw=2.5 if colour == "red" else 1.2)
        ax.text(path[-1] + cols[0], len(path) + 6, f"{crossed:.1f}", color=colour, ha="center", va="top")
    ax.set_title("the mark and the cuts found;\nunder each, the strokes it crosses")
    ax.set_xticks([])
    ax.set_yticks([])
    columns = len(spans)
    for k, (span, digit_input) in enumerate(zip(spans, inputs)):
        ax = fig.add_axes([0.35 + 0.64 * k / columns, 0.4, 0.6 / columns, 0.42])
        ax.imshow(digit_input, cmap="gray", vmin=0, vmax=1)
        first, last, _ = span
        pieces_text = f"piece {first + 1}" if first == last else f"pieces {first + 1}-{last + 1}"
        pieces_text += ", trimmed" if spans.index(span) != k else ""  # read again without a tail (tail_trimmed)
        ax.set_title(f"{pieces_text}\nreads {steady[k].argmax()} ({steady[k].max():.2f})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if k in chosen:
            for side in ax.spines.values():
                side.set_color("red")
                side.set_linewidth(3)
    reading = "".join(str(steady[k].argmax()) for k in chosen)
    fig.text(0.02, 0.2, f"Every run of consecutive pieces is a candidate digit. A reading is a way to cover the "
                        f"pieces with candidates;\nits score adds, for each candidate, the log of the network's "
                        f"highest probability (less the costs of being too wide,\ntoo short or made of separate "
                        f"marks) and, for each cut, {preprocess.CUT_COST} per stroke crossed. The best reading "
                        f"(framed in red)\nis found by dynamic programming over the cuts: here {reading}.",
             fontsize=11, va="top")
    cli.write_atomically(args.out, lambda f: fig.savefig(f, format="png", dpi=70))
    print(f"Wrote {args.out}: read {reading}")


if __name__ == "__main__":
    cli.run_main("docs/draw_cuts.py", main)
