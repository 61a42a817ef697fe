"""The README stays true: its commands run, its quoted code exists, its error example is real."""

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

import pytest

import browser
from conftest import ROOT, run_script

README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
SMALL_TRAINING = ["--limit", "2000", "--epochs", "3"]  # later options win in argparse


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def readme_commands():
    """Every `python ...` line of the README's sh blocks, in order."""
    return [line.strip() for block in blocks("sh") for line in block.splitlines()
            if line.strip().startswith("python")]


def project_copy(tmp_path):
    """A copy of the project to run the README's commands in, as a newcomer would."""
    folder = tmp_path / "project"
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "env", "__pycache__", ".pytest_cache", "test", "*.npz", "*_contact_sheet.png"))
    return folder


def test_the_first_two_commands_install_and_train_then_install_and_test():
    first, second = blocks("sh")[:2]
    assert first.strip() == "python -m pip install -r requirements.txt && python train.py"
    assert second.strip() == "python -m pip install -r requirements-dev.txt && python -m pytest"
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        assert "requirements-dev.txt && python -m pytest" in f.read()


def test_every_readme_command_runs(tmp_path):
    folder = project_copy(tmp_path)
    commands = [c for c in readme_commands() if not c.startswith(("python -m pip", "python -m pytest"))]
    order = {"train.py": 0, "generate_test_set.py": 1}
    commands.sort(key=lambda c: order.get(c.split()[1], 2))  # a model and test images first
    assert len(commands) >= 10
    for command in commands:
        script, *args = command.split()[1:]
        stdin = None
        if script == "train.py":
            args += SMALL_TRAINING
        elif script == "benchmarks/bench.py":
            args.append("--quick")
        elif script == "predict_image.py" and not args:
            stdin = "test/digit_7_sample_0.png\n"
        elif script == "predict_image.py" and args == ["--serve"]:
            check_drawing_page(folder)
            continue
        elif script == "docs/screenshot_draw_page.py":
            if browser.missing() and not os.environ.get("REQUIRE_BROWSER"):
                continue
            args += ["--out", "page.png"]
        result = run_script(folder / script, *args, cwd=folder, input=stdin, timeout=240)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        if stdin:
            assert re.search(r"Predicted digit: \d\nConfidence: [01]\.\d{4}", result.stdout)
    assert (folder / "report.png").exists() and (folder / "test" / "digit_9_sample_1.png").exists()


def check_drawing_page(folder):
    """`python predict_image.py --serve` prints the README's lines, serves the page, stops at Ctrl-C."""
    process = subprocess.Popen([sys.executable, "predict_image.py", "--serve", "--port", "0"], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        expected = re.search(r"```text\n(Drawing page: \S+)\n(.*)\n```", README)
        assert url.startswith("http://127.0.0.1:") and expected.group(1).startswith("Drawing page: http://127.0.0.1:")
        assert process.stdout.readline().strip() == expected.group(2)
        with urllib.request.urlopen(url, timeout=30) as page:
            assert b'<canvas id="pad"' in page.read()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and out.strip() == "Stopped." and err == "", err


def test_error_example_is_what_the_script_prints(tmp_path):
    example = re.search(r"\$ (python train.py --lr -1)\n(.*)\n", README)
    result = run_script("train.py", *example.group(1).split()[2:], cwd=tmp_path)
    assert result.stderr.strip() == example.group(2)


def code_lines():
    """Every line of the project's Python files, stripped."""
    lines = set()
    for folder, _, files in os.walk(ROOT):
        if any(part in folder for part in (".venv", ".git", "tests")):
            continue
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    lines.update(line.strip() for line in f)
    return lines


@pytest.mark.parametrize("block", blocks("python"), ids=lambda b: b.splitlines()[0][:40])
def test_quoted_code_exists_in_the_code(block):
    lines = code_lines()
    for line in block.splitlines():
        if line.strip():
            assert line.strip() in lines, line


def test_readme_numbers_of_the_model_file_shapes_match_the_code():
    import network
    shapes = {k: v.shape for k, v in network.init_params().items()}
    for name, shape in shapes.items():
        assert f"`{name}` {shape}".replace(" ", "") in README.replace(" ", ""), name
