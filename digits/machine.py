"""What training asks of the computer it runs on: memory, cores, BLAS threads, malloc's habits.

Each question is answered where the system can tell (Linux: /proc, sched_getaffinity, glibc's
mallopt) and left alone where it cannot (macOS, Windows): no memory check, the machine's
core count, no mallopt. Training is the same either way; only its speed may differ.
"""

import ctypes
import os
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from digits.cli import InputError


def available_memory():
    """Bytes of memory available to a new process (MemAvailable in /proc/meminfo, else the free
    pages sysconf reports), or None where the system tells neither.
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # macOS has no SC_AVPHYS_PAGES, Windows no sysconf
        return None


def training_memory(m, hidden, dtype, batch_size, m_test=10_000):
    """An upper estimate, in bytes, of the memory training on m images needs: the data and the
    largest arrays.

    X and Y for m images and the test set; the parameters with their gradients,
    velocities and update temporaries (4 copies of W1's size); per step, Z1, A1,
    dA1 and dZ1 (h x batch each), the batch's copy of X, and the test-set forward pass.
    """
    size = np.dtype(dtype).itemsize
    batch = min(batch_size or m, m)
    data = (784 + 10) * m * size + 784 * m_test * size + 785 * (60_000 + m_test)
    params = 4 * (hidden * 784 + 11 * hidden + 10) * size
    step = (4 * hidden * batch + (784 if batch_size else 0) * batch) * size + hidden * batch
    evaluation = 2 * hidden * m_test * size
    return data + params + step + evaluation


def check_memory(m, hidden, dtype, batch_size):
    """Refuse, before loading data, a network too large for this computer's memory."""
    needed, available = training_memory(m, hidden, dtype, batch_size), available_memory()
    if available is not None and needed > available:
        raise InputError(f"--hidden {hidden}: training would need about {needed / 2**30:,.1f} GiB "
                         f"of memory and {available / 2**30:.1f} GiB is available; choose a smaller "
                         "--hidden (or --batch-size)")


def cpu_usage():
    """(wall seconds, CPU seconds used by all processes, CPU seconds used by this one) now;
    the second is None where /proc/stat cannot tell.
    """
    try:
        with open("/proc/stat") as f:
            user, nice, system, _, _, irq, softirq = (int(v) for v in f.readline().split()[1:8])
        everyone = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        everyone = None
    own = os.times()
    return time.perf_counter(), everyone, own.user + own.system


def busy_elsewhere(before, after):
    """How many cores other processes kept busy between two cpu_usage() readings (0 if unknown)."""
    if before[1] is None or after[1] is None or after[0] <= before[0]:
        return 0.0
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / (after[0] - before[0]))


def usable_cores():
    """The cores this process may run on (its affinity where the system tells it, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_threads(requested, augment, others):
    """Threads for the matrix products: `requested` (--threads); else None (keep them) where the
    environment sets a number; else the cores that other programs (`others` cores busy) leave
    free, less one for the thread that makes --augment's distortions, and at least 1.

    OpenBLAS's threads wait for each other by spinning: measured here, a mini-batch epoch took
    about 25% less time with 2 threads than with 1 on a quiet machine, but 2 to 3 times as long
    while another program kept one of the 2 cores busy.
    """
    if requested is not None:
        return requested
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, usable_cores() - round(others) - (1 if augment else 0))


def use_blas_threads(requested, augment, usage_before):
    """Set the BLAS threads as blas_threads() says, from what other programs did since the
    cpu_usage() reading `usage_before`; the number of threads the BLAS then uses.
    """
    threadpool_limits(blas_threads(requested, augment, busy_elsewhere(usage_before, cpu_usage())),
                      user_api="blas")
    return blas_thread_count()


def blas_thread_count():
    """The number of threads NumPy's BLAS uses now."""
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def keep_freed_memory():
    """Ask the C library's malloc (glibc) to keep freed memory for reuse rather than give it back.

    Every step allocates the same large temporaries (30 MB each for Z1, A1, dA1, dZ1 in a
    full-batch epoch). glibc adapts its thresholds as it goes, but whether it then keeps them
    depends on the order of the allocations: measured, with --watch's threads, and after changes
    to network.py as small as one temporary fewer per step, it gave memory back and faulted it in
    again, 1,300 to 1,500 times per full-batch epoch. Elsewhere (no glibc) it does nothing.
    """
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # keep up to 1 GiB of free memory at the top
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 28)  # arrays up to 256 MiB from the reusable heap
    except (OSError, AttributeError, TypeError):  # no C library to name (Windows: CDLL(None) is a TypeError)
        pass
