"""Half-filled complaints. The draft row is the truth of where a resident is in the intake."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.records import Draft, Photo, from_db, to_db

_FIELDS = ("step", "editing", "category", "lat", "lon", "location_source", "place_key", "place_text",
           "description", "caller_phone", "caller_name")


def _draft(row: sqlite3.Row, photo_count: int) -> Draft:
    return Draft(
        user_id=row["user_id"], id=row["id"], step=row["step"], editing=bool(row["editing"]),
        category=row["category"], lat=row["lat"], lon=row["lon"], location_source=row["location_source"],
        place_key=row["place_key"], place_text=row["place_text"], description=row["description"],
        photo_count=photo_count, created_at=from_db(row["created_at"]), updated_at=from_db(row["updated_at"]),
        channel=row["channel"], caller_phone=row["caller_phone"], caller_name=row["caller_name"],
    )


def get(conn: sqlite3.Connection, user_id: int) -> Draft | None:
    row = conn.execute(
        "SELECT d.*, (SELECT count(*) FROM draft_photos p WHERE p.user_id = d.user_id) AS n "
        "FROM drafts d WHERE d.user_id = ?",
        (user_id,),
    ).fetchone()
    return _draft(row, row["n"]) if row else None


def create(conn: sqlite3.Connection, user_id: int, draft_id: str, step: str, now: datetime,
           channel: str = "telegram") -> Draft:
    """Start a fresh draft, replacing any earlier one (and its photos); ``channel`` hotline: an operator's call."""
    delete(conn, user_id)
    t = to_db(now)
    conn.execute(
        "INSERT INTO drafts(user_id, id, step, created_at, updated_at, channel) VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, draft_id, step, t, t, channel),
    )
    return get(conn, user_id)  # type: ignore[return-value]


def update(conn: sqlite3.Connection, user_id: int, now: datetime, **fields: Any) -> Draft:
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise ValueError(f"not draft fields: {sorted(unknown)}")
    sets = "".join(f"{k} = ?, " for k in fields)
    conn.execute(
        f"UPDATE drafts SET {sets}updated_at = ? WHERE user_id = ?",
        (*fields.values(), to_db(now), user_id),
    )
    return get(conn, user_id)  # type: ignore[return-value]


def delete(conn: sqlite3.Connection, user_id: int) -> None:
    conn.execute("DELETE FROM draft_albums WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM draft_photos WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))


def add_photo(conn: sqlite3.Connection, user_id: int, photo: Photo) -> int:
    """Append a photo; returns its position (1-based)."""
    position = conn.execute(
        "SELECT coalesce(max(position), 0) + 1 FROM draft_photos WHERE user_id = ?", (user_id,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO draft_photos(user_id, position, source, file_id, file_unique_id, data, width, height, "
        "media_group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, position, photo.source, photo.file_id, photo.file_unique_id, photo.data, photo.width,
         photo.height, photo.media_group_id),
    )
    return int(position)


def clear_photos(conn: sqlite3.Connection, user_id: int) -> None:
    conn.execute("DELETE FROM draft_albums WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM draft_photos WHERE user_id = ?", (user_id,))


def photos(conn: sqlite3.Connection, user_id: int) -> list[Photo]:
    rows = conn.execute(
        "SELECT position, source, file_id, file_unique_id, data, width, height, media_group_id "
        "FROM draft_photos WHERE user_id = ? ORDER BY position",
        (user_id,),
    ).fetchall()
    return [Photo(**dict(r)) for r in rows]


# -- albums: what one media group did to the draft, until it is acknowledged ---------------------------------

@dataclass(frozen=True)
class Album:
    media_group_id: str
    added: int  # the draft's photos from this album (counted from draft_photos)
    ignored: int  # its pictures over the limit, not stored
    location_from_exif: bool


def note_album(conn: sqlite3.Connection, user_id: int, media_group_id: str, ignored: int, from_exif: bool,
               now: datetime | None = None) -> None:
    """Add one picture's outcome to the album's pending row (created by the album's first picture), noting when."""
    conn.execute(
        "INSERT INTO draft_albums(user_id, media_group_id, ignored, location_from_exif, noted_at) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id, media_group_id) DO UPDATE SET ignored = draft_albums.ignored + excluded.ignored, "
        "location_from_exif = CASE WHEN excluded.location_from_exif > draft_albums.location_from_exif "
        "THEN excluded.location_from_exif ELSE draft_albums.location_from_exif END, noted_at = excluded.noted_at",
        (user_id, media_group_id, ignored, int(from_exif), to_db(now) if now else None),
    )


def album_noted_at(conn: sqlite3.Connection, user_id: int, media_group_id: str) -> tuple[bool, datetime | None]:
    """Whether the album still waits for its acknowledgement, and when its last picture was noted."""
    row = conn.execute("SELECT noted_at FROM draft_albums WHERE user_id = ? AND media_group_id = ?",
                       (user_id, media_group_id)).fetchone()
    return (row is not None, from_db(row["noted_at"]) if row else None)


def album(conn: sqlite3.Connection, user_id: int, media_group_id: str) -> Album:
    """The album's tally so far (zeros for an album this draft has no trace of)."""
    added = conn.execute(
        "SELECT count(*) FROM draft_photos WHERE user_id = ? AND media_group_id = ?", (user_id, media_group_id)
    ).fetchone()[0]
    row = conn.execute(
        "SELECT ignored, location_from_exif FROM draft_albums WHERE user_id = ? AND media_group_id = ?",
        (user_id, media_group_id),
    ).fetchone()
    return Album(media_group_id, int(added), int(row["ignored"]) if row else 0,
                 bool(row["location_from_exif"]) if row else False)


def forget_album(conn: sqlite3.Connection, user_id: int, media_group_id: str) -> None:
    """The album was acknowledged: drop its pending row (its photos stay)."""
    conn.execute("DELETE FROM draft_albums WHERE user_id = ? AND media_group_id = ?", (user_id, media_group_id))
