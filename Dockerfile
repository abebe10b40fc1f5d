# syntax=docker/dockerfile:1
# Build stage: compile wheels for the project and its dependencies (asyncpg, brotli, lxml need
# a compiler on some platforms); the runtime stage gets only the installed virtualenv.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir .

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
# Migrations are found in the working directory when the package is installed as a wheel.
COPY --chown=news alembic.ini ./
COPY --chown=news migrations ./migrations
COPY --chown=news seeds ./seeds
USER news
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["news-ingest", "serve", "--host", "0.0.0.0", "--port", "8000"]
