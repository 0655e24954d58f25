"""Queue queries over the index: filters, keyset pages, search, counts."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from hitl.errors import InvalidAnswer
from hitl.storage.engine import Engine
from hitl.storage.records import ThreadRow, decode_cursor, encode_cursor, like_escape
from hitl.storage.search_terms import (
    COMMON_SHARE,
    fts_phrase,
    rare_trigrams,
    sampled_rare_trigrams,
    trigram_doc_counts,
    trigram_shares,
)

__all__ = ["Queue"]


NARROWED = "strpos"
"""The clause a narrowed `LIKE` search ends with (`Queue._like_search`)."""


class Queue(Engine):
    """Listing `hitl_threads`."""

    def thread_filter(
        self,
        *,
        alias: str = "",
        status: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        waiting_longer_than: float | None = None,
    ) -> tuple[list[str], list[Any]]:
        """WHERE clauses over `hitl_threads` (as `alias`) for the queue's filters, with parameters.

        Raises:
            InvalidAnswer: a filter holds a NUL character (FTS5 cannot parse it, PostgreSQL
                cannot store it: refused the same way on every backend).
        """
        for name, value in (("graph_id", graph_id), ("kind", kind), ("search", search)):
            if isinstance(value, str) and "\x00" in value:
                raise InvalidAnswer(
                    f"The {name} filter contains a NUL (\\x00) character; remove it.", field_errors={name: "contains NUL"}
                )
        column = f"{alias}." if alias else ""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append(f"{column}status = ?")
            params.append(status)
        if graph_id is not None:
            where.append(f"{column}graph_id = ?")
            params.append(graph_id)
        if kind is not None:
            where.append(f"{column}kinds LIKE ? ESCAPE '\\'")
            params.append(f"%,{like_escape(kind)},%")
        if search:
            needle = search.lower()
            if self.search_index and len(needle) >= 3:  # SQLite's FTS5 index (PostgreSQL: pg_trgm serves LIKE)
                # The index narrows to candidates holding the needle's trigrams; instr keeps
                # those containing the text (as LIKE would). Needles under three characters
                # have no trigram, so they scan with LIKE.
                where.append(
                    f"{column}thread_id IN (SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d "
                    "ON d.id = s.rowid WHERE hitl_search MATCH ? AND instr(d.search_text, ?) > 0)"
                )
                params.extend([self._search_expression(needle)[0], needle])
                # Start from the matches (primary-key lookups), not from a walk of every waiting
                # row probing them: `+column` keeps the planner off the status/graph indexes.
                where = self._unindexed(where, column)
            else:
                clauses, values = self._like_search(column, needle)
                where.extend(clauses)
                params.extend(values)
        if waiting_longer_than is not None:
            where.append(f"{column}waiting_since <= ?")
            params.append(time.time() - waiting_longer_than)
        return where, params

    def list_threads(
        self,
        *,
        status: str | None = "waiting",
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        waiting_longer_than: float | None = None,
        thread_ids: Sequence[str] | None = None,
        newest_first: bool = False,
    ) -> tuple[list[ThreadRow], str | None, int]:
        """One page of `hitl_threads` with the total count for the same filters."""
        if search and thread_ids is None:
            found = self._search_page(
                search, status=status, graph_id=graph_id, kind=kind, waiting_longer_than=waiting_longer_than,
                limit=limit, cursor=cursor, newest_first=newest_first,
            )  # fmt: skip
            if found is not None:
                return found
        where, params = self.thread_filter(
            status=status, graph_id=graph_id, kind=kind, search=search, waiting_longer_than=waiting_longer_than
        )
        if thread_ids is not None:
            if not thread_ids:
                return [], None, 0
            # Start from the ids (primary-key lookups), not from a walk of every row of that
            # status probing them.
            where = self._unindexed(where)
            where.append(f"thread_id IN ({','.join('?' for _ in thread_ids)})")
            params.extend(thread_ids)
        total_sql = "SELECT COUNT(*) FROM hitl_threads" + (" WHERE " + " AND ".join(where) if where else "")
        if kind is None and not search and waiting_longer_than is None and thread_ids is None and graph_id != "":
            # Only status and graph filters: the trigger-maintained counts answer without a scan.
            counted = [("status = ?", status), ("graph_id = ?", graph_id)]
            clauses = [clause for clause, value in counted if value is not None]
            total_sql = "SELECT COALESCE(SUM(n), 0) FROM hitl_counts" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        page_where = list(where)
        page_params = list(params)
        if cursor:
            since, after_id = decode_cursor(cursor)
            op = "<" if newest_first else ">"
            page_where.append(f"(waiting_since {op} ? OR (waiting_since = ? AND thread_id {op} ?))")
            page_params.extend([since, since, after_id])
        order = "DESC" if newest_first else "ASC"
        # The count rides along with the page as an uncorrelated subquery (evaluated once): one
        # round trip instead of two. An empty page carries no count, so it is asked for then.
        # A first page of a narrowed search (few candidates, all read to check them anyway)
        # counts them in the same scan instead (a window over the rows before LIMIT).
        one_scan = not cursor and any(clause.startswith(NARROWED) for clause in where)
        counted_by = "COUNT(*) OVER ()" if one_scan else f"({total_sql})"
        sql = (
            f"SELECT thread_id, status, checkpoint_id, graph_id, graph_note, kinds, summary, n_interrupts, "
            f"waiting_since, nodes, updated_at, {counted_by} FROM hitl_threads"
            + (" WHERE " + " AND ".join(page_where) if page_where else "")
            + f" ORDER BY waiting_since {order}, thread_id {order} LIMIT ?"
        )
        rows = self.query(sql, [*([] if one_scan else params), *page_params, limit + 1])
        total = int(rows[0][11]) if rows else int(self.query(total_sql, params)[0][0])
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            ThreadRow(
                thread_id=r[0],
                status=r[1],
                checkpoint_id=r[2],
                graph_id=r[3],
                graph_note=r[4],
                kinds=tuple(k for k in r[5].split(",") if k),
                summary=r[6],
                n_interrupts=int(r[7]),
                waiting_since=datetime.fromtimestamp(float(r[8]), timezone.utc),
                nodes=tuple(n for n in r[9].split(",") if n),
                updated_at=datetime.fromtimestamp(float(r[10]), timezone.utc),
            )
            for r in rows
        ]
        next_cursor = encode_cursor(float(rows[-1][8]), rows[-1][0]) if more and rows else None
        return items, next_cursor, total

    search_matches_max = 5000
    """`list_threads` takes a search's matches from the trigram index once, as ids and waiting
    times, when there are at most this many (else the index is joined in the page and count
    queries)."""

    def _unindexed(self, where: list[str], column: str = "") -> list[str]:
        """`where` with its status and graph clauses kept off their indexes (`Dialect.unindexed`)."""
        hint = self.dialect.unindexed
        if not hint:
            return where
        plain = (f"{column}status = ?", f"{column}graph_id = ?")
        return [hint + clause if clause in plain else clause for clause in where]

    def _search_page(
        self,
        search: str,
        *,
        status: str | None,
        graph_id: str | None,
        kind: str | None,
        waiting_longer_than: float | None,
        limit: int,
        cursor: str | None,
        newest_first: bool,
    ) -> tuple[list[ThreadRow], str | None, int] | None:
        """`list_threads` for a search SQLite's trigram index answers with at most
        `search_matches_max` matches, else None (the index is then joined in the page and
        count queries).

        The index's candidates (docs holding the needle's rare trigrams) are kept when their
        text contains the needle (instr); then the waiting times of those passing the other
        filters are read: the total is their number, and only the page's rows are read whole.
        """
        needle = search.lower()
        if not self.search_index or len(needle) < 3 or "\x00" in needle:
            return None  # short needles scan with LIKE; a NUL is refused by `thread_filter`
        expression, expected = self._search_expression(needle)
        if expected > self.search_matches_max:
            return None
        candidates = self.query(
            "SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d ON d.id = s.rowid "
            "WHERE hitl_search MATCH ? AND instr(d.search_text, ?) > 0 LIMIT ?",
            (expression, needle, self.search_matches_max + 1),
        )
        if len(candidates) > self.search_matches_max:
            return None
        if not candidates:
            return [], None, 0
        where, params = self.thread_filter(
            status=status, graph_id=graph_id, kind=kind, waiting_longer_than=waiting_longer_than
        )
        # Primary-key lookups of the matches, never a walk of the status index probing them (a
        # second query, not a join: in id order the pages read stay few).
        where = [*self._unindexed(where), f"thread_id IN ({','.join('?' for _ in candidates)})"]
        matches = self.query(
            "SELECT thread_id, waiting_since FROM hitl_threads WHERE " + " AND ".join(where),
            [*params, *(row[0] for row in candidates)],
        )
        # Ordered as the page query orders (floats as stored; str order is UTF-8 byte order).
        keys = sorted(((float(since), thread_id) for thread_id, since in matches), reverse=newest_first)
        if cursor:
            after = decode_cursor(cursor)
            keys = [key for key in keys if (key < after if newest_first else key > after)]
        page = keys[: limit + 1]
        if not page:
            return [], None, len(matches)
        rows, _, _ = self.list_threads(
            status=None, limit=limit, thread_ids=[thread_id for _, thread_id in page[:limit]], newest_first=newest_first
        )
        next_cursor = encode_cursor(*page[limit - 1]) if len(page) > limit else None
        return rows, next_cursor, len(matches)

    def _search_expression(self, needle: str) -> tuple[str, float]:
        """The FTS5 query that narrows a search for `needle` (3 characters or more) to
        candidates, and an estimate of how many docs match it.

        A phrase of the whole needle reads the doclist of every trigram in it, also of those
        in nearly every doc ('ove', 'ben'): 8-20 ms at 1M threads. So each distinct trigram's
        share of the docs is estimated from its first `search_probe` docs (`trigram_shares`),
        and when one is rare the query is the AND of a few rare ones (`rare_trigrams`).
        Every doc holding the needle holds all its trigrams, so the candidates include every
        match; the caller keeps those whose text contains the needle (instr). When every
        trigram is common the phrase is asked (its position check beats reading the texts of
        a quarter of the docs).
        """
        grams = [needle[i : i + 3] for i in range(len(needle) - 2)]
        distinct = list(dict.fromkeys(grams))
        if len(distinct) == 1:
            return fts_phrase(needle), 0.0
        probes = " UNION ALL ".join(
            f"SELECT {k}, COUNT(*), MAX(rowid) FROM (SELECT rowid FROM hitl_search WHERE hitl_search MATCH ? LIMIT ?)"
            for k in range(len(distinct))
        )
        rows = self.query(
            "SELECT -1, (SELECT MIN(id) FROM hitl_search_docs), (SELECT MAX(id) FROM hitl_search_docs) "
            f"UNION ALL {probes}",
            [value for gram in distinct for value in (fts_phrase(gram), self.search_probe)],
        )
        shares = trigram_shares(rows, distinct, self.search_probe)
        docs = (rows[0][2] - rows[0][1] + 1) if rows[0][1] is not None else 0
        chosen = rare_trigrams(grams, shares)
        if not chosen:  # every trigram is common: so are, most likely, the matches
            return fts_phrase(needle), docs * min(shares.values())
        return " AND ".join(fts_phrase(gram) for gram in chosen), docs * math.prod(shares[gram] for gram in chosen)

    def _like_search(self, column: str, needle: str) -> tuple[list[str], list[Any]]:
        """The clauses of a `LIKE` search for `needle` (PostgreSQL, or SQLite without FTS5).

        On PostgreSQL the pg_trgm index would read every trigram of `%needle%`, the ones in
        nearly every doc too (22 ms at 1M threads for a customer's name, 33 ms for a thread id):
        it is asked for the needle's trigrams but the common ones (`sampled_rare_trigrams`), and
        `strpos` keeps the rows that contain the needle, so the rows are exactly LIKE's. Only
        for a needle likely to match at most `search_matches_max` threads.
        """
        grams: list[str] = []
        if self.dialect.trigram_like:
            sample, counts, waiting = self._trigram_sample()
            share = min(COMMON_SHARE, self.search_matches_max / max(waiting, 1))
            grams = sampled_rare_trigrams(needle, sample, counts, max_share=share)
        if not grams:
            return [f"{column}search_text LIKE ? ESCAPE '\\'"], [f"%{like_escape(needle)}%"]
        return (
            [*(f"{column}search_text LIKE ?" for _ in grams), f"{NARROWED}({column}search_text, ?) > 0"],
            [*(f"%{gram}%" for gram in grams), needle],
        )

    trigram_sample_rows = 2000
    """Waiting threads read to estimate how common a trigram is (PostgreSQL's search)."""
    trigram_sample_seconds = 600.0
    """How long one sample serves before it is read again."""

    def _trigram_sample(self) -> tuple[list[str], Any, int]:
        """(texts, their trigram doc counts, waiting threads) of a sample of the waiting threads' search text, kept
        for `trigram_sample_seconds` while the number of waiting threads stays within a factor
        of 2 (`TABLESAMPLE SYSTEM`: a few pages, not a scan)."""
        now = time.monotonic()
        waiting = int(self.query("SELECT COALESCE(SUM(n), 0) FROM hitl_counts WHERE status = 'waiting'")[0][0])
        kept = self.__dict__.get("_trigram_sample_kept")
        if kept is not None and now - kept[0] < self.trigram_sample_seconds and kept[2] / 2 <= waiting <= kept[2] * 2:
            return (*kept[1], waiting)
        share = min(100.0, 100.0 * 2 * self.trigram_sample_rows / max(waiting, 1))
        sample = "" if share >= 100.0 else f" TABLESAMPLE SYSTEM ({share:.6f})"
        texts = [row[0] for row in self.query(
            f"SELECT search_text FROM hitl_threads{sample} WHERE status = 'waiting' LIMIT ?", (self.trigram_sample_rows,)
        )]  # fmt: skip
        found = (texts, trigram_doc_counts(texts))
        self.__dict__["_trigram_sample_kept"] = (now, found, waiting)
        return (*found, waiting)

    search_probe = 500
    """How many docs of each trigram `_search_expression` reads to estimate its share."""

    def status_counts(self) -> dict[str, int]:
        """How many threads are in each status."""
        return {
            status: int(n)
            for status, n in self.query("SELECT status, SUM(n) FROM hitl_counts GROUP BY status HAVING SUM(n) > 0")
        }

    def graph_ids(self) -> list[str]:
        """Distinct graph ids seen on threads."""
        return [r[0] for r in self.query("SELECT DISTINCT graph_id FROM hitl_threads WHERE graph_id IS NOT NULL ORDER BY 1")]
