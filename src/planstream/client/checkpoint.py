"""The durable cursor: where each plan's stream resumes after the process restarts.

``ClientSettings.checkpoint`` names a SQLite file (the standard library's
:mod:`sqlite3`) holding **one row per plan**: the position — event id and
seq — of the last item the user *finished*. ``client.subscribe(plan_id)``
without ``last_event_id`` starts after it; an explicit ``last_event_id`` wins.

A position is committed when the user's loop asks for the next item (the
:class:`~planstream.client.inbox.DeliveryObserver` hook ``next_requested``:
the previous item is done), or by ``await subscription.commit()`` (the item
held now is done). A ``Resync`` is a position too: its snapshot's head, or
"from the start" when the head is None. Nothing is written when the position
did not move. So: exactly once within a process, at least once across a crash
— at most the item in flight (handed out, not finished) is seen again.

Durability, chosen deliberately: the WAL journal with ``synchronous=NORMAL``.
A commit is one small transaction appended to the WAL through the OS page
cache, with no fsync: it survives the process being killed (SIGKILL, a crash),
not a power loss or a kernel panic, which may lose the last commits (the file
stays consistent: the stream then resumes a little earlier, and the seen
items come again). ``synchronous=FULL`` would survive those too at the price
of an fsync per committed item (docs/guide/client.md has the measured costs).

Several clients and processes may share one file: WAL lets readers run beside
the one writer, and a writer waits up to :data:`BUSY_TIMEOUT_S` for another
one's transaction. A write that fails — disk full, the file removed or
replaced, locked past the timeout — raises
:class:`~planstream.errors.CheckpointError` from the iterator (or
``commit()``): a lost position is never silent.

The writes are synchronous, on the event loop's thread: a commit costs tens of
microseconds, less than handing it to a thread would.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from planstream.errors import CheckpointError, ClientClosedError, InvalidIdError
from planstream.plan_cursor import Position
from planstream.schema.limits import check_stream_ids

if TYPE_CHECKING:
    from planstream.client.inbox import SubscriptionInbox
    from planstream.delivery import Delivery

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "CheckpointObserver",
    "CheckpointStore",
]

#: ``PRAGMA application_id`` of a planstream checkpoint file ("plnc"): another
#: program's database is refused, never written into.
APPLICATION_ID = 0x706C6E63
#: ``PRAGMA user_version`` of the layout below.
SCHEMA_VERSION = 1
#: How long a write waits for another writer's transaction before failing, s.
BUSY_TIMEOUT_S = 2.0

# Literal SQL (no string building): the table name is ours, values are parameters.
_TABLE = "planstream_checkpoint"
_COLUMNS = ("plan_id", "event_id", "seq", "updated_at")
_CREATE = """CREATE TABLE planstream_checkpoint (
    plan_id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL
)"""
_UPSERT = (
    "INSERT INTO planstream_checkpoint (plan_id, event_id, seq, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (plan_id) DO UPDATE SET "
    "event_id = excluded.event_id, seq = excluded.seq, updated_at = excluded.updated_at"
)
_SELECT = "SELECT event_id, seq FROM planstream_checkpoint WHERE plan_id = ?"
_TABLE_INFO = "PRAGMA table_info(planstream_checkpoint)"


class CheckpointStore:
    """One checkpoint file, open: read and write each plan's position.

    Open it with :meth:`open`; :meth:`close` it once done.
    """

    __slots__ = ("_connection", "_identity", "path")

    def __init__(self, path: Path, connection: sqlite3.Connection, identity: tuple[int, int]):
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        #: (device, inode) of the file opened: a removed or replaced file is
        #: noticed before a write that would land nowhere.
        self._identity = identity

    def __repr__(self) -> str:
        state = "closed" if self._connection is None else "open"
        return f"CheckpointStore(path={str(self.path)!r}, {state})"

    @classmethod
    def open(cls, path: Path) -> CheckpointStore:
        """Open (creating it if need be) the checkpoint file at ``path``.

        Raises:
            CheckpointError: the file cannot be opened, is not SQLite, or is
                another program's database (or a newer planstream's layout).
        """
        if path.is_dir():
            raise CheckpointError(path, "is a directory, not a file")
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise CheckpointError(path, f"cannot be opened ({exc})") from None
        try:
            _prepare(connection, path)
            stat = os.stat(path)
        except BaseException:
            connection.close()
            raise
        return cls(path, connection, (stat.st_dev, stat.st_ino))

    def load(self, plan_id: str) -> Position | None:
        """The plan's committed position, or None if none was ever committed.

        Raises:
            CheckpointError: the file cannot be read, or its row is not a position.
        """
        try:
            row = self._live().execute(_SELECT, (plan_id,)).fetchone()
        except sqlite3.Error as exc:
            raise CheckpointError(self.path, f"cannot be read ({exc})") from None
        if row is None:
            return None
        event_id, seq = row
        if (event_id is not None and not isinstance(event_id, str)) or type(seq) is not int:
            raise CheckpointError(self.path, f"holds no valid position for plan {plan_id!r}")
        try:
            check_stream_ids(plan_id, event_id)
        except InvalidIdError as exc:
            raise CheckpointError(self.path, f"plan {plan_id!r}: {exc.problem}") from None
        return Position(event_id, seq)

    def save(self, plan_id: str, position: Position) -> None:
        """Commit ``position`` as the plan's (one small transaction).

        Raises:
            CheckpointError: the write failed: the position is not stored.
        """
        connection = self._live()
        self._check_same_file()
        try:
            connection.execute(_UPSERT, (plan_id, position.event_id, position.seq, time.time()))
        except sqlite3.Error as exc:
            raise CheckpointError(self.path, f"the position was not written ({exc})") from None

    def close(self) -> None:
        """Close the file (idempotent); loads and saves raise ``ClientClosedError`` afterwards."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            # The client's aclose() closed it under a running loop: as for any
            # iterator of a closed client; the unfinished item comes again after a restart.
            raise ClientClosedError("the client was closed: its checkpoint is no longer written")
        return self._connection

    def _check_same_file(self) -> None:
        try:
            stat = os.stat(self.path)
        except OSError:
            raise CheckpointError(self.path, "was removed while in use") from None
        if (stat.st_dev, stat.st_ino) != self._identity:
            raise CheckpointError(self.path, "was replaced by another file while in use")


