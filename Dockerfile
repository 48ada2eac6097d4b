# The DMS server image: trytond 8.0 with the project modules and sao.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        nodejs npm postgresql-client build-essential \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/dms
COPY requirements.txt pyproject.toml README.md ./
COPY addons ./addons
COPY scripts ./scripts
COPY config ./config
RUN pip install --no-cache-dir -r requirements.txt uwsgi \
    && pip install --no-cache-dir .

# sao: the package's files with its node_modules beside them
RUN mkdir -p /tmp/sao && cd /tmp/sao \
    && npm install --no-audit --no-fund 'tryton-sao@~8.0' \
    && mkdir -p /opt/dms/sao \
    && cp -r node_modules/tryton-sao/. /opt/dms/sao/ \
    && mv node_modules /opt/dms/sao/node_modules \
    && rm -rf /opt/dms/sao/node_modules/tryton-sao /tmp/sao

# the portal's npm assets (charts, camera scanning): served by trytond
RUN mkdir -p /opt/dms/portal && cd /opt/dms/portal \
    && npm install --no-audit --no-fund 'chart.js@^4' '@zxing/browser@^0.2'

# dms-setup: create or upgrade the database with every project module
RUN printf '#!/bin/sh\nset -e\nexec python /opt/dms/scripts/setup_db.py -c /opt/dms/config/production.conf -d dms --no-demo "$@"\n' \
        > /usr/local/bin/dms-setup && chmod +x /usr/local/bin/dms-setup

RUN useradd --system --home /var/lib/trytond trytond \
    && mkdir -p /var/lib/trytond && chown trytond /var/lib/trytond
USER trytond
EXPOSE 8000
