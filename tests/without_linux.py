"""Run a script as on a system without what only Linux has: no /proc/stat or /proc/meminfo
(threadpoolctl, which finds the BLAS library its own way on each system, still reads
/proc/self/maps here), no os.sched_getaffinity,
no os.sysconf, no `resource` module, no C library that ctypes.CDLL(None) can name (Windows raises
TypeError), and, as on Windows, no os.O_NONBLOCK nor os.set_blocking (Python has them only on
Unix, the second on Windows only since 3.12).

    python tests/without_linux.py SCRIPT [ARGS...]
"""

import asyncio  # noqa: F401  here, before os loses sysconf: on Unix, Python 3.13's asyncio reads it as it loads
import builtins
import ctypes
import os
import runpy
import sys

real_open, real_cdll = builtins.open, ctypes.CDLL


def open_without_proc(file, *args, **kwargs):
    if str(file) in ("/proc/stat", "/proc/meminfo"):
        raise FileNotFoundError(2, "No such file or directory", file)
    return real_open(file, *args, **kwargs)


def cdll_without_none(name, *args, **kwargs):
    if name is None:
        raise TypeError("argument of type 'NoneType' is not iterable")
    return real_cdll(name, *args, **kwargs)


builtins.open = open_without_proc
ctypes.CDLL = cdll_without_none
for name in ("sched_getaffinity", "sysconf", "O_NONBLOCK", "set_blocking"):
    if hasattr(os, name):
        delattr(os, name)
sys.modules["resource"] = None  # `import resource` raises ImportError

script, sys.argv = sys.argv[1], sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
runpy.run_path(script, run_name="__main__")
