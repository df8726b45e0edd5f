#!/usr/bin/env bash
# Compile requirements.in into requirements.lock (every dependency pinned, with PyPI's hashes),
# using pip-tools in a throwaway virtualenv, against PyPI itself (no local pip configuration).
set -euo pipefail
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL  # PyPI only, whatever this machine configures
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
PIP_CONFIG_FILE=/dev/null "$work/venv/bin/pip" install -q --disable-pip-version-check pip-tools==7.6.2
{
  echo "# Runtime dependencies of the supadeploy image, pinned with hashes: \`pip install --require-hashes\`"
  echo "# refuses anything else, so two builds install the same bytes. Generated from requirements.in by"
  echo "# scripts/lock.sh; do not edit."
  PIP_CONFIG_FILE=/dev/null "$work/venv/bin/pip-compile" --quiet --generate-hashes --no-emit-index-url --no-emit-find-links \
    --strip-extras --allow-unsafe --no-header --index-url https://pypi.org/simple --output-file - requirements.in
} > "$work/requirements.lock"
mv "$work/requirements.lock" requirements.lock
echo "lock.sh: requirements.lock written ($(grep -c '==' requirements.lock) packages)"
