"""Search over `hitl_threads.search_text`: SQLite narrows with the needle's rarest trigrams and
checks the candidates' text; PostgreSQL's pg_trgm serves LIKE. Both give exactly the rows a
substring scan gives, with the exact total."""

from __future__ import annotations

import time

import pytest

from hitl.storage.search_terms import fts_phrase, rare_trigrams, sampled_rare_trigrams, trigram_doc_counts, trigram_shares
from hitl.store import Store

COLUMNS = "thread_id, status, checkpoint_id, graph_id, kinds, summary, search_text, waiting_since, updated_at"


def fill(store: Store, texts: dict[str, str], status: str = "waiting") -> None:
    now = time.time()
    with store.connection(write=True) as conn:
        for n, (thread_id, text) in enumerate(texts.items()):
            conn.execute(
                store.dialect.sql(f"INSERT INTO hitl_threads ({COLUMNS}) VALUES (?, ?, 'c', 'g', ',', '', ?, ?, ?)"),
                (thread_id, status, text.lower(), now + n, now),
            )


def scan(store: Store, needle: str, status: str | None = "waiting") -> set[str]:
    rows = store.query("SELECT thread_id, search_text, status FROM hitl_threads")
    return {tid for tid, text, st in rows if needle.lower() in text and status in (None, st)}


@pytest.fixture
def store(db_url: str):
    with Store.open(db_url, create=True) as opened:
        yield opened


def filler(n: int) -> str:
    """Text made of common words: its trigrams are in every doc."""
    return f"t-{n:04d} please review the refund request for the customer order"


def check(store: Store, needle: str, status: str | None = "waiting") -> None:
    rows, _, total = store.list_threads(status=status, search=needle, limit=1000)
    expected = scan(store, needle, status)
    assert {r.thread_id for r in rows} == expected and total == len(expected), needle


def test_common_trigrams_plus_one_rare_one_find_exactly_the_matches(store: Store) -> None:
    texts = {f"t-{n:04d}": filler(n) for n in range(300)}
    texts["t-0007"] += " the refund of qzx request"
    texts["t-0008"] += " qzx alone"  # the rare trigram, not the needle
    texts["t-0009"] += " the refund of qzx request"
    fill(store, texts)
    fill(store, {"done-1": "the refund of qzx request"}, status="completed")
    for needle in ("refund of qzx", "the refund of qzx request", "qzx", "QZX request", "of qzx r"):
        check(store, needle)
        check(store, needle, status=None)
    rows, _, total = store.list_threads(search="refund of qzx", limit=1000)
    assert [r.thread_id for r in rows] == ["t-0007", "t-0009"] and total == 2
    if store.search_index:  # SQLite asks its index for rare trigrams (in 4 docs), not for the whole phrase
        expression = store._search_expression("refund of qzx")[0]
        assert expression == '"d o" AND "f q"'
        assert len(store.query("SELECT rowid FROM hitl_search WHERE hitl_search MATCH ?", (expression,))) == 3


def test_a_doc_with_every_rare_trigram_but_not_the_text_is_not_returned(store: Store) -> None:
    """The rare trigrams narrow to candidates; only those containing the needle are kept."""
    texts = {f"t-{n:04d}": filler(n) for n in range(300)}
    texts["t-0001"] += " wxy ykq"  # 'wxy' and 'ykq' (and every trigram of 'wxykq' but one) apart
    texts["t-0002"] += " wxykq"
    texts["t-0003"] += " xykqw wxyk ykq"
    fill(store, texts)
    rows, _, total = store.list_threads(search="wxykq", limit=1000)
    assert [r.thread_id for r in rows] == ["t-0002"] and total == 1
    if store.search_index:  # t-0003 holds the trigram asked for ('xyk') but not the needle
        expression = store._search_expression("wxykq")[0]
        assert expression == '"xyk"'
        candidates = store.query("SELECT rowid FROM hitl_search WHERE hitl_search MATCH ?", (expression,))
        assert len(candidates) == 2
    for needle in ("wxykq", "xykq", "wxyk", "ykqw", "wxy ykq", "y ykq"):
        check(store, needle)


@pytest.mark.parametrize(
    "needle",
    ['"', 'say "hi"', '"""', "it's", "a AND b", "x OR y", "NOT z", "col:umn", "(paren)", "star*", "^caret",
     "-minus", "ünïcödé", "ÜNÏ", "日本語テキスト", "emoji 🙂 here", "aaaa", "abab", "%_\\", "   "],
)  # fmt: skip
def test_quotes_syntax_and_odd_characters_are_searched_as_text(store: Store, needle: str) -> None:
    texts = {f"t-{n:04d}": filler(n) for n in range(60)}
    odd = ['say "hi" to """ it\'s', "a AND b x OR y NOT z col:umn (paren) star* ^caret -minus",
           "Ünïcödé 日本語テキスト emoji 🙂 here", "aaaaa ababab %_\\ end", "two   spaces"]  # fmt: skip
    for n, text in enumerate(odd):
        texts[f"odd-{n}"] = text
    fill(store, texts)
    check(store, needle)


