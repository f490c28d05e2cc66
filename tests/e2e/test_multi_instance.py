"""Several instances (issue 13): the emulator delivers by webhook to nginx (the example config's upstream, three
servers), nginx to three `complaint-bot run --webhook` processes on one PostgreSQL database. Scripted residents
file complaints and liaisons sign for and resolve them while one instance at a time is killed with kill -9 and
restarted; afterwards every confirmed ticket exists once, each chat's replies came in order, every owed message
was delivered (duplicates within the crash bound), no 429 under the emulator's Telegram-like flood limits, and
the sweep ran once per interval across the instances. Skipped, saying why, where PostgreSQL or nginx cannot
start. The bigger run: `python -m bench.chaos_bench --instances 3 --webhook --postgres`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg

from bench.chaos_invariants import Figures
from bench.chaos_run import ChaosPlan, run_chaos
from tests.e2e.nginx import running_nginx


def nginx_front(folder: Path):
    @contextlib.contextmanager
    def front(ports: list[int]) -> Iterator[str]:
        with running_nginx(folder, ports) as nginx:
            yield nginx.url

    return front


async def test_three_instances_behind_nginx_survive_kill_9(tmp_path: Path, pg_url: str) -> None:
    plan = ChaosPlan(residents=8, kills=3, seed=13, webhook=True, instances=3, flood_limits=True,
                     sweep_interval_s=3, kill_after_s=(1.0, 3.0), finish_within_s=60.0, linger_s=10.0)
    result = await run_chaos(plan, tmp_path / "run", database=pg_url, front=nginx_front(tmp_path / "nginx"))
    f: Figures = result.figures
    logs = "".join(f"\n--- {log.name}:\n{log.read_text()[-1500:]}"
                   for log in sorted((tmp_path / "run").glob("bot*.log")))
    report = "\n".join(f.lines()) + logs
    assert result.restarts >= 3, report
    assert f.drafts_at_kills > 0, report  # the kills landed while residents were filing
    assert f.confirmed == f.tickets == result.residents, report  # every confirmed ticket exists once
    assert not f.confirmed_missing and not f.tickets_unconfirmed and not f.filed_twice, report
    assert f.owed_text_rows and not f.undelivered, report  # every owed message delivered ...
    assert f.duplicates <= f.duplicate_bound, report  # ... duplicates within the crash bound
    assert not f.out_of_order, report
    assert f.flood_429 == 0, report
    # once per interval; an early run only right after a kill (the follower's takeover), none without one
    assert f.sweep_runs >= 3 and f.sweep_too_close <= f.kills and f.sweep_ok, report
    assert result.finished == result.residents and f.ok, report
    with psycopg.connect(pg_url) as conn:  # it came through nginx, by webhook, and all of it was processed
        states = dict(conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall())
        workers = conn.execute("SELECT COUNT(DISTINCT claimed_by) FROM inbox").fetchone()[0]
    assert states.get("done", 0) > 0 and not states.get("pending") and not states.get("failed"), states
    assert workers >= 3, workers  # the updates were processed by several instances (and their restarts)
    access = (tmp_path / "nginx" / "access.log").read_text()
    assert access.count("POST /telegram/webhook") >= states["done"]
