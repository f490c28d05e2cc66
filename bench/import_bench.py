"""Importing a hotline ledger: a generated 12345 ledger (CSV in GB18030 and .xlsx) of mostly finished cases,
a few open ones and a few hundred bad rows, through the example mapping, into fresh databases.

    python -m bench.import_bench                      # 100,000 rows
    python -m bench.import_bench --rows 20000 --bad 60

Figures: rows/s of the whole import per format and of its finished (historical) rows alone, the summary, the
re-import (everything known); baselines in the same run: a bare csv.reader pass over the same file, and a bare
executemany of the same ticket rows into a fresh database's tickets table (its indexes and summary triggers
included: the floor of writing them). Writes bench/results/import.json. Not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.cli_import import import_file, mapping_for  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MAPPING = ROOT / "examples" / "import" / "fy12345.mapping.toml"
HEADER = ["工单编号", "来电时间", "诉求内容", "诉求地址", "诉求类别", "承办单位", "办理状态", "办结时间", "办理结果",
          "满意度"]
CATEGORIES = ["物业管理", "市容环卫", "噪音扰民", "市政设施", "道路交通", "劳动保障", "教育", "环境保护", "医疗卫生",
              "其他", "城市管理", "房产物业"]
UNITS = ["颍州区政府", "颍泉区政府", "颍东区政府", "界首市", "临泉县", "太和县", "阜南县", "颍上县", "市城市管理局",
         "市教育局", "市交通运输局"]
RATINGS = ["满意"] * 6 + ["基本满意"] * 2 + ["不满意", "未评价"]
TEXTS = ["小区电梯坏了一个星期，物业一直不修，老人上下楼很困难。", "路口垃圾桶满了三天没人清运，气味很大。",
         "晚上十一点后工地还在施工，噪音扰民。", "学校门口早晚高峰交通拥堵，希望增派交警疏导。",
         "公司拖欠工资三个月，希望劳动监察部门介入。", "路灯坏了很久，晚上出行不安全。"]
BAD_KINDS = ("missing id", "bad time", "unknown category", "unknown unit", "too long", "unknown state")


def generate(rows: int, bad: int, open_cases: int, seed: int = 7) -> list[list[str]]:
    """The ledger's rows (header first): a year of cases, ``open_cases`` still open, ``bad`` broken ones."""
    rnd = random.Random(seed)
    start = datetime(2025, 1, 1, 8, 0)
    out: list[list[str]] = [HEADER]
    bad_at = set(rnd.sample(range(rows), bad))
    open_at = set(rnd.sample(sorted(set(range(rows)) - bad_at), open_cases))
    for i in range(rows):
        received = start + timedelta(minutes=i * 525_600 / rows, seconds=rnd.randrange(60))
        finished = received + timedelta(hours=rnd.uniform(2, 200))
        fmt = "%Y-%m-%d %H:%M:%S" if i % 3 else "%Y/%m/%d %H:%M"
        row = [f"FY{received:%Y%m%d}{i:07d}", received.strftime(fmt), rnd.choice(TEXTS), f"阜阳市某路{i % 500}号",
               rnd.choice(CATEGORIES), rnd.choice(UNITS), rnd.choice(["已办结", "已回访", "已归档"]),
               finished.strftime("%Y-%m-%d %H:%M:%S"), "已处理并答复群众。", rnd.choice(RATINGS)]
        if i % 97 == 0:
            row[6], row[5], row[9] = "不予受理", "", ""
        if i in open_at:
            row[6], row[7], row[8], row[9] = "办理中", "", "", ""
        if i in bad_at:
            kind = BAD_KINDS[len(out) % len(BAD_KINDS)]
            if kind == "missing id":
                row[0] = ""
            elif kind == "bad time":
                row[1] = "2025年13月1日"
            elif kind == "unknown category":
                row[4] = "外星人入侵"
            elif kind == "unknown unit":
                row[5] = "火星管理局"
            elif kind == "too long":
                row[2] = "很长" * 1000
            else:
                row[6] = "神秘状态"
        out.append(row)
    return out


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    for row in rows:
        ws.append(row)
    wb.save(path)


def csv_reader_pass(path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, encoding="gb18030", newline="") as f:
        n = sum(1 for _ in csv.reader(f))
    return (n - 1) / (time.perf_counter() - t0)


