# One image for every toolrelay service: `toolrelay gateway|middleware|mcp NAME`.
# The `browser` target adds Chromium for the browser MCP server only, and the `node` target
# adds Node.js and npm for stdio MCP servers from npm run through the bridge
# (`toolrelay mcp bridge -- npx -y PACKAGE`), so the other services stay small.
# Every target runs as uid 10001 and works with a read-only root filesystem: the writable
# paths are /data (TOOLRELAY_HOME, npm's cache) and /tmp.

FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY gateway ./gateway
COPY middleware ./middleware
COPY mcp_servers ./mcp_servers
COPY common ./common
COPY toolrelay ./toolrelay
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /data --create-home toolrelay
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    TOOLRELAY_HOME=/data \
    PYTHONUNBUFFERED=1
USER toolrelay
WORKDIR /data
EXPOSE 4000 4001 8110 8111 8112 8113
ENTRYPOINT ["toolrelay"]
CMD ["gateway", "--config", "/etc/toolrelay/config.yaml", "--host", "0.0.0.0", "--port", "4000"]

FROM runtime AS browser
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation \
 && rm -rf /var/lib/apt/lists/*
USER toolrelay
CMD ["mcp", "browser", "--config", "/etc/toolrelay/config.yaml", "--host", "0.0.0.0", "--port", "8112"]

FROM runtime AS node
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && node --version && npm --version
# npx fetches packages into the cache under /data, the writable home.
ENV npm_config_cache=/data/.npm \
    npm_config_update_notifier=false \
    npm_config_fund=false
USER toolrelay
CMD ["mcp", "bridge", "--host", "0.0.0.0", "--port", "8120", "--", "npx", "-y", "@modelcontextprotocol/server-everything"]
