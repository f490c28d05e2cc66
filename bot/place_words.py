"""A shared or EXIF point in words for people: "颍州区 · 阜阳站附近" / "Yingzhou District · near Fuyang Railway
Station" (the zone from the city's polygons, the nearest named place from ``bot.domain.whereabouts``).

Used by the resident's summary, the unit's card and ``/status``; a typed or picked place is shown as it is.
"""

from __future__ import annotations

from html import escape

from bot.config import City
from bot.texts import Texts


def point_in_words(texts: Texts, lang: str, city: City, lat: float, lon: float) -> str:
    """HTML-safe words for the point; the city's name when neither a zone nor a place is known."""
    where = city.whereabouts(lat, lon)
    zone = escape(city.unit(where.zone).name(lang)) if where.zone else None
    near = escape(city.place(where.near).name(lang)) if where.near else None
    if zone and near:
        return texts.get(lang, "where.zone_near", zone=zone, place=near)
    if zone:
        return zone
    if near:
        return texts.get(lang, "where.near", place=near)
    return texts.get(lang, "where.in_city", city=escape(city.name(lang)))
