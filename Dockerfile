# samplectl serve in a small image: wheels built in one stage, installed into a slim runtime as a non-root user.
#
#   docker build -t samplectl .
#   docker run --rm -p 127.0.0.1:8000:8000 -e SAMPLECTL_MONGODB_URI=... -e SAMPLECTL_DATABASE_URL=... samplectl
#
# The image runs `samplectl serve --host 0.0.0.0 --behind-proxy`: put a TLS-terminating proxy in front
# (docs/server.md), or mount a certificate and run `serve --certfile ... --keyfile ...` instead.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY samplectl ./samplectl
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SAMPLECTL_HOME=/var/lib/samplectl PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
RUN useradd --system --uid 10001 --home-dir /var/lib/samplectl --create-home --shell /usr/sbin/nologin samplectl \
    && chmod 0700 /var/lib/samplectl
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels samplectl && rm -rf /wheels
USER samplectl:samplectl
WORKDIR /var/lib/samplectl
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
ENTRYPOINT ["samplectl"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--behind-proxy"]
