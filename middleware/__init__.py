"""toolrelay middleware: an OpenAI-compatible endpoint that runs MCP tools server-side.

    toolrelay middleware --config config.yaml [--host 127.0.0.1] [--port 4001]

It reads three sections of the (LiteLLM-format) config file:

    middleware_settings:
      gateway_url: http://127.0.0.1:4000   # where chat requests go (stream=false)
      max_iterations: 10                   # model calls with tool calls, then a final answer
      tool_timeout: 60                     # seconds per tool call (mcp_servers.X.timeout wins)
      inject_tools: auto                   # auto | always | never
      tool_models: null                    # glob patterns of models that get tools (null: all)
      no_tool_models: []                   # glob patterns of models that never get tools
      max_tool_result_chars: 20000         # longer text is cut; the whole of it gets a URL
      progress: true                       # stream Open WebUI <details> blocks per tool
      history_tool_blocks: rebuild         # rebuild | strip blocks found in history
      heartbeat_interval: 5                # SSE comment when nothing else was sent
      server_concurrency: 8                # calls in flight per server (X.max_concurrency wins)
      tools_list_ttl: 300                  # refresh tools/list at least this often
      health_check_interval: 15            # ping each connected server this often
      key_cache_ttl: 30                    # how long a key check through the gateway is reused
      public_url: null                     # base of /files URLs (default http://host:port)
      signing_secret: null                 # HMAC key for /files URLs (default: random)
    mcp_servers:
      postgres: {url: http://127.0.0.1:8110/mcp}
      legacy:   {url: http://127.0.0.1:9000/sse, transport: sse}
    storage: {backend: local}              # or s3: endpoint, bucket, access_key, secret_key

Per-key tool permissions come from the key's metadata (`mcp_servers`, `mcp_tools`); see
`middleware.permissions`.
"""
