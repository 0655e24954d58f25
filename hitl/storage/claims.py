"""Claims (`hitl_claims`): one decision per interrupt, across processes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hitl.errors import AlreadyDecided
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.storage.audit_log import AuditLog
from hitl.storage.records import dumps_record

__all__ = ["Claims"]


@dataclass(frozen=True, kw_only=True)
class _HeldClaim:
    """The claim `Claims.claim` wanted to insert for one interrupt, found already taken."""

    thread_id: str
    interrupt_id: str
    reviewer: str
    answer_json: str
    now: float
    lease_seconds: float
    runs_graph: bool


class Claims(AuditLog):
    """Claiming interrupts before a resume, and closing, renewing and settling the claims."""

    # ------------------------------------------------------------------ claims

    def claim(
        self,
        thread_id: str,
        interrupt_ids: Sequence[str],
        *,
        reviewer: str,
        answers: dict[str, Any],
        lease_seconds: float,
        still_pending: Callable[[str], bool],
        runs_graph: bool = False,
        settle_unknown: bool = False,
    ) -> None:
        """Claim interrupts for one resume, atomically, across processes.

        A claim row has a unique key (thread, interrupt), and rows are only inserted with
        `ON CONFLICT DO NOTHING` and taken over with a compare-and-set `UPDATE`, so of many
        desks racing for one interrupt exactly one changes a row, whatever the backend's
        isolation level. An existing claim that is `done` (or `recovered`) means someone
        decided first. A `failed` one (the resume raised before or in a node that LangGraph
        recorded as failed, or a dead desk's claim was abandoned before its graph ran) may be
        taken again while the interrupt is still pending. An `unknown` one (the resume may
        have run a node whose result was not saved, see `hitl.outcome`) is refused with
        `OutcomeUnknown` unless `settle_unknown` (an explicit retry or resolve). A `claimed`
        one past its lease belonged to a desk that died before finishing (a live desk renews
        its lease while the graph runs, see `renew_claims`): when its desk never ran the
        graph for it (`runs_graph` false) and the interrupt is still pending it is taken
        over, recorded as `abandoned`; when its desk was running the graph the node may have
        run, so it is refused with `OutcomeUnknown` (state "unrecorded", for
        `recover_stale_claims` to record); when the checkpointer shows the resume did commit,
        it is left for `recover_stale_claims` to close as `recovered`, and this call refuses.
        All interrupts are claimed, or none.

        Args:
            runs_graph: the caller resumes the graph right after this claim commits (a
                resume or retry), so a claim it leaves open may have run a node.
            settle_unknown: take over `unknown` claims (and a dead desk's running claims):
                an explicit retry or resolve of an outcome-unknown decision.

        Raises:
            AlreadyDecided: another reviewer holds or finished a claim on one of them.
            OutcomeUnknown: one of them is outcome unknown (`outcome.state` "unknown"), or a
                dead desk was running the graph for it ("unrecorded"); nothing was claimed.
        """

        now = time.time()
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            for interrupt_id in interrupt_ids:
                answer_json = dumps_record(answers.get(interrupt_id))
                inserted = conn.execute(
                    sql(
                        "INSERT INTO hitl_claims (thread_id, interrupt_id, reviewer, answer, state, claimed_at, "
                        "lease_until, runs_graph) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?) "
                        "ON CONFLICT (thread_id, interrupt_id) DO NOTHING"
                    ),
                    (thread_id, interrupt_id, reviewer, answer_json, now, now + lease_seconds, int(runs_graph)),
                ).rowcount
                if inserted != 1:
                    held = _HeldClaim(thread_id=thread_id, interrupt_id=interrupt_id, reviewer=reviewer,
                                      answer_json=answer_json, now=now, lease_seconds=lease_seconds,
                                      runs_graph=runs_graph)  # fmt: skip
                    self._take_over(conn, held, still_pending=still_pending, settle_unknown=settle_unknown)

    def _take_over(self, conn: Any, held: _HeldClaim, *, still_pending: Callable[[str], bool], settle_unknown: bool) -> None:
        """Take over an existing claim on `held.interrupt_id` for `held.reviewer`, or refuse (see `claim`)."""
        sql = self.dialect.sql
        thread_id, interrupt_id, now = held.thread_id, held.interrupt_id, held.now
        row = conn.execute(
            sql(
                "SELECT reviewer, state, claimed_at, lease_until, answer, runs_graph FROM hitl_claims "
                "WHERE thread_id = ? AND interrupt_id = ?"
            ),
            (thread_id, interrupt_id),
        ).fetchone()
        if row is None:  # released between our insert and read: let the caller retry
            raise AlreadyDecided(interrupt_id, reviewer=None, decided_at=None, thread_id=thread_id)
        holder, state, claimed_at, lease_until, held_answer, held_runs = row
        stale = state == "claimed" and float(lease_until) < now
        decided_at = datetime.fromtimestamp(float(claimed_at), timezone.utc)
        if (state == "unknown" or (stale and held_runs)) and not settle_unknown and (
            state == "unknown" or still_pending(interrupt_id)
        ):
            raise OutcomeUnknown(
                UnknownOutcome(
                    thread_id=thread_id,
                    interrupt_ids=(interrupt_id,),
                    reviewer=holder,
                    answers={interrupt_id: json.loads(held_answer) if held_answer else None},
                    decided_at=decided_at,
                    state="unknown" if state == "unknown" else "unrecorded",
                )
            )
        takeable = state == "failed" or stale or (state == "unknown" and settle_unknown)
        taken = takeable and still_pending(interrupt_id) and conn.execute(
            sql(
                "UPDATE hitl_claims SET reviewer = ?, answer = ?, state = 'claimed', claimed_at = ?, "
                "lease_until = ?, finished_at = NULL, runs_graph = ? "
                "WHERE thread_id = ? AND interrupt_id = ? AND state = ? AND claimed_at = ?"
            ),
            (held.reviewer, held.answer_json, now, now + held.lease_seconds, int(held.runs_graph), thread_id,
             interrupt_id, state, claimed_at),
        ).rowcount == 1  # fmt: skip
        if not taken:
            raise AlreadyDecided(interrupt_id, reviewer=holder, decided_at=decided_at, thread_id=thread_id)
        if stale:
            # The dead desk's decision is replaced; say what became of it first.
            self.append_audit(
                [
                    {
                        "thread_id": thread_id,
                        "interrupt_id": interrupt_id,
                        "action": "recovery",
                        "answer": json.loads(held_answer) if held_answer else None,
                        "reviewer": holder,
                        "comment": f"claim lease expired before the resume finished; taken over by {held.reviewer}"
                        + ("; its desk was running the graph, so the node may have run" if held_runs else ""),
                        "decided_at": now,
                        "outcome": "unknown" if held_runs else "abandoned",
                    }
                ]
            )

    def _insert_claims(
        self,
        conn: Any,
        claims: Sequence[tuple[str, str, Any]],
        *,
        reviewer: str,
        lease_seconds: float,
        runs_graph: bool = False,
    ) -> set[str]:
        """Insert fresh claim rows [(thread, interrupt, answer)] where none exists, 200 per
        statement; returns the threads whose row was inserted (the others conflicted)."""
        now = time.time()
        inserted: set[str] = set()
        for start in range(0, len(claims), 200):
            chunk = claims[start : start + 200]
            values = ", ".join("(?, ?, ?, ?, 'claimed', ?, ?, ?)" for _ in chunk)
            params = [
                value
                for thread_id, interrupt_id, answer in chunk
                for value in (thread_id, interrupt_id, reviewer, dumps_record(answer), now, now + lease_seconds, int(runs_graph))
            ]
            inserted.update(
                row[0]
                for row in conn.execute(
                    self.dialect.sql(
                        "INSERT INTO hitl_claims (thread_id, interrupt_id, reviewer, answer, state, claimed_at, "
                        f"lease_until, runs_graph) VALUES {values} ON CONFLICT (thread_id, interrupt_id) DO NOTHING "
                        "RETURNING thread_id"
                    ),
                    params,
                ).fetchall()
            )
        return inserted

    def claim_each(
        self,
        requests: Mapping[str, dict[str, Any]],
        *,
        reviewer: str,
        lease_seconds: float,
        still_pending: Callable[[str, str], bool],
        runs_graph: bool = False,
    ) -> dict[str, AlreadyDecided | OutcomeUnknown]:
        """`claim` for many threads in ONE write transaction: {thread: {interrupt_id: answer}}.

        Each thread is claimed exactly as `claim` does (same keys, same takeover rules), all
        of its interrupts or none (a savepoint undoes a thread's partial claim); a thread
        that conflicts does not stop the others. Returns the refused threads and why.
        """
        refused: dict[str, AlreadyDecided | OutcomeUnknown] = {}
        with self.connection(write=True) as conn:
            # Threads asking one interrupt (a batch's usual case) are first inserted with one
            # multi-row `INSERT ... ON CONFLICT DO NOTHING`; those it claimed are done, and
            # the rest (held by someone, or several interrupts) go through `claim` one by one.
            claimed = self._insert_claims(
                conn, [(t, next(iter(a)), a[next(iter(a))]) for t, a in requests.items() if len(a) == 1],
                reviewer=reviewer, lease_seconds=lease_seconds, runs_graph=runs_graph,
            )  # fmt: skip
            for thread_id, answers in requests.items():
                if thread_id in claimed:
                    continue
                several = len(answers) > 1
                if several:
                    conn.execute("SAVEPOINT hitl_claim")
                try:
                    self.claim(
                        thread_id, list(answers), reviewer=reviewer, answers=answers, lease_seconds=lease_seconds,
                        still_pending=lambda iid, tid=thread_id: still_pending(tid, iid), runs_graph=runs_graph,
                    )  # fmt: skip
                except (AlreadyDecided, OutcomeUnknown) as exc:
                    if several:
                        conn.execute("ROLLBACK TO SAVEPOINT hitl_claim")
                    refused[thread_id] = exc
                if several:
                    conn.execute("RELEASE SAVEPOINT hitl_claim")
        return refused

    def renew_claims(self, thread_id: str, interrupt_ids: Sequence[str], *, reviewer: str, lease_seconds: float) -> int:
        """Push the lease of this desk's open claims forward while its resume is running.

        A resume that outlives the lease would otherwise look like a dead desk's, and a
        second desk could take the claim over and run the graph again. Returns how many
        claims were renewed.
        """
        return self.renew_claims_of({thread_id: interrupt_ids}, reviewer=reviewer, lease_seconds=lease_seconds)

    def renew_claims_of(self, claims: Mapping[str, Sequence[str]], *, reviewer: str, lease_seconds: float) -> int:
        """`renew_claims` for {thread: interrupt ids} of many threads, in one transaction."""
        renewed = 0
        with self.connection(write=True) as conn:
            for thread_id, interrupt_ids in claims.items():
                for interrupt_id in interrupt_ids:
                    renewed += conn.execute(
                        self.dialect.sql(
                            "UPDATE hitl_claims SET lease_until = ? WHERE thread_id = ? AND interrupt_id = ? "
                            "AND state = 'claimed' AND reviewer = ?"
                        ),
                        (time.time() + lease_seconds, thread_id, interrupt_id, reviewer),
                    ).rowcount
        return renewed

    def finish_claims(self, thread_id: str, interrupt_ids: Sequence[str], *, state: str) -> None:
        """Close claims as `done` (decided), `failed` (answerable again) or `unknown`."""
        self.close_claims([(thread_id, interrupt_ids, state)])

    def release_claims(self, thread_id: str, interrupt_ids: Sequence[str]) -> None:
        """Forget claims whose answer was refused before anything ran."""
        self.close_claims([(thread_id, interrupt_ids, None)])

    def close_claims(self, closes: Sequence[tuple[str, Sequence[str], str | None]]) -> None:
        """Close many threads' claims in one transaction: [(thread, interrupt ids, state)],
        state `done`/`failed`/`unknown` as `finish_claims`, or None to release as
        `release_claims`. Inside a `connection(write=True)` block it joins that transaction
        (so a resume closes its claims and appends its audit rows together)."""
        now = time.time()
        finished = [(state, now, thread_id, iid) for thread_id, ids, state in closes if state is not None for iid in ids]
        released = [(thread_id, iid) for thread_id, ids, state in closes if state is None for iid in ids]
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            if finished:
                conn.executemany(
                    sql("UPDATE hitl_claims SET state = ?, finished_at = ? WHERE thread_id = ? AND interrupt_id = ?"),
                    finished,
                )
            if released:
                conn.executemany(
                    sql("DELETE FROM hitl_claims WHERE thread_id = ? AND interrupt_id = ? AND state = 'claimed'"), released
                )

    def claim_of(self, thread_id: str, interrupt_id: str) -> dict[str, Any] | None:
        """The claim row of one interrupt, as a dict, or None."""
        rows = self.query(
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at FROM hitl_claims "
            "WHERE thread_id = ? AND interrupt_id = ?",
            (thread_id, interrupt_id),
        )
        if not rows:
            return None
        return _claim_dict(rows[0])

    def unknown_claims(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's outcome-unknown claims, as `claim_of` with their `interrupt_id`, oldest first."""
        rows = self.query(
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at, interrupt_id FROM hitl_claims "
            "WHERE thread_id = ? AND state = 'unknown' ORDER BY claimed_at, interrupt_id",
            (thread_id,),
        )
        return [{**_claim_dict(row[:6]), "interrupt_id": row[6]} for row in rows]

    def decided_claim(self, thread_id: str) -> dict[str, Any] | None:
        """The latest claim on a thread that decided it or is deciding it (`claimed`, `done`,
        `recovered`), as `claim_of` with its `interrupt_id`, or None."""
        rows = self.query(
            "SELECT interrupt_id FROM hitl_claims WHERE thread_id = ? AND state IN ('claimed', 'done', 'recovered') "
            "ORDER BY claimed_at DESC LIMIT 1",
            (thread_id,),
        )
        claim = self.claim_of(thread_id, rows[0][0]) if rows else None
        return {**claim, "interrupt_id": rows[0][0]} if claim else None

    def stale_claims(self, thread_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(thread, interrupt) of claims whose lease ran out before the resume finished (of
        these threads only, when given)."""
        return [(row["thread_id"], row["interrupt_id"]) for row in self.stale_claim_rows(thread_ids)]

    def stale_claim_rows(self, thread_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """`stale_claims` as `claim_of` dicts with `thread_id`, `interrupt_id` and `runs_graph`
        (whether their desk was running the graph: then the node may have run)."""
        sql = (
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at, thread_id, interrupt_id, runs_graph "
            "FROM hitl_claims WHERE state = 'claimed' AND lease_until < ?"
        )
        params: list[Any] = [time.time()]
        if thread_ids is not None:
            if not thread_ids:
                return []
            sql += f" AND thread_id IN ({','.join('?' for _ in thread_ids)})"
            params += list(thread_ids)
        return [
            {**_claim_dict(row[:6]), "thread_id": row[6], "interrupt_id": row[7], "runs_graph": bool(row[8])}
            for row in self.query(sql + " ORDER BY claimed_at, thread_id, interrupt_id", params)
        ]

    def settle_stale_claim(self, thread_id: str, interrupt_id: str, *, state: str, audit: dict[str, Any]) -> bool:
        """Close a stale claim as `state` and append its audit row, in ONE transaction.

        Compare-and-set: only a claim still `claimed` and past its lease changes (two desks
        recovering at once settle it once). Returns whether this call settled it.
        """
        with self.connection(write=True) as conn:
            now = time.time()
            changed = conn.execute(
                self.dialect.sql(
                    "UPDATE hitl_claims SET state = ?, finished_at = ? WHERE thread_id = ? AND interrupt_id = ? "
                    "AND state = 'claimed' AND lease_until < ?"
                ),
                (state, now, thread_id, interrupt_id, now),
            ).rowcount
            if changed:
                self.append_audit([audit])
        return bool(changed)



def _claim_dict(row: Sequence[Any]) -> dict[str, Any]:
    """(reviewer, answer, state, claimed_at, lease_until, finished_at) of a claim row, as `claim_of` returns it."""
    reviewer, answer, state, claimed_at, lease_until, finished_at = row
    return {
        "reviewer": reviewer,
        "answer": json.loads(answer) if answer else None,
        "state": state,
        "claimed_at": datetime.fromtimestamp(float(claimed_at), timezone.utc),
        "lease_until": datetime.fromtimestamp(float(lease_until), timezone.utc),
        "finished_at": datetime.fromtimestamp(float(finished_at), timezone.utc) if finished_at else None,
    }
