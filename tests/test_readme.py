"""The README stays true: its commands run, its quoted code exists, its error example is real."""

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

import browser
from conftest import ROOT, assert_clean_error, run_script

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


VENV = "python3 -m venv --upgrade-deps .venv && . .venv/bin/activate && "


def test_the_first_two_commands_install_and_train_then_install_and_test():
    first, second = blocks("sh")[:2]
    assert first.strip() == VENV + "python -m pip install -r requirements.txt && python train.py"
    assert second.strip() == VENV + "python -m pip install -r requirements-dev.txt && python -m pytest"
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    pattern = re.search(r"grep -m1 -o '([^']*)' README.md", ci).group(1)
    assert re.search(pattern, README).group(0).strip() == second.strip()  # CI runs the README's command


@pytest.mark.slow
def test_the_first_command_works_on_a_fresh_debian_python(tmp_path):
    """No `python` command and a system Python that refuses pip installs (PEP 668), as on Debian."""
    system_python = "/usr/bin/python3"
    if not os.path.exists(system_python) or not glob.glob("/usr/lib/python3*/EXTERNALLY-MANAGED"):
        pytest.skip("this machine has no externally managed system Python in /usr/bin")
    folder = project_copy(tmp_path)
    # PIP_COMPILE=0: pip does not byte-compile the packages it installs (Python does it as it
    # imports them), which was over half of this test's time and no part of what it checks
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "PATH": "/usr/bin:/bin", "PIP_COMPILE": "0",
           **{k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "PIP_"))}}
    assert subprocess.run(["sh", "-c", "command -v python"], env=env).returncode != 0
    refused = subprocess.run(["sh", "-c", "python3 -m pip install -r requirements.txt"], cwd=folder, env=env,
                             capture_output=True, text=True)
    assert refused.returncode != 0  # what the README's commands avoid
    first = blocks("sh")[0].strip() + " " + " ".join(SMALL_TRAINING)
    result = subprocess.run(["sh", "-c", first], cwd=folder, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Model written to model_mnist.npz" in result.stdout


@pytest.mark.slow
def test_the_scripts_run_on_the_oldest_python_the_readme_names(tmp_path):
    """The README's oldest Python (macOS's own python3 is 3.9) and the pip it came with: the
    README's command installs the tests' packages (the pip of Python 3.9, not brought up to date,
    searched for them for over 10 minutes), and with the newest packages pip gives Python 3.9 the
    three scripts run and print no warning."""
    oldest = re.search(r"Python (3\.\d+) or newer", README)[1]
    pyenv = os.path.expanduser(f"~/.pyenv/versions/{oldest}.*/bin/python")
    found = [shutil.which(f"python{oldest}"), *glob.glob(pyenv)]
    python = next((p for p in found if p and subprocess.run([p, "-c", "import ensurepip"], capture_output=True,
                                                              timeout=60).returncode == 0), None)
    if python is None:
        pytest.skip(f"this machine has no python{oldest} with venv and pip (on PATH or from pyenv)")
    folder = project_copy(tmp_path)
    env = {**os.environ, "PIP_COMPILE": "0"}
    install = blocks("sh")[1].strip()  # the README's command, up to the tests
    assert install.startswith("python3 -m venv ") and install.endswith(" && python -m pytest")
    install = shlex.quote(python) + install[len("python3"):-len(" && python -m pytest")]
    result = subprocess.run(["sh", "-c", install], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    venv_python = os.path.join(folder, ".venv", "bin", "python")
    for script, *args in (["train.py", *SMALL_TRAINING, "--plot", "report.png"], ["generate_test_set.py"],
                          ["predict_image.py", "docs/photo-number.jpg", "test/digit_7_sample_0.png"]):
        result = subprocess.run([venv_python, script, *args], cwd=folder, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "Python " + oldest in subprocess.run([venv_python, "--version"], capture_output=True, text=True).stdout
    assert os.path.getsize(folder / "report.png") > 0 and "number " in result.stdout


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path):
    folder = project_copy(tmp_path)
    commands = [c for c in readme_commands() if not c.startswith(("python3 -m venv", "python -m pip"))]
    commands = list(dict.fromkeys(commands))  # a command shown twice runs once
    assert len(commands) >= 10
    first = [c for c in commands if c.split()[1] in ("train.py", "generate_test_set.py")]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: first the models and test images,
        for group in (first, [c for c in commands if c not in first]):  # then what uses them
            list(pool.map(lambda command: run_readme_command(command, folder), group))
    assert (folder / "report.png").exists() and (folder / "test" / "digit_9_sample_1.png").exists()


def run_readme_command(command, folder):
    """Run one of the README's commands as it stands (with small settings) and check it succeeds."""
    script, *args = command.split()[1:]
    stdin = None
    if script == "train.py":
        args += SMALL_TRAINING + (["--port", "0"] if "--watch" in args else [])
    elif script == "benchmarks/bench.py":
        args.append("--help")  # the whole table, in --quick mode: tests/test_bench.py
    elif script == "benchmarks/robustness.py":
        args += ["--limit", "1000"]
    elif script == "predict_image.py" and not args:
        stdin = "test/digit_7_sample_0.png\n"
    elif script == "predict_image.py" and args == ["--serve"]:
        check_drawing_page(folder)
        return
    elif script == "docs/screenshot_draw_page.py":
        if browser.missing() and not os.environ.get("REQUIRE_BROWSER"):
            return
        args += ["--out", "page.png"]
    elif script == "docs/screenshot_watch_page.py":
        if browser.missing() and not os.environ.get("REQUIRE_BROWSER"):
            return
        args += ["--epoch", "2", "--out", "watch.png", "--", "--limit", "2000", "--epochs", "100000"]
    result = run_script(folder / script, *args, cwd=folder, input=stdin, timeout=240)
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    if stdin:
        assert re.search(r"Predicted digit: \d\nConfidence: [01]\.\d{4}", result.stdout)
    if "--watch" in args:
        shown = re.search(r"```text\n(Training page: http://127\.0\.0\.1:)8001/\n", README)
        assert shown and result.stdout.startswith(shown.group(1)), result.stdout


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


@pytest.mark.parametrize("script", ["docs/draw_flow.py", "docs/draw_preprocessing.py",
                                    "docs/screenshot_draw_page.py", "benchmarks/bench.py"])
def test_help_of_the_helper_scripts_writes_nothing(tmp_path, script):
    folder = project_copy(tmp_path)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    result = run_script(folder / script, "--help", cwd=folder, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage:"), result.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_bad_options_of_the_helper_scripts_are_named_in_one_line_and_write_nothing(tmp_path):
    """The README's helper scripts refuse what they cannot do before any work, in one line."""
    cases = [(f"docs/{name}.py", ["--out", "missing/figure.png"], "--out missing/figure.png: folder")
             for name in ("draw_flow", "draw_preprocessing", "draw_augmentation", "draw_cuts", "draw_photo_steps",
                          "screenshot_draw_page", "screenshot_watch_page")]
    cases += [("docs/draw_preprocessing.py", ["--example", "."], "--example .: is a folder"),
              ("docs/draw_augmentation.py", ["--copies", "0"], "argument --copies: must be at least 1, got 0"),
              ("docs/draw_cuts.py", ["--model", "none.npz"], "model none.npz: file not found"),
              ("docs/screenshot_watch_page.py", ["--epoch", "0"], "argument --epoch: must be at least 1, got 0"),
              ("benchmarks/bench.py", ["--repeats", "0"], "argument --repeats: must be at least 1, got 0")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: run_script(case[0], *case[1], cwd=tmp_path, timeout=60), cases))
    for (script, _, message), result in zip(cases, results):
        assert_clean_error(result, script + ": error: " + message)
    assert os.listdir(tmp_path) == []


def test_a_screenshot_of_an_epoch_the_run_never_shows_is_refused_in_one_line(tmp_path):
    if browser.missing() and not os.environ.get("REQUIRE_BROWSER"):
        pytest.skip(browser.missing())
    result = run_script("docs/screenshot_watch_page.py", "--epoch", "5", "--out", "watch.png", "--",
                        "--limit", "2000", "--epochs", "2", cwd=tmp_path, timeout=120)
    assert_clean_error(result, "--epoch 5: the run ended before its page showed that epoch; give an earlier one")
    assert os.listdir(tmp_path) == []


def test_a_screenshot_whose_run_ends_unheard_by_its_page_is_refused_not_waited_for(tmp_path):
    """train.py killed while its page is open: the page never hears the run's end, and says that
    train.py is gone; the screenshot stops there (it waited 600 s for the end)."""
    if browser.missing() and not os.environ.get("REQUIRE_BROWSER"):
        pytest.skip(browser.missing())
    if shutil.which("pgrep") is None:
        pytest.skip("pgrep is needed to find train.py under the script")
    script = subprocess.Popen([sys.executable, os.path.join(ROOT, "docs", "screenshot_watch_page.py"), "--epoch",
                               "99999", "--out", "watch.png", "--", "--limit", "2000", "--epochs", "100000"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        found = ""
        for _ in range(300):  # train.py, started by the script
            found = subprocess.run(["pgrep", "-P", str(script.pid), "-f", "train.py"], capture_output=True,
                                   text=True).stdout.split()
            if found or script.poll() is not None:
                break
            time.sleep(0.1)
        assert found, script.communicate()
        time.sleep(5)  # the page open and following the run
        os.kill(int(found[0]), signal.SIGKILL)
        out, err = script.communicate(timeout=60)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert script.returncode == 1 and out == "", err
    assert err.strip() == ("docs/screenshot_watch_page.py: error: --epoch 99999: the run ended before its page "
                           "showed that epoch; give an earlier one")
    assert os.listdir(tmp_path) == []
