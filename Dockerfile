# Frontline in a container: a build stage with the toolchain, a slim non-root runtime.
FROM python:3.11-slim AS build
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY config config
COPY migrations migrations
# pip and setuptools are not needed at run time: leaving them out keeps the image small.
RUN /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall --yes --quiet setuptools pip

FROM python:3.11-slim
COPY --from=build /opt/venv /opt/venv
RUN useradd --create-home --uid 10001 frontline && mkdir /data && chown frontline /data
USER frontline
WORKDIR /data
# The ops endpoints listen on all interfaces inside the container; publish the port only
# where Prometheus and the orchestrator can reach it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FRONTLINE_DATABASE_URL=sqlite:////data/frontline.db \
    FRONTLINE_OPS_HOST=0.0.0.0 \
    FRONTLINE_OPS_PORT=9000
VOLUME ["/data"]
# 9000: /healthz and /metrics. 3000: Slack HTTP mode (`run --http --port 3000`), which
# serves /healthz and /metrics itself: set FRONTLINE_HEALTH_URL=http://127.0.0.1:3000/healthz.
EXPOSE 9000 3000
# No curl in slim images: the interpreter asks. A 503 or no answer is unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen(os.environ.get('FRONTLINE_HEALTH_URL') or 'http://127.0.0.1:%s/healthz' % os.environ.get('FRONTLINE_OPS_PORT', '9000'), timeout=4)"]
# Secrets (SLACK_BOT_TOKEN, DISCORD_TOKEN, ...) come from the environment at run time.
ENTRYPOINT ["frontline"]
CMD ["run"]
