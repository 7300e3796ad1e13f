# Worker image: `dramatiq ingestion.actors` by default; the same image runs
# migrations (`ingestion migrate`) and the CLI.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ingestion ./ingestion
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UPLOADS_DIR=/data/uploads MIGRATIONS_DIR=/app/migrations
RUN useradd --create-home --uid 10001 ingestion && mkdir -p /data/uploads && chown -R ingestion /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY migrations ./migrations
USER ingestion
HEALTHCHECK --interval=30s --timeout=15s --retries=3 CMD ["ingestion", "health"]
CMD ["dramatiq", "ingestion.actors", "--processes", "2", "--threads", "4"]