def test_pages_of_a_search_are_in_order_and_cover_every_match_once(store: Store) -> None:
    texts = {f"t-{n:04d}": filler(n) + (" lovelace" if n % 3 == 0 else "") for n in range(200)}
    fill(store, texts)
    for newest_first in (False, True):
        seen, cursor = [], None
        while True:
            rows, cursor, total = store.list_threads(search="lovelace", limit=7, cursor=cursor, newest_first=newest_first)
            seen += [r.thread_id for r in rows]
            assert total == 67
            if cursor is None:
                break
        assert seen == sorted(scan(store, "lovelace"), reverse=newest_first)


def test_a_needle_of_only_common_trigrams_matching_many_falls_back_and_stays_exact(store: Store, monkeypatch) -> None:
    texts = {f"t-{n:04d}": filler(n) for n in range(120)}
    fill(store, texts)
    monkeypatch.setattr(type(store), "search_matches_max", 50)
    check(store, "refund request")
    check(store, "the customer")
    check(store, "customer order", status=None)


def test_trigram_shares_estimate_from_the_ids_spanned() -> None:
    rows = [(-1, 1, 1000), (0, 500, 500), (1, 500, 20_000), (2, 7, 900)]
    shares = trigram_shares(rows, ["ben", "lov", "qzx"], 500)
    assert shares == {"ben": 1.0, "lov": 500 / 20_000, "qzx": 7 / 1000}
    assert trigram_shares([(-1, None, None), (0, 0, None)], ["abc"], 500) == {"abc": 0.0}


def test_rare_trigrams_take_a_tiling_of_the_needle_and_skip_common_ones() -> None:
    grams = ["ada", "da ", "a l", " lo", "lov", "ove", "vel", "ela", "lac", "ace"]
    shares = {"ada": 0.04, "da ": 0.04, "a l": 0.02, " lo": 0.025, "lov": 0.025, "ove": 0.27, "vel": 0.025,
              "ela": 0.025, "lac": 0.025, "ace": 0.066}  # fmt: skip
    assert rare_trigrams(grams, shares) == [" lo", "vel", "ada"]  # positions 0, 3, 6 (9 not needed)
    assert rare_trigrams(["abc", "bcd"], {"abc": 0.5, "bcd": 0.0}) == ["bcd"]  # absent: nothing matches
    assert rare_trigrams(["req", "equ", "que"], {"req": 0.25, "equ": 0.25, "que": 0.25}) == []  # ask the phrase
    assert fts_phrase('say "hi"') == '"say ""hi"""'


def test_postgres_asks_its_trigram_index_for_a_few_rare_trigrams_and_stays_exact(store: Store) -> None:
    texts = {f"t-{n:04d}": filler(n) for n in range(300)}
    texts |= {"ada-1": "refund for ada lovelace, order r1", "ada-2": "ada lovelace again", "near": "ada and lovelace apart"}
    fill(store, texts)
    where, params = store.thread_filter(status="waiting", search="Ada Lovelace")
    if store.dialect.trigram_like:
        assert any(clause.startswith("strpos(") for clause in where)
        likes = [p for p in params if isinstance(p, str) and p.startswith("%")]
        assert likes and all(len(p) == 5 for p in likes)  # '%abc%': trigrams, not the whole needle
    else:
        assert not any(clause.startswith("strpos(") for clause in where)
    rows, _, total = store.list_threads(status="waiting", search="Ada Lovelace")
    assert {row.thread_id for row in rows} == scan(store, "ada lovelace") == {"ada-1", "ada-2"} and total == 2
    # Needles without an indexable trigram, or of common ones only, are asked whole, still exact.
    for needle in ("a l", "-00", "review the refund", "t-0042"):
        rows, _, total = store.list_threads(status="waiting", search=needle, limit=1000)
        assert {row.thread_id for row in rows} == scan(store, needle) and total == len(scan(store, needle))


def test_sampled_rare_trigrams_leave_out_what_nearly_every_doc_holds() -> None:
    sample = [f"bench-{n:06d} refund for ada lovelace" if n < 2 else f"bench-{n:06d} a lovely mela" for n in range(100)]
    counts = trigram_doc_counts(sample)
    # 'ben', 'enc', 'nch' (every doc) are left out, and 'h-5' is not indexable; rarest first.
    assert sampled_rare_trigrams("bench-512345", sample, counts) == ["512", "123"]  # two absent ones: enough
    chosen = sampled_rare_trigrams("ada lovelace", sample, counts)
    assert chosen[0] == "ada" and len(chosen) == 2  # the rarest, then one that leaves only the matches
    assert "lov" not in chosen and "ove" not in chosen  # 'lovely' is in every doc
    assert sampled_rare_trigrams("lovel", sample, counts) == []  # in most of the sample: the whole needle
    assert sampled_rare_trigrams("ada lovelace", sample, counts, max_share=0.01) == []  # 2 % > 1 %
    assert sampled_rare_trigrams("a-b", sample, counts) == []  # nothing pg_trgm indexes as written
    assert sampled_rare_trigrams("anything", [], counts) == []  # no sample yet
