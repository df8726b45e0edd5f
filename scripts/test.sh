#!/usr/bin/env bash
# Install everything the tests need (Debian PostgreSQL 15 + pgTAP, the package with
# its test extras in .venv) and run the test suite. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s postgresql-15 >/dev/null 2>&1 || need_apt+=(postgresql)
dpkg -s postgresql-15-pgtap >/dev/null 2>&1 || need_apt+=(postgresql-15-pgtap)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
