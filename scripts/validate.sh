#!/usr/bin/env bash
# Validate the GitHub Action's files offline: action.yml and the workflows against
# GitHub's schemas (bundled in check-jsonschema), the Dockerfile with hadolint,
# the workflows with zizmor (no high-severity finding allowed). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[lint]'

.venv/bin/check-jsonschema --builtin-schema vendor.github-actions action.yml
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
.venv/bin/hadolint Dockerfile
.venv/bin/zizmor --offline --min-severity high .github/workflows
echo "validators: action.yml, workflows, Dockerfile: ok"
