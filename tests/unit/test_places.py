"""Typed place names: normalisation, exact and contained matches, ranked candidates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.places import MAX_QUERY_CHARS, PlaceMatch, PlaceName, match_place, normalize

STATION = PlaceName("fy_station", ("阜阳火车站", "阜阳站", "Fuyang Railway Station"))
PARK = PlaceName("renmin_park", ("人民公园", "People's Park"))
HOSPITAL = PlaceName("renmin_hospital", ("阜阳市人民医院", "人民医院", "Fuyang People's Hospital"))
YINGZHOU = PlaceName("yingzhou", ("颍州区", "Yingzhou District"))
YINGDONG = PlaceName("yingdong", ("颍东区", "Yingdong District"))
YINGQUAN = PlaceName("yingquan", ("颍泉区", "Yingquan District"))
PLACES = (STATION, PARK, HOSPITAL, YINGZHOU, YINGDONG, YINGQUAN)


def exact(key: str) -> PlaceMatch:
    return PlaceMatch(exact=key, candidates=())


# --- normalize ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("阜阳 火车站。", "阜阳火车站"),
        ("《阜阳火车站》，北广场！", "阜阳火车站北广场"),
        ("「人民公园」、东门（南侧）", "人民公园东门南侧"),
        ("ＦＵＹＡＮＧ　Ｓｔａｔｉｏｎ", "fuyangstation"),
        ("People's Park", "peoplespark"),
        ("Straße", "strasse"),
        ("\t\n ", ""),
        ("…——·", ""),
        ("1号楼-2单元", "1号楼2单元"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


# --- exact -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("阜阳火车站", "fy_station"),
        ("阜阳站", "fy_station"),
        ("fuyang railway station", "fy_station"),
        ("FUYANG  RAILWAY-STATION!", "fy_station"),
        ("  人民公园。", "renmin_park"),
        ("peoples park", "renmin_park"),
        ("人民医院", "renmin_hospital"),
        ("颍州区", "yingzhou"),
    ],
)
def test_a_name_or_alias_is_exact(text: str, key: str) -> None:
    assert match_place(text, PLACES) == exact(key)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("阜阳火车站北广场门口", "fy_station"),
        ("在颍州区清河路上", "yingzhou"),
        ("人民公园东门的路灯不亮", "renmin_park"),
        ("near Fuyang Railway Station, north exit", "fy_station"),
    ],
)
def test_a_text_containing_exactly_one_name_is_exact(text: str, key: str) -> None:
    assert match_place(text, PLACES) == exact(key)


def test_a_name_inside_a_longer_matched_name_does_not_compete() -> None:
    city = PlaceName("fuyang", ("阜阳",))
    # "阜阳" and "阜阳火车站" are both in the text; the longer hit wins.
    assert match_place("阜阳火车站北广场", (*PLACES, city)) == exact("fy_station")
    assert match_place("阜阳北路", (*PLACES, city)) == exact("fuyang")


PARTS = [("火车站", "fy_station"), ("公园", "renmin_park"), ("颍东", "yingdong")]


@pytest.mark.parametrize(("text", "key"), PARTS)
def test_a_text_contained_in_exactly_one_place_is_exact(text: str, key: str) -> None:
    assert match_place(text, PLACES) == exact(key)


# --- ambiguous and approximate -----------------------------------------------------------------------


def test_a_text_in_several_names_offers_them_all() -> None:
    result = match_place("人民", PLACES)
    assert result.exact is None
    assert set(result.candidates) == {"renmin_park", "renmin_hospital"}


def test_a_text_naming_two_places_offers_both_first() -> None:
    result = match_place("人民公园和人民医院之间", PLACES)
    assert result.exact is None
    assert result.candidates[:2] in (("renmin_park", "renmin_hospital"), ("renmin_hospital", "renmin_park"))


def test_an_alias_shared_by_two_places_is_not_exact() -> None:
    north = PlaceName("north_gate", ("北门",))
    north_too = PlaceName("park_north_gate", ("北门", "公园北门"))
    result = match_place("北门", (north, north_too))
    assert result.exact is None
    assert set(result.candidates) == {"north_gate", "park_north_gate"}


def test_a_typo_gives_ranked_candidates() -> None:
    result = match_place("阜阳火车占", PLACES)
    assert result.exact is None
    assert result.candidates[0] == "fy_station"


def test_a_typo_inside_a_longer_text_is_found() -> None:
    result = match_place("阜阳火车占北广场", PLACES)
    assert result.exact is None
    assert result.candidates[0] == "fy_station"


def test_similar_districts_rank_the_closest_first() -> None:
    result = match_place("颍州", PLACES)
    assert result == exact("yingzhou")  # contained in one name only
    result = match_place("颍西区", PLACES)
    assert result.exact is None
    assert set(result.candidates) == {"yingzhou", "yingdong", "yingquan"}


def test_english_typo() -> None:
    result = match_place("Fuyang Railway Staton", PLACES)
    assert result.exact is None
    assert result.candidates[0] == "fy_station"


def test_limit_caps_candidates() -> None:
    assert len(match_place("颍西区", PLACES, limit=2).candidates) == 2
    assert match_place("颍西区", PLACES, limit=0).candidates == ()
    with pytest.raises(ValueError):
        match_place("颍西区", PLACES, limit=-1)


def test_candidates_are_unique_keys() -> None:
    doubled = (*PLACES, PlaceName("yingzhou", ("颍州",)))
    result = match_place("颍西区", doubled)
    assert len(result.candidates) == len(set(result.candidates))


# --- nothing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "。。！", "xyz", "上海外滩", "站", "a", "🙂"])
def test_nothing_similar_is_no_match(text: str) -> None:
    assert match_place(text, PLACES) == PlaceMatch(exact=None, candidates=())


def test_no_places_is_no_match() -> None:
    assert match_place("阜阳火车站", ()) == PlaceMatch(exact=None, candidates=())


def test_missing_names_are_skipped() -> None:
    place = PlaceName("fy_station", ("阜阳火车站", None, ""))  # type: ignore[arg-type]
    assert match_place("阜阳火车站", (place,)) == exact("fy_station")


def test_places_with_only_punctuation_names_are_ignored() -> None:
    assert match_place("。", (PlaceName("odd", ("。", "")),)) == PlaceMatch(exact=None, candidates=())


def test_very_long_text_is_cut() -> None:
    # The name beyond the cut is not seen; the text before it still is.
    filler = "路" * (MAX_QUERY_CHARS + 10)
    assert match_place(filler + "人民公园", PLACES).exact is None
    assert match_place("人民公园" + filler * 100, PLACES) == exact("renmin_park")


# --- PlaceName -------------------------------------------------------------------------------------------


def test_place_name_validation() -> None:
    with pytest.raises(ValueError):
        PlaceName("", ("x",))
    with pytest.raises(TypeError):
        PlaceName("k", "阜阳站")  # type: ignore[arg-type]
    assert PlaceName("k", ["a", "b"]).names == ("a", "b")  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------------------

place_texts = st.text(alphabet=st.sampled_from("阜阳火车站人民公园医院颍州东泉区北门 ab,。"), max_size=12)


@given(place_texts, st.integers(0, 8))
def test_result_is_well_formed(text: str, limit: int) -> None:
    result = match_place(text, PLACES, limit=limit)
    keys = {p.key for p in PLACES}
    if result.exact is not None:
        assert result.exact in keys and result.candidates == ()
    assert len(result.candidates) <= limit
    assert set(result.candidates) <= keys
    assert len(set(result.candidates)) == len(result.candidates)


@given(st.sampled_from(PLACES).flatmap(lambda p: st.tuples(st.just(p.key), st.sampled_from(p.names))))
def test_every_name_matches_its_own_place(key_and_name: tuple[str, str]) -> None:
    key, name = key_and_name
    assert match_place(name, PLACES) == exact(key)
