#!/usr/bin/env python3
"""The province roll-up on Apache Spark (issue 20): the same report SQL and the same
cross-county checks as `pipeline province`, over the same exported files.

    python3 spark/province.py --data DATA --month 2026-10 --out OUT [--master local[2]] [--parallel 2]

DATA is what `pipeline export` wrote for every county (DATA/<table>/county=<code>/,
DATA/_county/<code>/macros-<month>.sql). For each county, in a Spark session of its
own (its own temp views, the SparkContext shared), every table is a view of its
partition and the report SQL (reports/_prelude.sql, then every table of the monthly
package but the lists) runs as written, translated by spark/dialect.py; --parallel
counties at a time, from as many threads. Then the cross-county checks
(reports/province/*.sql) run over all counties at once.

OUT/csv/<table>.csv: a `county` column, then the report's columns by name, raw
values (exact decimals, ISO dates), one row per county row, then the province's
totals row (全省合计) computed from the report's TOML as the pipeline does: sums,
counts and ratios of sums rounded half-up to 6 places. OUT/csv/cross_county.csv:
the findings. OUT/timing.csv: seconds per step. `pipeline province --spark OUT`
compares them with DuckDB's, to the fen.
"""

import argparse
import concurrent.futures
import csv
import datetime
import decimal
import os
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dialect  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PROVINCE_TOTAL = "全省合计"
# pipeline/reports/province.rs FINDING_COLUMNS, in order.
FINDING_COLUMNS = ["check_code", "id_number", "county", "person_no", "other_county",
                   "other_person_no", "month_from", "month_to", "amount_at_risk", "evidence"]
OWN_PRELUDES = ["month", "quarter", "year", "plan", "notice"]


def log(msg):
    print(msg, flush=True)


def load_reports(folder):
    """The monthly package's preludes and tables (no lists, none that says
    `province = false`), as the pipeline picks them."""
    preludes, reports = [], []
    for sql in sorted(folder.glob("*.sql")):
        stem = sql.stem
        if stem.startswith("_"):
            own = [n for n in OWN_PRELUDES if stem == f"_prelude_{n}"]
            if not own or own[0] == "month":
                preludes.append((sql, sql.read_text(encoding="utf-8")))
            continue
        meta_path = sql.with_suffix(".toml")
        if not meta_path.exists():
            continue
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
        if "month" not in meta.get("packages", ["month"]) or meta.get("list", False) \
                or not meta.get("province", True):
            continue
        reports.append((stem, sql.read_text(encoding="utf-8"), meta))
    return preludes, reports


