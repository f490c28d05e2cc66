"""Building the media parts of messages (photos, documents, stickers, voice) and storing their files."""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from PIL import Image

from sandbox.errors import bad_request
from sandbox.media import NotAnImage, photo_sizes
from sandbox.state import JSON, State, StoredFile

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def store_photo(state: State, data: bytes) -> list[JSON]:
    """Re-encode an uploaded image and return its PhotoSize list, small to large."""
    try:
        sizes = photo_sizes(data)
    except NotAnImage:
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    stored: list[StoredFile] = []
    for width, height, jpeg in sizes:
        stored.append(state.add_file(jpeg, "photos", "jpg", {"width": width, "height": height,
                                                                "file_size": len(jpeg)}, mime_type="image/jpeg"))
    ids = [s.file_id for s in stored]
    for s in stored:
        s.siblings = ids
    return [state.api_file(s) for s in stored]


def photo_from_file_id(state: State, file_id: str) -> list[JSON]:
    stored = state.file(file_id)
    if not stored.siblings:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return [state.api_file(state.files[f]) for f in stored.siblings]


def store_document(state: State, data: bytes, file_name: str | None, mime_type: str | None) -> JSON:
    """Keep the bytes exactly as sent (a document is never re-encoded, EXIF included)."""
    name = file_name or "document"
    mime = mime_type if mime_type and mime_type != "application/octet-stream" else (
        mimetypes.guess_type(name)[0] or "application/octet-stream")
    ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
    stored = state.add_file(data, "documents", ext, {"file_name": name, "mime_type": mime, "file_size": len(data)},
                            mime_type=mime, file_name=name)
    return state.api_file(stored)


def document_from_file_id(state: State, file_id: str) -> JSON:
    stored = state.file(file_id)
    if stored.siblings:  # a photo re-sent as a document keeps its largest size
        stored = state.files[stored.siblings[-1]]
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": "photo.jpg",
                "mime_type": "image/jpeg", "file_size": len(stored.data)}
    return state.api_file(stored)


def store_sticker(state: State, emoji: str | None) -> JSON:
    buf = io.BytesIO()
    Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(buf, format="WEBP")
    meta: dict[str, Any] = {"width": 512, "height": 512, "is_animated": False, "is_video": False,
                            "type": "regular", "file_size": buf.tell()}
    if emoji:
        meta["emoji"] = emoji
    return state.api_file(state.add_file(buf.getvalue(), "stickers", "webp", meta, mime_type="image/webp"))


def store_voice(state: State, duration: int) -> JSON:
    data = b"OggS" + bytes(256)
    meta = {"duration": duration, "mime_type": "audio/ogg", "file_size": len(data)}
    return state.api_file(state.add_file(data, "voice", "oga", meta, mime_type="audio/ogg"))


def file_for_download(state: State, file_id: str) -> JSON:
    stored = state.file(file_id)
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data),
            "file_path": stored.path}