def _prepare(connection: sqlite3.Connection, path: Path) -> None:
    """WAL, NORMAL sync, and the layout: created in a new file, checked in an old one."""
    try:
        # Persistent in the file; a no-op once set. Needs no transaction open.
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        connection.execute("PRAGMA synchronous=NORMAL")
        # IMMEDIATE: two processes creating the same new file do not both create.
        connection.execute("BEGIN IMMEDIATE")
        try:
            _check_or_create(connection, path)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:  # "file is not a database", I/O errors, locks
        raise CheckpointError(path, f"is not a usable SQLite database ({exc})") from None
    if str(mode).lower() != "wal":
        raise CheckpointError(path, f"cannot use the WAL journal (journal_mode is {mode})")


def _check_or_create(connection: sqlite3.Connection, path: Path) -> None:
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id == 0 and version == 0 and tables == 0:  # a new (or empty) file
        connection.execute(_CREATE)
        connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return
    if application_id != APPLICATION_ID:
        raise CheckpointError(path, "is another program's SQLite database, not a checkpoint")
    if version != SCHEMA_VERSION:
        raise CheckpointError(
            path, f"has checkpoint layout {version}; this planstream reads {SCHEMA_VERSION}"
        )
    columns = tuple(row[1] for row in connection.execute(_TABLE_INFO))
    if columns != _COLUMNS:
        raise CheckpointError(path, f"has no valid {_TABLE} table")


class CheckpointObserver:
    """Commits each subscription's finished position to a :class:`CheckpointStore`.

    A :class:`~planstream.client.inbox.DeliveryObserver`: on ``next_requested``
    the item the user held (``inbox.taken``) is finished. Remembers what each
    plan's row holds, so a position that did not move costs no write.
    """

    __slots__ = ("_stored", "store")

    def __init__(self, store: CheckpointStore) -> None:
        self.store = store
        #: plan id -> the event id its row holds (None: "from the start").
        self._stored: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"CheckpointObserver({self.store!r}, plans={len(self._stored)})"

    def start_after(self, plan_id: str) -> str | None:
        """The event id ``subscribe(plan_id)`` resumes after (None: from the start).

        Raises:
            CheckpointError: the file cannot be read.
        """
        position = self.store.load(plan_id)
        if position is None:
            return None
        self._stored[plan_id] = position.event_id
        return position.event_id

    def next_requested(self, inbox: SubscriptionInbox) -> None:
        """The user finished ``inbox.taken``: commit it (if the position moved)."""
        if inbox.taken is not None:
            self.commit(inbox)

    def taken(self, inbox: SubscriptionInbox, item: Delivery) -> None:
        """Handed out is not finished: nothing to commit yet."""

    def commit(self, inbox: SubscriptionInbox) -> None:
        """Commit the position of the item the user holds (``inbox.taken``).

        Raises:
            CheckpointError: the write failed.
        """
        if inbox.taken is None:
            return  # nothing taken yet: the start position is already the row's
        plan_id = inbox.plan_id
        event_id = inbox.taken_event_id
        stored = self._stored
        if plan_id in stored and stored[plan_id] == event_id:
            return
        # taken_seq is known once an item was taken (a Resync's head: 0 without one).
        self.store.save(plan_id, Position(event_id, inbox.taken_seq))
        stored[plan_id] = event_id
