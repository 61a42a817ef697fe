"""Run a script with Ctrl-C arriving at one chosen moment: as the function of the given name is
first called (a Python function, or a built-in such as print). If no function of that name is
called, say so on stderr.

    python tests/interrupted_at.py NAME SCRIPT [ARGS...]
"""

import os
import runpy
import signal
import sys

interrupted = []


def interrupt_on_call(frame, event, arg):
    called = frame.f_code.co_name if event == "call" else getattr(arg, "__name__", None) if event == "c_call" else None
    if called == name:
        sys.setprofile(None)
        interrupted.append(True)
        os.kill(os.getpid(), signal.SIGINT)


name, script, sys.argv = sys.argv[1], sys.argv[2], sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
sys.setprofile(interrupt_on_call)
try:
    runpy.run_path(script, run_name="__main__")
finally:
    if not interrupted:
        print(f"interrupted_at.py: nothing called {name}", file=sys.stderr)
