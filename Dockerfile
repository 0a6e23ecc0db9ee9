# giftbot container image.
#   docker build -t giftbot .
#   docker run -d --name giftbot -e DISCORD_TOKEN -v giftbot-data:/data giftbot
# The builder turns the project into a wheel and installs it into a venv; the runtime image gets
# only that venv, so no build tools, sources or pip caches ship.

FROM python:3.11.14-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage

RUN python -m venv /opt/giftbot \
    && python -m pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/giftbot/bin/pip install /wheels/giftbot-*.whl


FROM python:3.11.14-slim-bookworm

LABEL org.opencontainers.image.title="giftbot" \
      org.opencontainers.image.description="A TikTok-LIVE-style coin economy for Discord communities." \
      org.opencontainers.image.licenses="MIT"

# A fixed, unprivileged user that owns nothing but the database volume.
RUN groupadd --system --gid 10001 giftbot \
    && useradd --system --no-log-init --uid 10001 --gid giftbot \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin giftbot \
    && mkdir /data \
    && chown giftbot:giftbot /data

COPY --from=builder /opt/giftbot /opt/giftbot

ENV PATH="/opt/giftbot/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIFTBOT_DATABASE_PATH=/data/giftbot.sqlite3

# The token comes from the environment at run time (-e DISCORD_TOKEN), never from the image.
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]

# `docker stop` sends SIGINT, which giftbot handles by closing Discord and the database cleanly
# (as PID 1, Python would ignore the default SIGTERM until Docker kills it).
STOPSIGNAL SIGINT

# No HEALTHCHECK: the bot serves no port to probe, and it exits on a fatal error, so a restart
# policy (`--restart unless-stopped`) is the right supervisor.
ENTRYPOINT ["giftbot"]
CMD ["run"]
