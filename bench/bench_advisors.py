"""Advisors' cost: the one query, the parse-tree ledger and the attribution, on WellTrack and on 1,000 migrations.

Rerun: .venv/bin/python bench/bench_advisors.py [--runs 7] [--count 1000] [--major 17] [--api --latency 0.1] [--e2e]
A local PostgreSQL set up like a hosted project (supadeploy.platform) replays the migrations
as `postgres`, one transaction per file (not measured); then, median of --runs:
  query       the 26 lints in one request (query.run) on a direct connection;
  ledger      every file's statements read into the ledger (Ledger.of; the files are loaded once,
              as a deploy has them already);
  attribute   each finding to its file and line.
With --api, the same query through the loopback Management API twin (the real postgres-meta,
--latency seconds added per request, like a round trip to api.supabase.com): time and requests.
With --e2e, the commands as a pull request runs them, through the twin (--latency added per request), on a
production that has every file but the last: `supadeploy plan` (history, the PostgREST config, the dry run
with the advisors inside it, production's findings) and `supadeploy advise`: time and requests; and what the
advisors add to the dry run's one transaction (the same text with and without the probe, direct connection).
The 1,000 generated files are shaped like a grown project: tables with foreign keys (some
without an index), row level security and policies (some calling auth.uid() bare), functions
(some security definer, some without search_path), views, grants on every table of a schema.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

import psycopg  # noqa: E402

from supadeploy.checks.advisors import Ledger, all_lints, attribute, run  # noqa: E402
from supadeploy.engine.migrations import Migration, load_migrations  # noqa: E402
from supadeploy.platform import binaries  # noqa: E402
from supadeploy.platform.cluster import Cluster, server_user  # noqa: E402
from supadeploy.targets.postgres import PostgresTarget  # noqa: E402

TOKEN = "sbp_" + "cd" * 20
REF = "advisorsbenchadvisor"

SHAPES = (
    # a table owned by a user, with a foreign key to the previous table (indexed every other time)
    """create table public.t{i} (
  id bigint generated always as identity primary key,
  owner uuid not null references auth.users (id) on delete cascade,
  parent_id bigint references public.t{p} (id),
  title text not null,
  created_at timestamptz not null default now()
);
{index}alter table public.t{i} enable row level security;
create policy "t{i} owner reads" on public.t{i} for select to authenticated using (owner = {uid});
create policy "t{i} owner writes" on public.t{i} for insert to authenticated with check (owner = (select auth.uid()));
""",
    # a function, sometimes a security definer RPC, sometimes without search_path
    """create or replace function public.f{i}(target bigint, note text default null) returns bigint
language plpgsql {security} {path}as $$
begin
  update public.t{p} set title = coalesce(note, title) where id = target;
  return target;
end
$$;
""",
    # a view over the last table, sometimes security invoker
    """create view public.v{i} {invoker}as select id, title from public.t{p} where created_at > now() - interval '7 days';
""",
    # a column and an index on an existing table, a grant
    """alter table public.t{p} add column score{i} integer not null default 0;
create index t{p}_score{i}_idx on public.t{p} (score{i});
grant select on public.t{p} to anon;
""",
    # policies changed, a schema-wide grant now and then
    """drop policy if exists "t{p} owner reads" on public.t{p};