def bare_executemany(source_db: Path, empty_db: Path, drop_triggers: bool = False) -> tuple[float, int]:
    """Copy the import's finished ticket rows, as built, into a fresh migrated tickets table in one executemany
    (with ``drop_triggers``, on a scratch copy without the report summaries' triggers: what they cost)."""
    src = sqlite3.connect(source_db)
    cols = [r[1] for r in src.execute("PRAGMA table_info(tickets)")]
    rows = src.execute("SELECT * FROM tickets WHERE state != 'dispatched' AND state != 'registered'").fetchall()
    src.close()
    dst = sqlite3.connect(empty_db, isolation_level=None)
    dst.execute("PRAGMA foreign_keys=OFF")
    if drop_triggers:
        for (name,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets' "
                                   "AND name LIKE '%insert'").fetchall():
            dst.execute(f"DROP TRIGGER {name}")
    t0 = time.perf_counter()
    dst.execute("BEGIN")
    dst.executemany(f"INSERT INTO tickets({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    dst.execute("COMMIT")
    seconds = time.perf_counter() - t0
    dst.close()
    return len(rows) / seconds, len(rows)


async def _migrated(path: Path) -> None:
    from storage.db import Database

    db = await Database.open(path)
    await db.close()


def one_import(config, db: Path, file: Path, mapping) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    clock.set(datetime(2026, 1, 5, 2, 0).astimezone())
    t0 = time.perf_counter()
    result = asyncio.run(import_file(config, db, file, mapping, clock=clock))
    return time.perf_counter() - t0, result


def summary(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    reasons: dict[str, int] = {}
    for r in result.refused:
        key = r.reason.split(" '")[0].split(" (")[0].split(" of ")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return {"rows": result.rows, "open": result.open, "finished": result.finished, "known": result.known,
            "refused": len(result.refused), "refused_by_reason": reasons,
            "first_refusals": [f"line {r.line}: {r.reason[:80]}" for r in result.refused[:5]]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--bad", type=int, default=300)
    p.add_argument("--open", type=int, default=200, help="cases still open (each a use-case: routed, carded)")
    p.add_argument("--output", type=Path, default=RESULTS / "import.json")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    config = load_config(ROOT / "config.example.toml")
    mapping = mapping_for(config, MAPPING)
    rows = generate(args.rows, args.bad, args.open)
    csv_path, xlsx_path = work / "ledger.csv", work / "ledger.xlsx"
    write_csv(csv_path, rows)
    write_xlsx(xlsx_path, rows)
    del rows
    out: dict[str, object] = {
        "rows": args.rows, "bad": args.bad, "open": args.open, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
        "xlsx_mb": round(xlsx_path.stat().st_size / 1e6, 1),
    }

    base = {"csv_reader_rows_per_s": round(csv_reader_pass(csv_path))}
    for name, file in (("csv", csv_path), ("xlsx", xlsx_path)):
        db = work / f"{name}.sqlite3"
        asyncio.run(_migrated(db))
        seconds, result = one_import(config, db, file, mapping)
        out[name] = {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds), "summary": summary(result)}
        print(f"{name}: {args.rows} rows in {seconds:.1f} s = {args.rows / seconds:,.0f} rows/s; {summary(result)}")
    seconds, again = one_import(config, work / "csv.sqlite3", csv_path, mapping)
    out["reimport_csv"] = {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                           "summary": summary(again)}
    print(f"re-import: {seconds:.1f} s, imported {again.imported}, skipped as known {again.known}")

    historical = generate(args.rows, args.bad, 0)
    hist_csv = work / "historical.csv"
    write_csv(hist_csv, historical)
    del historical
    db = work / "historical.sqlite3"
    asyncio.run(_migrated(db))
    seconds, result = one_import(config, db, hist_csv, mapping)
    out["historical_csv"] = {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                             "summary": summary(result)}
    print(f"historical only (CSV): {args.rows / seconds:,.0f} rows/s")
    empty = work / "empty.sqlite3"
    asyncio.run(_migrated(empty))
    rate, n = bare_executemany(db, empty)
    base["executemany_rows_per_s"] = round(rate)
    base["executemany_rows"] = n
    scratch = work / "scratch.sqlite3"
    asyncio.run(_migrated(scratch))
    base["executemany_without_summary_triggers_rows_per_s"] = round(bare_executemany(db, scratch, True)[0])
    out["baseline"] = base
    print(f"baselines: csv.reader {base['csv_reader_rows_per_s']:,} rows/s; bare executemany of the ticket rows "
          f"{rate:,.0f} rows/s ({base['executemany_without_summary_triggers_rows_per_s']:,} rows/s without the "
          "summary triggers)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"results in {args.output}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
