from __future__ import annotations

import pytest

from bench.rawhttp import BlockingClient, ProtocolError, ResponseParser, build_request
from bench.targets import chat_request
from testing.fake_upstream.runner import serve_in_thread


def test_build_request_sets_length_and_host() -> None:
    raw = build_request("POST", "/v1/x", "127.0.0.1:9", b'{"a":1}', {"authorization": "Bearer k"})
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1/x HTTP/1.1"
    assert "Host: 127.0.0.1:9" in lines
    assert "Content-Length: 7" in lines
    assert "authorization: Bearer k" in lines
    assert body == b'{"a":1}'


def test_parser_frames_content_length_across_feeds() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Le") == b""
    assert parser.feed(b"ngth: 5\r\n\r\nhel") == b"hel"
    assert not parser.done
    assert parser.feed(b"lo") == b"lo"
    assert parser.done
    assert parser.status == 200
    assert bytes(parser.body) == b"hello"


def test_parser_decodes_chunked_bodies_and_trailers() -> None:
    parser = ResponseParser()
    framed = parser.feed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata:\r\n3;ext=1\r\n ab\r\n"
    )
    assert framed == b"data: ab"
    assert not parser.done
    parser.feed(b"0\r\nx-trailer: 1\r\n\r\n")
    assert parser.done
    assert bytes(parser.body) == b"data: ab"


def test_parser_notices_connection_close() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    assert parser.done
    assert not parser.keep_alive


def test_parser_rejects_garbage() -> None:
    with pytest.raises(ProtocolError):
        ResponseParser().feed(b"SSH-2.0-OpenSSH\r\n\r\n")
    parser = ResponseParser()
    with pytest.raises(ProtocolError):
        parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


def test_blocking_client_reuses_its_connection_and_times_stream_events() -> None:
    with serve_in_thread() as url:
        port = int(url.rsplit(":", 1)[1])
        client = BlockingClient("127.0.0.1", port)
        try:
            first = client.request(chat_request(port, "size-200"))
            events: list[float] = []
            second = client.request(chat_request(port, "fixed", stream=True), events)
        finally:
            client.close()
    assert first.status == 200
    assert b'"object":"chat.completion"' in first.body
    assert second.status == 200
    assert len(events) == bytes(second.body).count(b"data:") > 2
    assert events == sorted(events)
