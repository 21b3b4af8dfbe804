"""What counts as a video file when a folder is ingested (Google Drive today, any listed store later).

A file is a video when its MIME type is `video/*` or its name ends in one of `VIDEO_EXTENSIONS`
(compared case-insensitively), so a clip a store typed `application/octet-stream` is still found.
Google Workspace types (Docs, Sheets, shortcuts, folders: `application/vnd.google-apps.*`) never are,
whatever their name says: they have no bytes to download. Only the files themselves are judged;
whether their contents really decode is the probe's business.
"""

from __future__ import annotations

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".qt",
        ".mkv",
        ".webm",
        ".avi",
        ".mpg",
        ".mpeg",
        ".m2v",
        ".vob",
        ".ts",
        ".mts",
        ".m2ts",
        ".flv",
        ".f4v",
        ".wmv",
        ".asf",
        ".3gp",
        ".3g2",
        ".ogv",
        ".mxf",
    }
)

GOOGLE_APPS_PREFIX = "application/vnd.google-apps."
FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"


def extension_of(name: str) -> str:
    """The lower-cased extension with its dot ('.mp4'), or '' when the name has none."""
    base = name.replace("\\", "/").rpartition("/")[2]
    _, dot, ext = base.rpartition(".")
    return f".{ext.lower()}" if dot and ext else ""


def is_google_type(mime_type: str | None) -> bool:
    """A Google Workspace item (Doc, Sheet, folder, shortcut...), which has no file content."""
    return bool(mime_type) and _essence(mime_type or "").startswith(GOOGLE_APPS_PREFIX)


def is_video(name: str, mime_type: str | None = None) -> bool:
    """Whether a listed file is a video: a video/* MIME type or a video extension, never a Google type."""
    if mime_type:
        essence = _essence(mime_type)
        if essence.startswith(GOOGLE_APPS_PREFIX):
            return False
        if essence.startswith("video/"):
            return True
    return extension_of(name) in VIDEO_EXTENSIONS


def _essence(mime_type: str) -> str:
    """'Video/MP4; codecs=avc1' -> 'video/mp4'."""
    return mime_type.partition(";")[0].strip().lower()
