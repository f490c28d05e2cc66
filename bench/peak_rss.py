"""This process's peak resident memory, for the benchmarks' child processes.

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is not it on Linux: the kernel keeps the high-water mark across
``exec``, so a child started from a parent holding 170 MB reports at least the parent's RSS at the fork, before it
has done anything (what made the ledger's "176 MB before the export started"). ``VmHWM`` in /proc/self/status
belongs to the new program's own memory map, so it starts afresh at ``exec``; elsewhere ru_maxrss is all there is.
"""

from __future__ import annotations

import resource
import sys


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 1024), 1)


def maxrss_mb() -> float:
    """ru_maxrss, the figure the benchmarks printed before (it includes the parent's RSS at the fork)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
