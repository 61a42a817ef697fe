"""What the scripts share at their edge: the error a user sees, safe file writes, and the options
and address of the pages they serve."""

import argparse
import math
import os
import signal
import stat
import sys
import tempfile


class Terminated(KeyboardInterrupt):
    """SIGTERM (sent by `kill`, `timeout`, schedulers) arriving where Ctrl-C would stop the script."""

    exit_code = 143


def raise_terminated(signum, frame):
    """A signal handler: SIGTERM stops the script as Ctrl-C does, with exit code 143."""
    raise Terminated


class InputError(Exception):
    """Something the user gave (a file, a folder, an option) cannot be used.

    The message names the thing and what is wrong with it; the scripts print it
    as one line on stderr and exit non-zero, without a traceback.
    """


def printable(text):
    """`text` with its control characters written as Python escapes (a newline as \\n, ESC as
    \\x1b), so that a file name or a request cannot split a line or command the terminal.
    """
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))


def fail(prog, message, code=1):
    """Print 'prog: error: message' on stderr, control characters escaped, and exit with `code`
    (the same code if stderr cannot be written either)."""
    try:
        print(f"{prog}: error: {printable(message)}", file=sys.stderr, flush=True)
    except OSError:
        pass
    sys.exit(code)


def run_main(prog, main, interrupted="interrupted"):
    """Run a script's main() and exit with its code; turn the expected failures into one line.

    InputError -> its message, exit 1. Ctrl-C -> `interrupted`, exit 130 (SIGTERM,
    where raise_terminated handles it: 143). A closed output pipe (e.g. `| head`)
    -> silent exit 1; output that cannot be written otherwise (a full disk) -> one line, exit 1.
    Where the terminal's encoding is a code page (Windows, output redirected to
    a file or a pipe), what it cannot hold is written as a Python escape (a file name in Chinese as
    \\u6570...), as on stderr, and bytes it cannot read from stdin are kept as they came (a path
    typed at the prompt), instead of stopping the script with a traceback.
    """
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="surrogateescape")
    try:
        sys.exit(main())
    except InputError as e:
        fail(prog, str(e))
    except KeyboardInterrupt as e:
        fail(prog, interrupted, code=getattr(e, "exit_code", 130))
    except BrokenPipeError:
        drop_output()
        sys.exit(1)
    except OSError as e:
        if e.filename is not None:  # a file the script meant to check first: a fault, with its traceback
            raise
        drop_output()
        fail(prog, f"cannot write its output: {e.strerror or e}")


def drop_output():
    """Send what is left in stdout's buffer to the null device: flushing it at exit would fail again."""
    if sys.stdout is not None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def stop_on_signals(stopped_by):
    """From now on Ctrl-C and SIGTERM append themselves to the list stopped_by, for a loop that
    checks it to end cleanly; a second one stops at once, as run_main() reports.
    """
    def request_stop(signum, frame):
        stopped_by.append(signum)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, raise_terminated)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def check_output_path(option, path, example):
    """InputError now, before any work, if the file `path` (given as `option`) cannot be written;
    `example` is a file name to suggest.
    """
    if is_web_address(path):
        raise InputError(f"{option} {path}: a web address, not a file here; give a file name such as {example}")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"{option} {path}: is a folder; give a file name such as {example}")
    if os.path.exists(path) and not os.path.isfile(path):
        raise InputError(f"{option} {path}: exists and is not a regular file; give a file name "
                         f"such as {example}")
    if not os.path.isdir(folder):
        raise InputError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{option} {path}: folder {folder} is not writable")


def write_atomically(path, write):
    """Call write(file_object) on a temporary file beside `path`, then rename it over `path`.

    Readers see either the old file or the complete new one, never a partial
    file: if writing fails (a full disk, Ctrl-C), the temporary file is removed
    and `path` is untouched. A failure of the file system becomes an InputError.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise InputError(f"cannot write {path}: {e.strerror or e}; it was left as it was") from None
        raise


def counted(n, noun):
    """n and the noun, in the plural unless n is 1: '1 epoch', '15 epochs'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def is_web_address(path):
    """Whether `path` is an http(s) address rather than a file's path."""
    return str(path).lower().startswith(("http://", "https://"))


def open_regular_file(path, name=None):
    """`path` opened for reading in binary, refused with an InputError unless it is a regular file.

    A FIFO, a device or a socket would block a reader for ever or yield endless
    data; it is opened without blocking (where the system has O_NONBLOCK: Windows has
    neither it nor FIFOs), recognised and closed again. On Windows a file descriptor is
    opened as binary (O_BINARY) or its bytes are read as text, CR LF as LF.
    """
    name = path if name is None else name
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | nonblocking)
    except FileNotFoundError:
        raise InputError(f"{name}: " + ("a web address, not a file here: download it and give the path of the "
                                        "downloaded file" if is_web_address(path) else "file not found")) from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder") from None
    except OSError as e:
        raise InputError(f"{name}: cannot open ({e.strerror})") from None
    except ValueError as e:  # a NUL in the name, or on Windows a character no file name can hold
        raise InputError(f"{name}: not a file name this system can open ({e})") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise InputError(f"{name}: is a folder")
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{name}: not a regular file (a {file_kind(mode)}); give a file")
    if nonblocking:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def file_kind(mode):
    """'FIFO', 'character device', ... for a stat mode that is not a regular file."""
    kinds = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
             (stat.S_ISSOCK, "socket"))
    return next((kind for test, kind in kinds if test(mode)), "special file")


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad option is reported in one line that points to --help."""

    def error(self, message):
        fail(self.prog, f"{message} (see: python {self.prog} --help)", code=2)


def add_page_options(parser, switch, port):
    """--host and --port for the page a script serves with `switch` (--serve, --watch) on `port`."""
    parser.add_argument("--host", default=None,
                        help=f"with {switch}: the IPv4 address or host name to listen on (default: 127.0.0.1, "
                             "this computer only; 0.0.0.0 lets other computers open the page)")
    parser.add_argument("--port", type=port_number, default=None,
                        help=f"with {switch}: the port to listen on (default: {port}; 0 picks a free one)")


def check_page_options(parser, args, switch, page, port):
    """--host and --port only with `switch` (the option that serves the page named `page`); their
    defaults, 127.0.0.1 and `port`, filled in."""
    for option in ("host", "port"):
        if getattr(args, option) is not None and not getattr(args, switch.lstrip("-")):
            parser.error(f"argument --{option}: is for the {page}; add {switch}")
    args.host = "127.0.0.1" if args.host is None else args.host
    args.port = port if args.port is None else args.port


def page_address(page, host, port):
    """What to print of the page named `page` served on `host` and `port`: where it opens on this
    computer, and whether other computers can open it too."""
    everywhere = host in ("", "0.0.0.0")
    text = f"{page}: http://{'127.0.0.1' if everywhere else host}:{port}/"
    if everywhere:
        text += "\nListening on all of this computer's addresses: other computers can open the page too."
    return text


def positive_int(text):
    """argparse type: a whole number >= 1."""
    return whole_number(text, 1)


def seed_number(text):
    """argparse type: a random seed, a whole number >= 0."""
    return whole_number(text, 0)


def port_number(text):
    """argparse type: a TCP port, 0 to 65535 (0: any free port)."""
    return whole_number(text, 0, 65535)


def whole_number(text, low, high=None):
    """A whole number from `text`, at least `low` (and at most `high`), or an argparse error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def momentum_float(text):
    """argparse type: a number in [0, 1)."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def finite_float(text):
    """argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
