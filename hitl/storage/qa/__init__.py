"""All of QA's SQL: the `hitl_qa_*` tables beside the checkpointer's, on SQLite and PostgreSQL.

The tables are created with the desk's own, by the numbered steps of `hitl.storage.migrations`
(their DDL is in `hitl.storage.schema_records`), when the store opens.

| table | one row per |
|---|---|
| `hitl_qa_queues` | queue: its definition as JSON, where it came from (config or page) |
| `hitl_qa_items` | thread in a queue (sampled, or added by hand, e.g. a fork) |
| `hitl_qa_reservations` | item held by a reviewer until `reserved_until` (lapses by itself) |
| `hitl_qa_submissions` | reviewer's scores (JSON by rubric), correction and comment for an item |
| `hitl_qa_skips` | item a reviewer skipped (not offered to them again) |
| `hitl_qa_adjudications` | item's final scores and correction, set by an adjudicator (latest wins) |
| `hitl_qa_forks` | fork thread: where it branched off, what was answered instead, how it ended |

Every write here is one transaction (`Store.connection(write=True)`: SQLite `BEGIN IMMEDIATE`,
PostgreSQL the desk's advisory lock), so "pick an item and reserve it" is atomic across desks.

The package: `QaStorage` joins `queues` (queues, items, reservations, skips), `scores`
(submissions, adjudications) and `forks`, each over `schema` (its version); `rows` holds the
row types.
"""

from __future__ import annotations

from hitl.storage.qa.forks import ForkTables
from hitl.storage.qa.queues import QueueTables
from hitl.storage.qa.rows import AdjudicationRow, ForkRow, ItemRow, SubmissionRow
from hitl.storage.qa.schema import SCHEMA_VERSION
from hitl.storage.qa.scores import ScoreTables

__all__ = ["QaStorage", "SCHEMA_VERSION", "ItemRow", "SubmissionRow", "AdjudicationRow", "ForkRow"]


class QaStorage(QueueTables, ScoreTables, ForkTables):
    """The QA tables of one desk database (`Store`)."""
