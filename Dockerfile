# ks-engine: one image for every component. The command picks the component:
#   ks api | ks intake | ks relay | ks project   (see docker-compose.yml)
# Build: docker build -t ks-engine .

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY adapters ./adapters
COPY ks_engine ./ks_engine
COPY entrypoints ./entrypoints
RUN pip install --no-cache-dir --root-user-action=ignore --prefix=/install '.[postgres]'

FROM python:3.11-slim
# libpq: psycopg (the PostgreSQL event store) links against it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin ks \
    && mkdir -p /var/lib/ks-engine \
    && chown ks:ks /var/lib/ks-engine
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KS_DATA_DIR=/var/lib/ks-engine \
    KS_LOG_FORMAT=json
USER ks
WORKDIR /var/lib/ks-engine
VOLUME ["/var/lib/ks-engine"]
ENTRYPOINT ["ks"]
CMD ["--help"]
