# One image for every vidkiln process: `python -m services.<name>` or `python -m gateway`.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/vidkiln && /opt/vidkiln/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/vidkiln/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIDKILN_DATA_DIR=/var/lib/vidkiln
# The data directory exists, owned by the service user, so a fresh named volume mounted there
# inherits that ownership.
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/vidkiln --no-create-home vidkiln \
    && install -d -o vidkiln -g vidkiln -m 0750 /var/lib/vidkiln
COPY --from=build /opt/vidkiln /opt/vidkiln
USER vidkiln
WORKDIR /var/lib/vidkiln
EXPOSE 8080 50051
CMD ["python", "-m", "gateway"]
