import os
import uuid

from gateway.ids import uuid4_hex


def test_ids_are_version_4_uuids_in_hex() -> None:
    ids = {uuid4_hex() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(hex=text)
        assert parsed.hex == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_forked_child_makes_other_ids_than_its_parent() -> None:
    """Workers are forked: a child must not repeat its parent's sequence (a spend row's id
    is what makes a replayed row count once)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send ten ids and leave without running any cleanup
        os.write(writer, "".join(uuid4_hex() for _ in range(10)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as pipe:
        child = pipe.read()
    parent = "".join(uuid4_hex() for _ in range(10))
    assert len(child) == 320 and child != parent
    assert not {child[i : i + 32] for i in range(0, 320, 32)} & {
        parent[i : i + 32] for i in range(0, 320, 32)
    }
