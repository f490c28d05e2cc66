"""The intake's photo step: pictures and albums added to the draft, pictures sent as files checked and re-encoded
(their EXIF location offered when none was given), an album's tally kept in the database until it is
acknowledged once. Part of :class:`bot.workflow.intake.Intake`, which supplies the draft bookkeeping.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.domain import geo
from bot.domain.intake import Step
from bot.domain.photos import CheckedImage, ImageRejected, check_image
from bot.workflow.common import Refused, WorkflowDeps
from storage import drafts
from storage.records import Draft, Photo

IMAGE_MIME_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class AddedPhotos:
    """What one picture (or, from `album_settled`, one whole album) did to the draft."""

    draft: Draft
    added: int
    ignored: int  # over the configured maximum
    location_from_exif: bool
    #: A picture's EXIF point lay outside the city while the draft had no location: the resident is told so.
    exif_outside: bool = False


class PictureChecks:
    """The checks every picture a resident sends goes through (the intake's photo step, material added later):
    a file must say it is an image of a fitting size before it is downloaded, then it is checked and re-encoded
    (``bot.domain.photos``)."""

    d: WorkflowDeps

    def check_document(self, mime_type: str | None, file_name: str | None, file_size: int | None) -> None:
        """Before downloading a file sent as a picture: Refused unless it says it is an image of a fitting size."""
        name = (file_name or "").lower()
        if (mime_type or "") not in IMAGE_MIME_TYPES and not name.endswith(IMAGE_SUFFIXES):
            raise Refused("photo.document_not_image")
        if file_size is not None and file_size > self.d.config.intake.max_image_bytes:
            raise self.too_big()

    def check_stored_size(self, file_size: int | None) -> None:
        """After getFile, before reading a byte: the size of the stored file must be known and fitting. (The
        message's own file_size is optional; a local Bot API server serves files up to 2 GB, and the download
        reads the whole file into memory.)"""
        if file_size is None:
            raise Refused("photo.size_unknown")
        if file_size > self.d.config.intake.max_image_bytes:
            raise self.too_big()

    def too_big(self) -> Refused:
        """The refusal for a file over the size limit (also when Telegram says it is too big to download)."""
        return Refused("photo.too_big_bytes", max_mb=self.d.config.intake.max_image_bytes // (1024 * 1024))

    async def check_document_image(self, data: bytes) -> CheckedImage:
        """Check and re-encode a downloaded picture (in a thread: decoding is slow); Refused names the reason."""
        cfg = self.d.config.intake
        try:
            return await asyncio.to_thread(check_image, data, max_bytes=cfg.max_image_bytes,
                                           max_pixels=cfg.max_image_pixels)
        except ImageRejected as rejected:
            raise Refused(f"photo.{rejected.reason}", max_mb=cfg.max_image_bytes // (1024 * 1024)) from None


class PhotoSteps(PictureChecks):

    def _remember(self, user_id: int, draft: Draft | None) -> Draft | None:
        raise NotImplementedError

    async def add_photos(self, user_id: int, photos: list[Photo], gps: tuple[float, float] | None) -> AddedPhotos:
        """Add one message's photos up to the maximum; a photo's EXIF point fills the location when none was
        given. Photos of an album also add to its pending tally (see the module's docstring)."""
        limit = self.d.config.intake.max_photos
        now = self.d.clock.now()
        bounds = self.d.config.city.bounds

        def tx(c: sqlite3.Connection) -> AddedPhotos:
            draft = drafts.get(c, user_id)
            if draft is None or draft.step != Step.PHOTOS:
                raise Refused("intake.photo_not_expected")
            room = max(0, limit - draft.photo_count)
            for photo in photos[:room]:
                drafts.add_photo(c, user_id, photo)
            from_exif = outside = False
            if gps and not draft.has_location and geo.valid_coordinates(*gps):
                if bounds.contains(*gps):
                    drafts.update(c, user_id, now, lat=gps[0], lon=gps[1], location_source="exif")
                    from_exif = True
                else:
                    outside = True
            ignored = max(0, len(photos) - room)
            for album in {p.media_group_id for p in photos if p.media_group_id}:
                drafts.note_album(c, user_id, album, ignored, from_exif, now)
            draft = drafts.update(c, user_id, now)
            return AddedPhotos(draft, min(room, len(photos)), ignored, from_exif, outside)

        added = await self.d.db.write(tx)
        self._remember(user_id, added.draft)
        return added

    async def album_settled(self, user_id: int, media_group_id: str, since: datetime | None = None
                            ) -> AddedPhotos | None:
        """No more pictures of the album came (after the one this timer was set for at `since`): its whole tally,
        to acknowledge once, and its pending row is dropped. None if the draft is gone or has left the photo step
        (nothing to acknowledge), the album was acknowledged already, or a later picture came (its own timer,
        maybe in another instance, acknowledges)."""

        def tx(c: sqlite3.Connection) -> AddedPhotos | None:
            draft = drafts.get(c, user_id)
            if draft is None or draft.step != Step.PHOTOS:
                return None
            # With several instances each one that took a picture of the album set a timer: the album is
            # acknowledged once (by the first timer after its last picture), never before its last picture.
            waiting, noted_at = drafts.album_noted_at(c, user_id, media_group_id)
            if not waiting or (since is not None and noted_at is not None and noted_at > since):
                return None
            album = drafts.album(c, user_id, media_group_id)
            drafts.forget_album(c, user_id, media_group_id)
            return AddedPhotos(draft, album.added, album.ignored, album.location_from_exif)

        return await self.d.db.write(tx)

    async def add_document_image(self, user_id: int, data: bytes, file_unique_id: str | None,
                                 media_group_id: str | None) -> AddedPhotos:
        """A picture sent as a file: checked, kept as our own EXIF-free copy, its EXIF point offered as location."""
        checked = await self.check_document_image(data)
        photo = Photo(0, "document", None, file_unique_id, checked.data, checked.width, checked.height,
                      media_group_id)
        return await self.add_photos(user_id, [photo], checked.gps)
