"""Run the real Open WebUI (from its own venv) as a process, and talk to its HTTP API."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import free_port, wait_until_healthy

START_TIMEOUT = 240.0  # about 20 s when the machine is idle; it imports torch and friends
# Environment variables Open WebUI would pick up from the developer's shell and that would
# point it at our databases or caches; it gets a minimal environment instead.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")


@dataclass
class OpenWebUI:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the process group Open WebUI leads (uvicorn may fork helpers), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@contextmanager
def running_open_webui(
    executable: Path,
    *,
    data_dir: Path,
    log_dir: Path,
    openai_base_url: str,
    openai_api_key: str,
    extra_env: dict[str, str] | None = None,
) -> Iterator[OpenWebUI]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env["PATH"] = f"{executable.parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        HOST="127.0.0.1",
        OFFLINE_MODE="true",
        HF_HUB_OFFLINE="1",
        ENABLE_OLLAMA_API="false",
        WEBUI_AUTH="false",
        OPENAI_API_BASE_URL=openai_base_url,
        OPENAI_API_KEY=openai_api_key,
        DATA_DIR=str(data_dir),
        WEBUI_SECRET_KEY=secrets.token_hex(16),
        **(extra_env or {}),
    )
    log_path = log_dir / f"open-webui-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=data_dir,
            start_new_session=True,
        )
    service = OpenWebUI(process, port, log_path)
    try:
        try:
            wait_until_healthy(f"{service.url}/health", process, START_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            tail = "\n".join(service.log().splitlines()[-60:])
            raise RuntimeError(f"Open WebUI did not start: {exc}\nlog tail:\n{tail}") from None
        yield service
    finally:
        stop_process_group(process)


class OpenWebUIClient:
    """Open WebUI's own API, called the way its Svelte frontend calls it."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=60.0)
        # With WEBUI_AUTH=false any sign-in becomes the single admin@localhost user.
        response = self._http.post("/api/v1/auths/signin", json={"email": "", "password": ""})
        response.raise_for_status()
        self.token: str = response.json()["token"]
        self.user_id: str = response.json()["id"]
        self._http.headers["Authorization"] = f"Bearer {self.token}"

    def close(self) -> None:
        self._http.close()

    def hide_changelog(self) -> None:
        """A new admin gets a modal changelog over the chat page; the browser test needs none."""
        response = self._http.post(
            "/api/v1/users/user/settings/update", json={"ui": {"showChangelog": False}}
        )
        response.raise_for_status()

    def model_ids(self) -> list[str]:
        response = self._http.get("/api/models")
        response.raise_for_status()
        return [model["id"] for model in response.json()["data"]]

    def start_chat(self, model: str, prompt: str, session_id: str) -> str:
        """Send the first message of a new chat as the UI does; returns the new chat's id.

        A `session_id` makes Open WebUI run the turn in the background (as for a browser
        tab), save it in the chat, add its built-in tools and run the title, tags and
        follow-up tasks: exactly the requests a UI chat makes.
        """
        user_id, assistant_id = str(uuid.uuid4()), str(uuid.uuid4())
        user_message = {
            "id": user_id,
            "parentId": None,
            "childrenIds": [assistant_id],
            "role": "user",
            "content": prompt,
            "timestamp": int(time.time()),
            "models": [model],
        }
        body = {
            "stream": True,
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "params": {},
            "tool_ids": [],
            # What the UI's getFeatures() sends by default; `memory` adds 8 memory tools.
            "features": {
                "voice": False,
                "image_generation": False,
                "code_interpreter": False,
                "web_search": False,
                "memory": True,
            },
            "variables": {},
            "session_id": session_id,
            "id": assistant_id,
            "parent_id": None,
            "user_message": user_message,
            "background_tasks": {
                "title_generation": True,
                "tags_generation": True,
                "follow_up_generation": True,
            },
        }
        response = self._http.post("/api/chat/completions", json=body)
        response.raise_for_status()
        answer = response.json()
        assert answer.get("status") is True, answer
        return str(answer["chat_id"])

    def chat(self, chat_id: str) -> dict[str, Any]:
        response = self._http.get(f"/api/v1/chats/{chat_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait_for_chat(
        self, chat_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        chat = self.chat(chat_id)
        while not done(chat):
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat {chat_id} not as expected after {timeout}s: {chat}")
            time.sleep(0.2)
            chat = self.chat(chat_id)
        return chat


def assistant_messages(chat: dict[str, Any]) -> list[dict[str, Any]]:
    messages = chat["chat"]["history"]["messages"].values()
    return [message for message in messages if message.get("role") == "assistant"]