def text(v):
    """A value as the comparison reads it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, decimal.Decimal):
        return format(v.normalize(), "f") if v != 0 else "0"
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return str(v)


def half_up(d, places):
    return d.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def number(v):
    if v is None or isinstance(v, (bool, str, datetime.date)):
        return None
    return decimal.Decimal(v)


def totals_row(columns, rows):
    """pipeline/reports/table.rs totals_row, for rows whose first cell is the county."""
    names = ["county"] + [c["name"] for c in columns]
    defs = [{"name": "county"}] + columns
    out = []
    for i, c in enumerate(defs):
        total = c.get("total")
        col_sum = lambda j: sum((number(r[j]) or decimal.Decimal(0)) for r in rows)  # noqa: E731
        if total == "sum":
            s = col_sum(i)
            out.append(int(half_up(s, 0)) if c.get("format") == "integer" else s)
        elif total == "count":
            out.append(len(rows))
        elif total:
            a, b = (names.index(x.strip()) for x in total.split("/"))
            n, d = col_sum(a), col_sum(b)
            out.append(None if d == 0 else half_up(n / d, 6))
        else:
            out.append(None)
    first_free = next(i for i, c in enumerate(defs) if not c.get("total"))
    out[first_free] = PROVINCE_TOTAL
    return out


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([text(v) for v in r])


def run_sql(spark, text_sql, macros, where, cached=None):
    """Runs a file's statements; returns the rows of its last query. Tables are
    cached, and listed in `cached` for the caller to unpersist."""
    rows = None
    for stmt in dialect.statements(text_sql):
        kind, name, sql = dialect.plan(stmt, macros)
        try:
            if kind in ("table", "view"):
                df = spark.sql(sql)
                if kind == "table":
                    df = df.cache()
                    if cached is not None:
                        cached.append(df)
                df.createOrReplaceTempView(name)
            elif kind == "query":
                rows = spark.sql(sql).collect()
        except Exception as e:  # the statement and Spark's reason, for the developer
            raise RuntimeError(f"{where}: {kind} {name or ''} failed on Spark:\n{sql}\n{e}") from e
    return rows


def county_package(root, data, tables, county, month, preludes, reports):
    """One county's tables by the report SQL, in a session of its own (its own temp
    views, so counties can run side by side on one SparkContext)."""
    t = time.time()
    spark = root.newSession()
    for name in tables:
        df = spark.read.parquet(str(data / name))
        df.where(df.county == county).drop("county").createOrReplaceTempView(name)
    macros = dialect.Macros()
    macros.load((data / "_county" / county / f"macros-{month}.sql").read_text(encoding="utf-8"))
    cached = []
    for path, sql in preludes:
        run_sql(spark, sql, macros, f"{path.name} ({county})", cached)
    results = {}
    for name, sql, meta in reports:
        rows = run_sql(spark, sql, macros, f"{name}.sql ({county})", cached)
        cols = [c["name"] for c in meta["columns"]]
        results[name] = [[county] + [r.asDict()[c] for c in cols] for r in rows or []]
    for df in cached:  # only this county's: another may still be running
        df.unpersist()
    seconds = time.time() - t
    log(f"county {county}: {len(preludes)} prelude(s), {len(reports)} tables in {seconds:.1f} s")
    return results, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--month", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--reports", type=Path, default=REPO / "reports")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--parallel", type=int, default=2,
                    help="counties computed at once (Spark jobs from several threads; at small "
                         "sizes the cost is planning, which runs on the driver)")
    ap.add_argument("--driver-memory", default=os.environ.get("PENSION_SPARK_DRIVER_MEMORY", "4g"),
                    help="local mode: the JVM's heap (the driver runs the executors too); "
                         "default $PENSION_SPARK_DRIVER_MEMORY or 4g (a 1M-person county needs 8g)")
    args = ap.parse_args()

    timing = []
    t0 = time.time()
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master(args.master).appName("pension-province")
             .config("spark.driver.memory", args.driver_memory)
             .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.ansi.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    timing.append(("start", time.time() - t0))

    data = args.data
    counties = sorted(p.name for p in (data / "_county").iterdir() if p.is_dir())
    tables = sorted(p.name for p in data.iterdir()
                    if p.is_dir() and not p.name.startswith(("_", ".")))
    preludes, reports = load_reports(args.reports)
    out_csv = args.out / "csv"
    out_csv.mkdir(parents=True, exist_ok=True)

    results = {name: [] for name, _, _ in reports}
    t = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        done = pool.map(lambda c: county_package(spark, data, tables, c, args.month, preludes, reports),
                        counties)
        for county, (rows, seconds) in zip(counties, done):  # in county order
            for name in results:
                results[name].extend(rows.get(name, []))
            timing.append((f"county {county}", seconds))
    timing.append((f"counties ({max(1, args.parallel)} at a time)", time.time() - t))

    for name, _, meta in reports:
        rows = results[name]
        if meta.get("totals"):
            rows = rows + [totals_row(meta["columns"], rows)]
        write_csv(out_csv / f"{name}.csv", ["county"] + [c["name"] for c in meta["columns"]], rows)

    t = time.time()
    for name in tables:
        spark.read.parquet(str(data / name)).createOrReplaceTempView(name)
    macros = dialect.Macros()
    y, m = (int(x) for x in args.month.split("-"))
    end = (datetime.date(y + m // 12, m % 12 + 1, 1) - datetime.timedelta(days=1))
    macros.load(f"CREATE MACRO report_month() AS DATE '{y:04}-{m:02}-01';\n"
                f"CREATE MACRO report_end() AS DATE '{end.isoformat()}';")
    findings = []
    for sql_path in sorted((args.reports / "province").glob("*.sql")):
        rows = run_sql(spark, sql_path.read_text(encoding="utf-8"), macros, sql_path.name)
        for r in rows or []:
            d = r.asDict()
            findings.append([sql_path.stem] + [d[c] for c in FINDING_COLUMNS[1:]])
    findings.sort(key=lambda r: tuple(text(v) for v in (r[0], r[1], r[2], r[4])))
    write_csv(out_csv / "cross_county.csv", FINDING_COLUMNS, findings)
    timing.append(("cross-county checks", time.time() - t))
    timing.append(("total", time.time() - t0))
    write_csv(args.out / "timing.csv", ["step", "seconds"], [(s, f"{x:.2f}") for s, x in timing])
    log(f"province on Spark: {len(counties)} counties, {len(reports)} tables, "
        f"{len(findings)} cross-county findings in {time.time() - t0:.1f} s → {args.out}")
    spark.stop()


if __name__ == "__main__":
    main()
