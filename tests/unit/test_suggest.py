"""The category scorer (bot.domain.suggest): edge cases first, then what segmentation and zones add."""

from __future__ import annotations

import pickle

import pytest

from bot.domain.suggest import BIGRAM, PART, WORD, ZONE, CategoryWords, Suggester, jieba_rarity, rarity_weight

CATEGORIES = [
    CategoryWords("municipal", ("市政设施", "路灯", "井盖", "street light")),
    CategoryWords("noise", ("噪声扰民", "噪音", "广场舞", "noise")),
    CategoryWords("parking", ("乱停乱放", "停车", "消防通道")),
    CategoryWords("fire", ("消防安全", "消防通道", "灭火器")),
    CategoryWords("rural", ("农村农业", "庄稼", "村里"), zones=("county",)),
    CategoryWords("environment", ("环境保护", "污染", "庄稼枯了"), zones=()),
]


def chars(text: str) -> list[str]:
    """A stand-in segmenter: every character a word (keeps these tests free of jieba's dictionary)."""
    return list(text)


@pytest.fixture
def suggester() -> Suggester:
    return Suggester(CATEGORIES, segmenter=chars)


def keys(suggester: Suggester, text: str, zone: str | None = None) -> list[str]:
    return [s.key for s in suggester.rank(text, zone)]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "。。。！！？", "…… ——", "\u200b\u200b", "!!! ???"])
def test_empty_text_or_only_punctuation_ranks_nothing(suggester: Suggester, text: str) -> None:
    assert suggester.rank(text) == []


def test_a_text_that_matches_nothing_ranks_nothing(suggester: Suggester) -> None:
    assert suggester.rank("谢谢") == [] and suggester.rank("hello there") == []


def test_english_words_match_whole_words_case_insensitively(suggester: Suggester) -> None:
    assert keys(suggester, "The STREET LIGHT outside is broken") == ["municipal"]
    assert keys(suggester, "Noise all night") == ["noise"]
    assert keys(suggester, "noisette and streetlights") == []  # parts of words are not words


def test_full_width_and_invisible_characters_are_normalised(suggester: Suggester) -> None:
    assert keys(suggester, "ＮＯＩＳＥ") == ["noise"]
    assert keys(suggester, "路\u200b灯坏了") == ["municipal"]


def test_a_word_in_two_categories_counts_half_for_each_and_the_file_order_breaks_the_tie() -> None:
    ranked = Suggester(CATEGORIES, segmenter=lambda text: []).rank("消防通道")
    assert [s.key for s in ranked] == ["parking", "fire"]
    assert ranked[0].score == ranked[1].score
    assert ranked[0].score == WORD * 4 / 2
    alone = Suggester(CATEGORIES[:3], segmenter=lambda text: []).rank("消防通道")
    assert alone[0].score == WORD * 4  # held by one category only: the whole weight


def test_a_shared_part_leans_to_the_category_with_more_words_holding_it(suggester: Suggester) -> None:
    # "消" and "防" are in two of fire's words and one of parking's.
    assert keys(suggester, "消防") == ["fire", "parking"]


def test_a_longer_word_is_credited_once_not_again_as_its_parts(suggester: Suggester) -> None:
    words_only = Suggester(CATEGORIES, segmenter=lambda text: [])
    ranked = words_only.rank("庄稼枯了")
    assert [s.key for s in ranked] == ["environment"]  # "庄稼" inside "庄稼枯了" is not counted as well


def test_parts_of_suggestion_words_lean_the_right_way(suggester: Suggester) -> None:
    # Neither "路灯" nor "井盖" is written, but "灯" and "盖" are parts of them.
    ranked = suggester.rank("门口的灯坏了，盖子也没了")
    assert ranked[0].key == "municipal" and ranked[0].score == pytest.approx(PART * 2)


def no_segmenter(categories: list[CategoryWords]) -> Suggester:
    return Suggester(categories, segmenter=lambda text: [])


def test_a_particle_between_verb_and_object_does_not_hide_the_word() -> None:
    suggester = no_segmenter([CategoryWords("utilities", ("停电", "漏水")), CategoryWords("taxi", ("的士",))])
    assert suggester.rank("昨天停了电")[0].score == WORD * 2
    assert suggester.rank("楼上漏的水")[0].score == WORD * 2
    assert [s.key for s in suggester.rank("打了的士")] == ["taxi"]  # 的 that starts a word stays
    assert suggester.rank("了解一下停") == []  # 了 of 了解 joins nothing
    assert suggester.rank("停了。电") == []  # only between two characters


