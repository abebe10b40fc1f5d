# syntax=docker/dockerfile:1
# Build stage: the dependencies' wheels (asyncpg, brotli, lxml need a compiler on some platforms)
# in a layer of their own, then the project; the runtime stage gets only the virtualenv.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip
WORKDIR /src
# Dependencies from pyproject.toml alone: this layer is rebuilt when pyproject.toml changes,
# not on every change to the code.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
# Then the project; its wheel carries the migrations and the seed OPML (tools/build_wheel_data.py).
COPY README.md MANIFEST.in ./
COPY tools ./tools
COPY migrations ./migrations
COPY seeds ./seeds
COPY app ./app
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NEWS_INGEST_HOST=0.0.0.0 \
    NEWS_INGEST_PORT=8000 \
    DATABASE_URL=sqlite+aiosqlite:////data/news-ingest.db
RUN useradd --system --uid 10001 --home-dir /srv/news-ingest --create-home news \
    && mkdir -p /data && chown news /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/news-ingest
USER news
VOLUME ["/data"]
EXPOSE 8000
# Asks the API on the port it was configured with (NEWS_INGEST_PORT, NEWS_INGEST_HOST) for
# /readyz: database reachable, schema current. Worker containers turn it off (compose.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["news-ingest", "healthcheck"]
# Host and port come from NEWS_INGEST_HOST/NEWS_INGEST_PORT. `serve` migrates on start and runs
# the workers too; a scaled-out deployment runs `migrate`, `api` and `worker` (compose.yaml).
CMD ["news-ingest", "serve"]
