"""What a file is: its content type (declared, else from its name) and its category."""

from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata

from protos.ingest.v1 import files_pb2

TYPE_NAMES: dict[files_pb2.FileType.ValueType, str] = {
    files_pb2.FILE_TYPE_VIDEO: "video",
    files_pb2.FILE_TYPE_AUDIO: "audio",
    files_pb2.FILE_TYPE_IMAGE: "image",
    files_pb2.FILE_TYPE_DOCUMENT: "document",
    files_pb2.FILE_TYPE_OTHER: "other",
}
TYPE_VALUES = {name: value for value, name in TYPE_NAMES.items()}
OCTET_STREAM = "application/octet-stream"

_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# Python's own table (never the host's /etc/mime.types, so every machine answers alike), plus media it lacks.
_TYPES = mimetypes.MimeTypes()
for _ext, _type in {
    ".mkv": "video/x-matroska",
    ".m4v": "video/mp4",
    ".ts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".flv": "video/x-flv",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".aac": "audio/aac",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".avif": "image/avif",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".epub": "application/epub+zip",
    ".md": "text/markdown",
}.items():
    _TYPES.add_type(_type, _ext)

_DOCUMENTS = frozenset(
    {
        "application/pdf",
        "application/rtf",
        "application/msword",
        "application/epub+zip",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
    }
)
_DOCUMENT_PREFIXES = ("text/", "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.")


def clean_filename(raw: str) -> str:
    """The name's last path segment, without control characters, at most 255 characters; else "file"."""
    name = posixpath.basename(raw.replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] if name not in ("", ".", "..") else "file"


def content_type_of(declared: str, filename: str) -> str:
    """The declared type when it says something, else the one the name suggests, else octet-stream."""
    declared = declared.split(";", 1)[0].strip().lower()
    if _CONTENT_TYPE.fullmatch(declared) and declared != OCTET_STREAM:
        return declared
    guessed, _ = _TYPES.guess_type(filename, strict=False)
    return guessed or OCTET_STREAM


def file_type_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    if major in ("video", "audio", "image"):
        return major
    if content_type in _DOCUMENTS or content_type.startswith(_DOCUMENT_PREFIXES):
        return "document"
    return "other"
