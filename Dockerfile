# kgsm-bot image. Build: docker build -t kgsm-bot .   (see README "Docker")
# PYTHON_IMAGE: any Debian-like image with python3 and its venv module (default: the official slim image).
ARG PYTHON_IMAGE=python:3.12-slim

# --- dependencies in a virtual environment, installed before the code is copied (cached across code changes)
FROM ${PYTHON_IMAGE} AS dependencies
RUN python3 -m venv /opt/kgsm-bot
COPY requirements.txt /tmp/requirements.txt
RUN /opt/kgsm-bot/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt

# --- the runtime image
FROM ${PYTHON_IMAGE}
# UID/GID of the user the bot runs as: match them to the KGSM side of the shared socket directory.
ARG UID=10001
ARG GID=10001
RUN groupadd --gid "${GID}" kgsm-bot \
    && useradd --uid "${UID}" --gid "${GID}" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kgsm-bot \
    && mkdir -p /run/kgsm-bot /data \
    && chown kgsm-bot:kgsm-bot /run/kgsm-bot /data
COPY --from=dependencies /opt/kgsm-bot /opt/kgsm-bot
WORKDIR /app
COPY bot ./bot
COPY cogs ./cogs
ENV PATH=/opt/kgsm-bot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KGSM_SOCKET_PATH=/run/kgsm-bot/kgsm-events.sock \
    BOT_DATA_DIR=/data \
    BOT_HTTP_HOST=0.0.0.0 \
    BOT_HTTP_PORT=8080
VOLUME ["/run/kgsm-bot", "/data"]
EXPOSE 8080
USER kgsm-bot
# Uses the bot's own `health` command (standard library only): no curl or wget in the image.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "-m", "bot", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
