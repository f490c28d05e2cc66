"""The intake bench with our bot on a chosen Bot API client (``telegram.http_client``), the echo bot unchanged.

    python -m bench.intake_http --http-client httpx --residents 200 --concurrency 20
    python -m bench.intake_http --http-client aiohttp --residents 50 --concurrency 10 --profile

Exactly ``bench.intake_bench`` (every other option is its own) with ``telegram.http_client`` set in our bot's
config; the echo bot stays a bare PTB bot on its default httpx request, the baseline. The JSON (default
``bench/results/intake-<client>.json``) records the client under ``parameters``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import intake_bench
from bot.config import HTTP_CLIENTS, Config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_http", add_help=False)
    parser.add_argument("--http-client", choices=HTTP_CLIENTS, required=True)
    args, rest = parser.parse_known_args(argv)
    if "--output" not in rest:
        rest += ["--output", str(intake_bench.RESULTS / f"intake-{args.http_client}.json")]
    p = intake_bench.parse_args(rest)
    plain = intake_bench.bench_config

    def bench_config(workdir: Path) -> Config:
        cfg = plain(workdir)
        return dataclasses.replace(cfg, telegram=dataclasses.replace(cfg.telegram, http_client=args.http_client))

    intake_bench.bench_config = bench_config
    report: dict[str, Any] = asyncio.run(intake_bench.bench(p))
    report["parameters"]["telegram.http_client"] = args.http_client
    intake_bench.write_json(p.output, report)
    print(f"our bot's Bot API client: {args.http_client} (the echo bot: PTB's default httpx)")
    print(intake_bench.table(report))
    if p.profile:
        print("\n" + "\n".join(report["profile"]["table"]))
    print(f"\nwritten: {p.output}")
    return 1 if report["ours"]["failures"] or report["echo"]["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
