"""Each thread's requester, pinned the first time the desk sees the thread (four eyes)."""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from hitl.access.names import clean_name
from hitl.errors import StoreError
from hitl.storage.access_sql import ensure_access_tables, pin_requesters, requester_rows
from hitl.store import Store


def thread_requesters(
    store: Store, thread_ids: Sequence[str], *, latest: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """Each thread's requester (`requested_by`), a property of the thread, not of a checkpoint.

    The first time the desk looks a thread up, its requester is read from the thread's first
    root checkpoint (the metadata the run was started with), else from its latest one, and
    pinned in `hitl_requesters`; from then on that row is the answer, whatever later
    checkpoints say (a resume by another process may drop or change `requested_by`). A thread
    that has no requester yet gets no row, so one seen later is still pinned. Threads without
    a requester are left out. On a read-only database nothing is pinned.

    Args:
        store: the desk's store.
        thread_ids: the threads.
        latest: {thread: latest root checkpoint metadata} the caller already read, to skip
            reading it again.
    """
    ids = list(dict.fromkeys(str(t) for t in thread_ids))
    if not ids:
        return {}
    if not store.read_only:
        ensure_access_tables(store)
    # Pinned requesters never change, and neither does a thread's first checkpoint, so both
    # are cached for the store's life: a decision then costs no query for them.
    cache = _requester_cache(store)
    out: dict[str, str] = {}
    to_pin: list[tuple[str, str, str, float]] = []
    misses = []
    for thread_id in ids:
        hit = cache.get(thread_id, _MISSING)
        if isinstance(hit, str):
            out[thread_id] = hit
        elif hit is None and latest is not None and thread_id in latest:
            requester = clean_name((latest.get(thread_id) or {}).get("requested_by"))
            if requester is not None:
                out[thread_id] = requester
                to_pin.append((thread_id, requester, "", time.time()))
        else:
            misses.append(thread_id)
    pinned_table = True
    for start in range(0, len(misses), 500):
        chunk = misses[start : start + 500]
        try:
            rows = requester_rows(store, chunk, pinned=pinned_table, with_latest=latest is None)
        except StoreError:
            if not store.read_only or not pinned_table:
                raise
            pinned_table = False  # a read-only database from before pinning: no table to read
            rows = requester_rows(store, chunk, pinned=False, with_latest=latest is None)
        for thread_id, pinned, first_id, first_meta, last_id, last_meta in rows:
            if pinned:
                out[thread_id] = cache[thread_id] = pinned
                continue
            requester = clean_name(checkpoint_metadata(first_meta).get("requested_by"))
            source = first_id
            if requester is None:
                cache[thread_id] = None  # the first checkpoint names nobody: only the latest can
                last = latest.get(thread_id) if latest is not None else checkpoint_metadata(last_meta)
                requester = clean_name((last or {}).get("requested_by"))
                source = last_id or first_id
            if requester is not None:
                out[thread_id] = requester
                to_pin.append((thread_id, requester, str(source or ""), time.time()))
        if latest is not None:
            # No checkpoint in this database (a thread on a LangGraph server): the thread's
            # metadata the caller read is its own, the requester it was started with.
            found = {row[0] for row in rows}
            for thread_id in chunk:
                requester = clean_name((latest.get(thread_id) or {}).get("requested_by")) if thread_id not in found else None
                if requester is not None:
                    out[thread_id] = requester
                    to_pin.append((thread_id, requester, "", time.time()))
    if to_pin and not store.read_only:
        pinned_now = pin_requesters(store, to_pin)
        if pinned_now is not None:  # else not pinned this time: derived again next time, same answer
            out.update(pinned_now)
            cache.update(pinned_now)
    return out


_MISSING = object()
_CACHES: weakref.WeakKeyDictionary[Store, dict[str, str | None]] = weakref.WeakKeyDictionary()


def _requester_cache(store: Store) -> dict[str, str | None]:
    """{thread: pinned requester, or None when its first checkpoint names none} for this store."""
    cache = _CACHES.setdefault(store, {})
    if len(cache) > 200_000:
        cache.clear()
    return cache


def requester_metadata(requester: str | None) -> dict[str, str]:
    """The metadata that carries a thread's requester into the checkpoints a resume writes."""
    return {"requested_by": requester} if requester else {}


def checkpoint_metadata(blob: Any) -> dict[str, Any]:
    if isinstance(blob, dict):
        return blob
    if blob is None:
        return {}
    try:
        data = json.loads(bytes(blob).decode("utf-8") if isinstance(blob, (bytes, memoryview)) else blob)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