create policy "t{p} owner reads" on public.t{p} for select to authenticated
  using (owner = (select auth.uid()) or created_at > now() - interval '1 day');
{grant}""",
)


def generate(folder: Path, count: int) -> None:
    """`count` migration files; every fifth one starts a table the next four use."""
    table = 0
    for i in range(count):
        shape = i % len(SHAPES)
        if shape == 0:
            previous, table = table, i
        text = SHAPES[shape].format(
            i=i, p=table if shape else previous if i else 0,
            index=f"create index t{i}_parent_idx on public.t{i} (parent_id);\n" if i % 10 else "",
            uid="auth.uid()" if i % 3 == 0 else "(select auth.uid())",
            security="security definer" if i % 7 == 1 else "", path="set search_path = '' " if i % 4 else "",
            invoker="with (security_invoker) " if i % 3 else "",
            grant="grant select on all tables in schema public to authenticated;\n" if i % 50 == 4 else "")
        if i == 0:
            text = text.replace("  parent_id bigint references public.t0 (id),\n", "  parent_id bigint,\n")
        (folder / f"{i + 1:06d}_step_{i}.sql").write_text(text)


def replay(dsn: str, migrations: list[Migration]) -> float:
    start = time.perf_counter()
    for migration in migrations:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            for statement in migration.statements:
                conn.execute(statement.text.encode())
    return time.perf_counter() - start


def median(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def measure(cluster: Cluster, name: str, migrations: list[Migration], args: argparse.Namespace) -> dict[str, Any]:
    cluster.create_database(name)
    dsn = cluster.dsn(name)
    replayed = replay(dsn, migrations)
    target = PostgresTarget(dsn)
    query_time, found = median(args.runs, lambda: run(target, ("public", "graphql_public")))
    target.close()
    ledger_time, ledger = median(args.runs, lambda: Ledger.of(migrations))
    attribute_time, blamed = median(args.runs, lambda: attribute(found, ledger, all_lints()))
    row = {"files": len(migrations), "statements": sum(len(m.statements) for m in migrations),
           "findings": len(found), "attributed": sum(1 for f in blamed if f.where), "replay": replayed,
           "query": query_time, "ledger": ledger_time, "attribute": attribute_time}
    if args.api:
        row.update(through_api(dsn, args))
    return row


def through_api(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    from supadeploy.targets.api import ApiLimits, ApiTarget
    from support.api_twin import ApiTwin
    from support.postgres_meta import PostgresMeta

    meta = PostgresMeta().start()
    try:
        with ApiTwin(dsn, TOKEN, meta, REF, limit=10**6, latency=args.latency) as twin:
            target = ApiTarget(REF, TOKEN, twin.url, ApiLimits(per_minute=10**6))
            elapsed, _ = median(args.runs, lambda: run(target, ("public", "graphql_public")))
            target.close()
            return {"api": elapsed, "requests": twin.stats()["requests"] / args.runs}
    finally:
        meta.stop()


def cli_json(argv: list[str]) -> dict[str, Any]:
    """Run the CLI in-process, quietly; its JSON report."""
    import contextlib
    import io
    import json

    from supadeploy.cli import main as cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli(argv)
    return json.loads(out.getvalue())


def end_to_end(cluster: Cluster, name: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from supadeploy.checks.advisors.probe import DeployProbe
    from supadeploy.engine.requests import Settings, deploy_transaction
    from supadeploy.targets.base import QueryError
    from support.api_twin import ApiTwin
    from support.postgres_meta import PostgresMeta

    migrations = list(load_migrations(folder).migrations)
    cluster.create_database(name)
    dsn = cluster.dsn(name)
    common = ["--migrations-dir", str(folder), "--format", "json"]
    cli_json(["deploy", "--db-url", dsn, "--target-version", migrations[-2].version, "--yes", "--no-assertions",
              *common])
    target = PostgresTarget(dsn)
    settings = Settings("sd_bench", "2s", "5min")

    def dry_run(probe: DeployProbe | None) -> None:
        text = deploy_transaction(migrations[-1:], settings, "5s", dry_run=True, create_history=False, cursor=None,
                                  probe=probe).text
        try:
            target.run(text, safe_to_resend=True)
        except QueryError as error:
            assert error.sqlstate == "SD002", error
    without, _ = median(args.runs, lambda: dry_run(None))
    with_probe, _ = median(args.runs, lambda: dry_run(DeployProbe(lambda: ("public", "graphql_public"), True)))
    target.close()
    meta = PostgresMeta().start()
    try:
        with ApiTwin(dsn, TOKEN, meta, REF, limit=10**6, latency=args.latency) as twin:
            api = ["--project-ref", REF, "--access-token", TOKEN, "--api-url", twin.url]
            plan_time, plan = median(args.runs, lambda: cli_json(["plan", *api, "--max-advisor-level", "none",
                                                                  "--no-assertions", *common]))
            advise_time, advise = median(args.runs, lambda: cli_json(["advise", *api, "--max-advisor-level", "none",
                                                                      *common]))
    finally:
        meta.stop()
    statuses = [a["status"] for a in plan.get("advisors", [])]
    return {"files": len(migrations), "dry_run": without, "probe": with_probe - without, "plan": plan_time,
            "plan_requests": plan["round_trips"], "new": statuses.count("new"),
            "in_production": statuses.count("in production"), "advise": advise_time,
            "advise_requests": advise["round_trips"], "advise_findings": len(advise.get("advisors", []))}


def print_end_to_end(rows: list[tuple[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    print(f"\nCommands through the API twin (+{args.latency:g} s per request), production = every file but the "
          f"last, median of {args.runs}\n")
    print("| migrations | dry run alone | + the advisors inside it | `plan` (requests) | new / in production "
          "| `advise` (requests) | findings |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, row in rows:
        print(f"| {label} | {row['dry_run'] * 1000:.0f} ms | +{row['probe'] * 1000:.0f} ms | "
              f"{row['plan']:.2f} s ({row['plan_requests']}) | {row['new']} / {row['in_production']} | "
              f"{row['advise']:.2f} s ({row['advise_requests']}) | {row['advise_findings']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--major", type=int, default=17)
    parser.add_argument("--api", action="store_true")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--e2e", action="store_true")
    args = parser.parse_args()
    welltrack = list(load_migrations(REPO / "migrations").migrations)
    rows, e2e = [], []
    with Cluster(binaries.ensure(args.major), server_user()) as cluster, tempfile.TemporaryDirectory() as tmp:
        rows.append(("WellTrack", measure(cluster, "bench_welltrack", welltrack, args)))
        generate(Path(tmp), args.count)
        rows.append((f"{args.count} generated", measure(cluster, "bench_generated",
                                                        list(load_migrations(Path(tmp)).migrations), args)))
        if args.e2e:
            e2e.append(("WellTrack", end_to_end(cluster, "bench_e2e_welltrack", REPO / "migrations", args)))
            e2e.append((f"{args.count} generated", end_to_end(cluster, "bench_e2e_generated", Path(tmp), args)))
    api = f" | API twin (+{args.latency:g} s) | requests" if args.api else ""
    print(f"PostgreSQL {args.major}, median of {args.runs}\n")
    print(f"| migrations | files | statements | findings | attributed | query | ledger | attribute{api} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.api else ""))
    for label, row in rows:
        extra = f" | {row['api'] * 1000:.0f} ms | {row['requests']:g}" if args.api else ""
        print(f"| {label} | {row['files']} | {row['statements']} | {row['findings']} | {row['attributed']} | "
              f"{row['query'] * 1000:.0f} ms | {row['ledger'] * 1000:.0f} ms | {row['attribute'] * 1000:.1f} ms"
              f"{extra} |")
    print("\n(replay, not part of the advisors: " + ", ".join(f"{label} {row['replay']:.1f} s" for label, row in rows)
          + ")")
    if e2e:
        print_end_to_end(e2e, args)
    print(f"\nrerun: .venv/bin/python bench/bench_advisors.py --runs {args.runs} --count {args.count} "
          f"--major {args.major}" + (f" --api --latency {args.latency:g}" if args.api else "")
          + (" --e2e" if args.e2e else ""))


if __name__ == "__main__":
    main()
