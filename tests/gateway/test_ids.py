import uuid

from gateway.ids import uuid4_hex


def test_ids_are_version_4_uuids_in_hex() -> None:
    ids = {uuid4_hex() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(hex=text)
        assert parsed.hex == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
