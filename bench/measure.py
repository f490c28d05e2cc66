"""Measuring helpers shared by the benchmarks: latency samples, phase figures, machine info."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0 < q < 100), linearly interpolated; NaN without samples."""
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Latencies:
    """Reply latencies in seconds, overall and by step name."""

    by_step: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.by_step.setdefault(step, []).append(seconds)

    @property
    def all(self) -> list[float]:
        return [s for samples in self.by_step.values() for s in samples]

    @staticmethod
    def summary(samples: list[float]) -> dict[str, float]:
        return {"n": len(samples), "p50_ms": percentile(samples, 50) * 1000,
                "p99_ms": percentile(samples, 99) * 1000,
                "mean_ms": (statistics.fmean(samples) * 1000) if samples else float("nan"),
                "max_ms": (max(samples) * 1000) if samples else float("nan")}


@dataclass
class PhaseResult:
    """What one phase (our bot or the echo baseline) measured."""

    name: str
    residents: int
    concurrency: int
    updates: int = 0
    conversations: int = 0
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    latencies: Latencies = field(default_factory=Latencies)
    api_calls: Counter[str] = field(default_factory=Counter)
    cpu_s: float = 0.0  # the whole process (all threads)
    loop_thread_cpu_s: float = 0.0  # the event-loop thread: emulator, bots and residents
    update_processing: dict[str, Any] = field(default_factory=dict)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.wall_s if self.wall_s else 0.0

    @property
    def conversations_per_s(self) -> float:
        return self.conversations / self.wall_s if self.wall_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        samples = self.latencies.all
        return {
            "residents": self.residents, "concurrency": self.concurrency, "updates": self.updates,
            "conversations_completed": self.conversations, "failures": len(self.failures),
            "first_failures": self.failures[:3], "wall_s": round(self.wall_s, 3),
            "updates_per_s": round(self.updates_per_s, 2),
            "conversations_per_s": round(self.conversations_per_s, 3),
            "latency": _rounded(Latencies.summary(samples)),
            "latency_by_step": {step: _rounded(Latencies.summary(s))
                                for step, s in self.latencies.by_step.items()},
            "cpu_s": round(self.cpu_s, 3), "loop_thread_cpu_s": round(self.loop_thread_cpu_s, 3),
            "loop_thread_busy_fraction": (round(self.loop_thread_cpu_s / self.wall_s, 3)
                                          if self.wall_s else None),
            "cpu_ms_per_update": round(self.cpu_s / self.updates * 1000, 2) if self.updates else None,
            "bot_api_calls": dict(sorted(self.api_calls.items())),
            "bot_api_calls_per_update": (round(sum(self.api_calls.values()) / self.updates, 2)
                                         if self.updates else None),
            "update_processing": self.update_processing,
        }


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in values.items()}


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``; monotonic, high resolution."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def counter_delta(after: Mapping[str, int], before: Mapping[str, int]) -> Counter[str]:
    delta = Counter({k: v - before.get(k, 0) for k, v in after.items()})
    return +delta  # drops zero entries


def machine_info() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python_telegram_bot": version("python-telegram-bot"), "aiohttp": version("aiohttp"),
        "aiosqlite": version("aiosqlite"),
    }


def write_json(path: Path, report: Mapping[str, Any]) -> None:
    """Write a benchmark's figures where bench/README.md says they are (bench/results/*.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
