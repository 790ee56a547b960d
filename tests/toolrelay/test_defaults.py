"""What `toolrelay up` offers depends only on the environment it finds."""

from __future__ import annotations

from pathlib import Path

from toolrelay.defaults import Ports, embedded_defaults, stored_master_key


def test_models_follow_provider_keys_and_local_ollama() -> None:
    result = embedded_defaults({"ANTHROPIC_API_KEY": "x"}, ollama=["llama3.2:3b"])
    names = {
        entry["model_name"]: entry["litellm_params"]["model"]
        for entry in result.config["model_list"]
    }
    assert names["claude-sonnet-4-5"] == "anthropic/claude-sonnet-4-5"
    assert names["llama3.2:3b"] == "ollama_chat/llama3.2:3b"
    assert not any(model.startswith("openai/") for model in names.values())
    assert any("OPENAI_API_KEY" in note for note in result.missing)
    api_key = result.config["model_list"][0]["litellm_params"]["api_key"]
    assert api_key == "os.environ/ANTHROPIC_API_KEY"  # the key itself never lands in the file


def test_nothing_configured_still_gives_fetch_and_says_why_not_more(tmp_path: Path) -> None:
    env = {"TOOLRELAY_CHROMIUM": str(tmp_path / "no-such-browser")}
    result = embedded_defaults(env, ollama=[])
    assert result.available == []
    assert result.mcp_servers == ["fetch"]
    assert {note.split(":")[0] for note in result.mcp_skipped} == {"browser", "postgres", "storage"}


def test_optional_servers_follow_their_settings(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("")
    env = {
        "TOOLRELAY_CHROMIUM": str(browser),
        "MCP_POSTGRES_DSN": "postgresql://x",
        "S3_ENDPOINT": "http://s3",
    }
    result = embedded_defaults(env, ports=Ports(mcp_base=9000), ollama=[])
    assert result.mcp_servers == ["fetch", "browser", "postgres", "storage"]
    urls = {name: entry["url"] for name, entry in result.config["mcp_servers"].items()}
    assert urls == {
        "fetch": "http://127.0.0.1:9001/mcp",
        "browser": "http://127.0.0.1:9002/mcp",
        "postgres": "http://127.0.0.1:9000/mcp",
        "storage": "http://127.0.0.1:9003/mcp",
    }
    assert result.config["mcp_server_settings"]["browser"] == {"executable_path": str(browser)}


def test_master_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = stored_master_key(tmp_path)
    assert first.startswith("sk-") and len(first) > 20
    assert stored_master_key(tmp_path) == first
    assert (tmp_path / "master_key").stat().st_mode & 0o077 == 0


def test_s3_from_the_environment_serves_storage_and_artifacts() -> None:
    env = {"MINIO_ENDPOINT": "http://minio:9000", "MINIO_ROOT_USER": "u", "S3_SECRET_KEY": "s"}
    result = embedded_defaults(env, ollama=[])
    assert "storage" in result.mcp_servers
    assert result.config["storage"] == {
        "backend": "s3",
        "bucket": "mcp-storage",
        "endpoint": "os.environ/MINIO_ENDPOINT",
        "access_key": "os.environ/MINIO_ROOT_USER",
        "secret_key": "os.environ/S3_SECRET_KEY",
    }
    # Keys without an endpoint describe no store: artifacts stay local.
    assert embedded_defaults({"S3_ACCESS_KEY": "u"}, ollama=[]).config["storage"] == {
        "backend": "local"
    }


def test_a_local_postgres_is_used_and_named_unless_a_dsn_is_set() -> None:
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    found = embedded_defaults({}, ollama=[], local_postgres=local)
    assert found.config["mcp_server_settings"]["postgres"] == {"dsn": local}
    assert f"postgres: local PostgreSQL {local}" in found.chosen
    explicit = embedded_defaults({"MCP_POSTGRES_DSN": "postgresql://x"}, local_postgres=local)
    assert explicit.config["mcp_server_settings"]["postgres"] == {
        "dsn": "os.environ/MCP_POSTGRES_DSN"
    }
