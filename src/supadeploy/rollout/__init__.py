"""Roll out to a fleet: the same migrations to many Supabase projects, in waves.

- `fleet`: the fleet file (YAML, waves of project refs or `all`), validated with file and line;
- `projects`: `GET /v1/projects` and the waves resolved against it;
- `scheduler`: waves in order, `max_parallel` at once, the stop rules, a result per project;
- `pacer`: the process-wide rate-limit pacer every Management API client shares;
- `matrix`: a wave as GitHub Actions matrix shards (`--github-matrix`, `--shard I/N`);
- `status`: where the fleet stands, one row per project.

The `rollout` command and its reporting are wired onto these later.
"""

from __future__ import annotations
