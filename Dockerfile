# Tandem on Airflow 3: one image for every Airflow role (api-server, scheduler, dag-processor,
# triggerer, Celery worker), Tandem's own commands and the sandbox peers.
# Built from the locked requirements only: `docker build -t tandem .`
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/tandem/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    TANDEM_HOME=/var/lib/tandem \
    PYTHONPATH=/opt/tandem

# psql for the init service, an SSH client for SFTP partners, curl for health probes,
# tini as PID 1 (signals reach Airflow, zombies are reaped)
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        curl libpq5 postgresql-client openssh-client tini \
    && rm -rf /var/lib/apt/lists/*

# Airflow's usual uid; group 0 so any uid the platform assigns can write its home
RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow \
    && mkdir -p /opt/airflow/logs /var/lib/tandem /opt/tandem \
    && chown -R 50000:0 /opt/airflow /var/lib/tandem \
    && chmod -R g+rwX /opt/airflow /var/lib/tandem

WORKDIR /opt/tandem

# dependencies first (a layer that changes only with the lock)
COPY requirements.lock ./
RUN pip install "uv>=0.4" \
    && uv pip install --system --compile-bytecode -r requirements.lock

COPY . .
RUN uv pip install --system --no-deps -e . \
    && python -m compileall -q canonical connectors mappings flows hub monitoring tandem dags

USER 50000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
