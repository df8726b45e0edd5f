"""Loading one big migration file (a `supabase db pull` dump is megabytes): time against size.

Rerun: .venv/bin/python bench/bench_parse.py [--sizes 0.5 1 2 5 10 50]
Each file is made of realistic statements (tables with constraints, indexes, policies,
functions with dollar-quoted bodies, comments) repeated to the size; loading is
`load_migrations` (read, split with libpg_query, line numbers, fingerprint). Linear means
the time per MB stays flat.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supadeploy.engine.migrations import load_migrations  # noqa: E402

BLOCK = """\
-- table {i}
create table public.t{i} (
  id uuid primary key default gen_random_uuid(),
  owner uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);
create index t{i}_owner_idx on public.t{i} (owner);
alter table public.t{i} enable row level security;
create policy "owner reads {i}" on public.t{i} for select to authenticated using (owner = (select auth.uid()));
create or replace function public.f{i}(x int) returns int language plpgsql as $$
begin
  -- a body with a ; inside
  return x + {i};
end
$$;
comment on table public.t{i} is 'table number {i}; with a semicolon';
"""


def make(path: Path, megabytes: float) -> int:
    target = int(megabytes * 1_000_000)
    parts, size, i = [], 0, 0
    while size < target:
        block = BLOCK.format(i=i)
        parts.append(block)
        size += len(block)
        i += 1
    path.write_text("".join(parts))
    return i * 6  # statements per block


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1, 2, 5, 10, 50])
    args = parser.parse_args()
    print("| file | statements | load time | per MB |\n|---:|---:|---:|---:|")
    for megabytes in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            statements = make(Path(folder) / "00000000000001_dump.sql", megabytes)
            start = time.perf_counter()
            loaded = load_migrations(Path(folder))
            assert loaded.migrations[0].fingerprint  # what the drift check and the log row need
            elapsed = time.perf_counter() - start
            assert len(loaded.migrations[0].statements) == statements
        print(f"| {megabytes:g} MB | {statements} | {elapsed:.2f} s | {elapsed / megabytes:.2f} s |")
    print(f"\nrerun: .venv/bin/python bench/bench_parse.py --sizes {' '.join(f'{s:g}' for s in args.sizes)}")


if __name__ == "__main__":
    main()