def test_a_word_found_both_plainly_and_across_a_particle_counts_once() -> None:
    suggester = no_segmenter([CategoryWords("utilities", ("停电",))])
    assert suggester.rank("停电了，又停了电")[0].score == WORD * 2


def test_a_pair_of_characters_shared_with_a_suggestion_word_is_a_weak_signal() -> None:
    suggester = no_segmenter([CategoryWords("parking", ("电动车",)), CategoryWords("noise", ("噪音",))])
    ranked = suggester.rank("电动自行车乱放")
    assert [s.key for s in ranked] == ["parking"]
    assert ranked[0].score == pytest.approx(BIGRAM)  # "电动" only ("动车" is not in the text)
    assert BIGRAM < PART * 2 < WORD * 2  # weaker than a segmented piece of the same length


def test_pairs_inside_a_word_found_whole_are_not_counted_again() -> None:
    suggester = no_segmenter([CategoryWords("parking", ("电动车",))])
    assert suggester.rank("电动车")[0].score == WORD * 3


def test_rarity_weights_stay_within_their_range_and_grow_with_rarity() -> None:
    assert rarity_weight(0.0) == 0.3 and rarity_weight(1000.0) == 2.0
    assert rarity_weight(6.0) == 1.0
    assert rarity_weight(4.0) < rarity_weight(9.0)


def test_a_rare_piece_outweighs_a_common_one_of_the_same_length() -> None:
    categories = [CategoryWords("utilities", ("电费",)), CategoryWords("banking", ("钱款",))]
    suggester = Suggester(categories, segmenter=chars, rarity={"电": 1.5, "钱": 0.5})
    ranked = suggester.rank("钱电")
    assert [s.key for s in ranked] == ["utilities", "banking"]
    assert ranked[0].score == pytest.approx(PART * 1.5) and ranked[1].score == pytest.approx(PART * 0.5)


def test_jiebas_table_finds_common_words_common_and_unlisted_pieces_rare() -> None:
    weights = jieba_rarity(["钱", "电梯", "梯坏"])
    assert weights["钱"] < 1.0 < weights["电梯"] <= weights["梯坏"]


def test_stop_words_are_never_parts() -> None:
    suggester = Suggester([CategoryWords("a", ("我们的路",))], segmenter=chars)
    assert suggester.rank("我的") == []


def test_the_zone_pushes_a_category_that_already_scores_never_one_that_does_not(suggester: Suggester) -> None:
    text = "庄稼"  # a word of rural, a part of environment's "庄稼枯了"
    assert keys(suggester, text)[0] == "rural"
    pushed = {s.key: s.score for s in suggester.rank(text, zone="county")}
    plain = {s.key: s.score for s in suggester.rank(text)}
    assert pushed["rural"] == pytest.approx(plain["rural"] + ZONE)
    assert keys(suggester, "噪音", zone="county") == ["noise"]  # no rural word: the zone alone suggests nothing


def test_limit_keeps_the_best(suggester: Suggester) -> None:
    text = "路灯坏了，广场舞噪音大，门口停车"
    assert len(suggester.rank(text)) == 3
    assert len(suggester.rank(text, limit=2)) == 2


def test_jieba_keeps_the_suggestion_words_whole() -> None:
    suggester = Suggester([CategoryWords("pets", ("流浪狗",)), CategoryWords("x", ("浪费",))])
    assert not suggester.loaded
    suggester.load()
    assert suggester.loaded
    assert [s.key for s in suggester.rank("小区里好多流浪狗")] == ["pets"]


def test_a_pickled_suggester_ranks_the_same_and_loads_its_segmenter_again(suggester: Suggester) -> None:
    copy = pickle.loads(pickle.dumps(suggester))
    assert not copy.loaded
    copy.load()
    fresh = Suggester(CATEGORIES)  # what the copy rebuilds: jieba and its rarity table, not the stand-in
    assert copy.rank("路灯坏了") == fresh.rank("路灯坏了") and copy.rank("路灯坏了")[0].key == "municipal"
