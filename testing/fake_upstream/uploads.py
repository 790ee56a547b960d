"""`multipart/form-data` request bodies (OpenAI's audio uploads), parsed strictly.

The fake parses with the standard library's MIME parser, not the multipart library the
gateway uses, so a gateway that writes a broken form is caught rather than read back by the
same code that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

MULTIPART = "multipart/form-data"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    name: str  # the form field
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Upload:
    """A parsed form: text fields (in order, repeats kept) and files."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[UploadedFile] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def file(self, name: str) -> UploadedFile | None:
        return next((f for f in self.files if f.name == name), None)

    def summary(self) -> dict[str, Any]:
        """What the recorder keeps: the fields, and each file's name, type and size."""
        out: dict[str, Any] = {}
        for key, value in self.fields:
            if key.endswith("[]"):  # a repeated field: OpenAI's `timestamp_granularities[]`
                out.setdefault(key, []).append(value)
            else:
                out[key] = value
        for upload in self.files:
            out[upload.name] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return out


class UploadError(ValueError):
    pass


def is_multipart(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == MULTIPART


def parse_upload(content_type: str, raw: bytes) -> Upload:
    """Raise `UploadError` naming what is wrong with the form."""
    if "boundary=" not in content_type:
        raise UploadError("multipart/form-data without a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if message.defects or not message.is_multipart():
        found = ", ".join(type(d).__name__ for d in message.defects) or "no parts"
        raise UploadError(f"malformed multipart body ({found})")
    upload = Upload()
    for part in message.iter_parts():
        upload_part(upload, part)
    return upload


def upload_part(upload: Upload, part: Message) -> None:
    if part.get_content_disposition() != "form-data":
        raise UploadError("a part without Content-Disposition: form-data")
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise UploadError("a part without a field name")
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename()
    if filename is None:
        upload.fields.append((name, data.decode("utf-8")))
        return
    upload.files.append(UploadedFile(name, filename, part.get_content_type(), data))
