# supadeploy GitHub Action image. Published prebuilt to ghcr.io by .github/workflows/release.yml;
# a job that uses the Dockerfile instead rebuilds it, so layers change least-often first.
# Debian 12 and its own Python 3.11: every byte of the base comes from Debian's archive
# (scripts/debian-base.sh rebuilds it where Docker Hub cannot be reached; docs/container.md).

# --- build: Python dependencies (hash-checked), the local replay's PostgreSQL 15 and 17 with their
#     real extensions (pgvector, hypopg, PostGIS on 15: pinned, sha256-checked; supadeploy's own
#     `platform prepare`, which also hard-links the libraries both majors bundle). The builds' cache
#     copies are dropped (their `.ready` stamps stay, so a run as root never fetches them again).
FROM docker.io/library/debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 SUPADEPLOY_CACHE=/opt/supadeploy/cache
# gcc/libc6-dev build pgvector for PostgreSQL 15 against Debian's server headers (unpacked, not installed)
# and libproj's two stand-in libraries for PostGIS; they never reach the final image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3=3.11.2-1+b1 python3-venv=3.11.2-1+b1 \
       ca-certificates gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /tmp/requirements.lock
# The CA bundle is a build secret (a network that re-signs TLS needs it); it is never stored.
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock \
    && /opt/venv/bin/pip uninstall -y -q pip setuptools
COPY src /opt/supadeploy/src
COPY entrypoint.py /opt/supadeploy/entrypoint.py
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
    && PYTHONPATH=/opt/supadeploy/src /opt/venv/bin/python -m supadeploy.platform prepare 15 17 \
    && rm -rf /opt/supadeploy/cache/downloads \
    && find /opt/supadeploy/cache/extensions -mindepth 3 -maxdepth 3 ! -name .ready -exec rm -rf {} + \
    && chmod -R a+rX /opt/supadeploy /opt/venv

# --- the image: Debian's Python, the venv, supadeploy's source and its cached PostgreSQL.
FROM docker.io/library/debian:bookworm-slim
# libnss-wrapper: initdb needs a passwd entry, and `docker run --user 1001` has none.
# ca-certificates follows Debian's security updates, so it is not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3=3.11.2-1+b1 libnss-wrapper=1.1.12-1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/opt/supadeploy/src \
    SUPADEPLOY_CACHE=/opt/supadeploy/cache PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/supadeploy /opt/supadeploy
ENTRYPOINT ["/opt/venv/bin/python", "/opt/supadeploy/entrypoint.py"]
