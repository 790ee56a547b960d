"""The local PostgreSQL probe against the real server on 127.0.0.1:5432 (trust auth)."""

from __future__ import annotations

from tests.support.components import require_component, tcp_port_open
from tests.support.processes import free_port
from toolrelay.local_postgres import candidate_users, find_local_postgres


def test_finds_the_local_server_as_a_user_it_trusts() -> None:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    dsn = find_local_postgres()
    assert dsn is not None
    assert dsn.endswith("@127.0.0.1:5432/postgres")
    assert dsn.split("//")[1].split("@")[0] in candidate_users()


def test_nothing_listening_is_none() -> None:
    assert find_local_postgres(port=free_port()) is None


def test_postgres_user_is_always_a_candidate() -> None:
    assert candidate_users()[-1] == "postgres"
