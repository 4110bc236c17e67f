# Frontline in a container: a build stage with the toolchain, a slim non-root runtime.
FROM python:3.11-slim AS build
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY config config
COPY migrations migrations
RUN /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
COPY --from=build /opt/venv /opt/venv
RUN useradd --create-home --uid 10001 frontline && mkdir /data && chown frontline /data
USER frontline
WORKDIR /data
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FRONTLINE_DATABASE_URL=sqlite:////data/frontline.db
VOLUME ["/data"]
# Secrets (SLACK_BOT_TOKEN, DISCORD_TOKEN, ...) come from the environment at run time.
ENTRYPOINT ["frontline"]
CMD ["run"]
