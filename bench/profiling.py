"""cProfile a benchmark phase and say where the event-loop thread's CPU went, by component.

Everything runs in one event loop (emulator, bots, scripted residents), so a phase is CPU-bound on that one
thread and what matters is the CPU each update costs, wherever it is spent. A function's own time is charged
to the component its file belongs to; time in "neutral" code (C builtins, json, re, PIL, aiohttp's parser,
yarl/multidict ...) is passed up to the callers that asked for it, split by how much each caller asked.
The SQLite work on aiosqlite's thread is not in this profile (cProfile sees only the thread it runs on).
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

Func = tuple[str, int, str]

OURS = ("/bot/", "/handlers/", "/storage/", "/scheduler/")
HTTPX_STACK = ("httpx", "httpcore", "anyio", "h11", "sniffio")

COMPONENTS = (
    "our bot code (bot/ handlers/ storage/ scheduler/)",
    "python-telegram-bot",
    "bots' HTTP client (httpx, httpcore, anyio, h11)",
    "aiosqlite (loop-thread side)",
    "emulator (sandbox/ + aiohttp server)",
    "residents (bench/, SandboxClient + aiohttp client)",
    "event loop + sockets (asyncio)",
    "other",
)


def _package(path: str) -> str | None:
    if "site-packages/" not in path:
        return None
    return path.split("site-packages/", 1)[1].split("/", 1)[0]


def component(func: Func) -> str | None:
    """The component a function belongs to, or None for neutral code (charged to its callers)."""
    path = func[0]
    if path == "~":
        return None
    if "/bench/" in path or path.endswith("sandbox/client.py"):
        return COMPONENTS[5]
    if "/sandbox/" in path:
        return COMPONENTS[4]
    package = _package(path)
    if package is None:
        if any(part in path for part in OURS) and "/lib/python" not in path:
            return COMPONENTS[0]
        if "/asyncio/" in path or path.endswith("selectors.py"):
            return COMPONENTS[6]
        return None
    if package == "telegram":
        return COMPONENTS[1]
    if package in HTTPX_STACK:
        return COMPONENTS[2]
    if package == "aiosqlite":
        return COMPONENTS[3]
    if package == "aiohttp":
        module = path.rsplit("/", 1)[1]
        if module.startswith("web"):
            return COMPONENTS[4]
        if module.startswith(("client", "connector")):
            return COMPONENTS[5]
    return None


def breakdown(stats: pstats.Stats) -> Counter[str]:
    """Seconds of own time per component."""
    table: dict[Func, tuple] = stats.stats  # type: ignore[attr-defined]
    out: Counter[str] = Counter()

    def charge(func: Func, seconds: float, depth: int) -> None:
        name = component(func)
        if name is not None:
            out[name] += seconds
            return
        callers = table.get(func, (0, 0, 0, 0, {}))[4]
        weights = {caller: v[2] if depth == 0 else v[3] for caller, v in callers.items()}
        total = sum(weights.values())
        if depth >= 6 or total <= 0:
            out[COMPONENTS[7]] += seconds
            return
        for caller, weight in weights.items():
            charge(caller, seconds * weight / total, depth + 1)

    for func, (_, _, own, _, _) in table.items():
        if own > 0:
            charge(func, own, 0)
    return out


@contextlib.contextmanager
def profiled(out: Path | None) -> Iterator[None]:
    """Profile the block into `out` (a .prof file for pstats/snakeviz); do nothing when `out` is None."""
    if out is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        out.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(out)


def component_table(profiles: dict[str, tuple[Path, int]]) -> tuple[str, dict[str, dict[str, float]]]:
    """Milliseconds of loop-thread CPU per update, by component, for each profiled phase."""
    figures: dict[str, dict[str, float]] = {}
    for phase, (path, updates) in profiles.items():
        seconds = breakdown(pstats.Stats(str(path)))
        figures[phase] = {name: round(seconds.get(name, 0.0) / updates * 1000, 3) for name in COMPONENTS}
        figures[phase]["total"] = round(sum(seconds.values()) / updates * 1000, 3)
    phases = list(figures)
    width = max(len(c) for c in COMPONENTS)
    lines = [f"{'CPU ms per update (under cProfile)':<{width}}  " + "  ".join(f"{p:>8}" for p in phases)]
    for name in (*COMPONENTS, "total"):
        lines.append(f"{name:<{width}}  " + "  ".join(f"{figures[p][name]:>8.2f}" for p in phases))
    return "\n".join(lines), figures


def top_functions(path: Path, limit: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()
