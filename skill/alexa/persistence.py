"""Persistence adapters for the skill's persistent attributes.

The skill remembers a runner's progress across sessions ("Welcome back, you
were in pigeon pose on the left side...") through ask-sdk persistent
attributes (``handler_input.attributes_manager.persistent_attributes`` and
``save_persistent_attributes()``).  This module provides the adapters that
back them:

* :class:`SqliteAdapter` -- a local SQLite file (WAL mode, upserts), safe for
  several threads and several worker processes (e.g. gunicorn) at once.
* :func:`dynamodb_adapter` -- the official ``ask_sdk_dynamodb`` adapter,
  imported lazily and wrapped in :class:`PlainDynamoDbAdapter` so that
  DynamoDB's ``Decimal`` numbers never reach the skill (or a JSON response).
* :func:`adapter_for` -- picks one of the above from the settings.

Both adapters key records by :func:`user_key`, the SHA-256 of the Alexa user
id, so the raw user id is never stored.
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import importlib
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

from skill.settings import DEFAULT_DYNAMODB_TABLE, Settings

if TYPE_CHECKING:
    import sqlite3  # imported where SQLite is used: the Lambda keeps none

    from ask_sdk_dynamodb.adapter import DynamoDbAdapter
    from ask_sdk_model import RequestEnvelope

__all__ = [
    "PlainDynamoDbAdapter",
    "SqliteAdapter",
    "adapter_for",
    "dynamodb_adapter",
    "to_plain",
    "user_id_from_envelope",
    "user_key",
]

logger = logging.getLogger(__name__)

#: How long a SQLite writer waits for another process's write lock. Writes take milliseconds;
#: a lock held longer is something wrong, and Alexa gives the whole answer 8 s.
BUSY_TIMEOUT_SECONDS = 1.5

#: DynamoDB's budget, sized to Alexa's 8 s for the whole answer: a connection within 1 s, an
#: answer within 1 s of sending, and one retry, so a store that does not answer costs a call
#: about 2 to 3 s (with the retry's back-off) instead of botocore's minutes.
DYNAMODB_CONNECT_TIMEOUT = 1.0
DYNAMODB_READ_TIMEOUT = 1.0
DYNAMODB_MAX_ATTEMPTS = 2
#: After DynamoDB failed to answer, calls fail at once for this long rather than each waiting
#: the budget again: a launch reads and then saves, and would otherwise pay twice.
DYNAMODB_BACKOFF_SECONDS = 10.0


# --------------------------------------------------------------------------
# Keys and value conversion
# --------------------------------------------------------------------------


def user_id_from_envelope(request_envelope: RequestEnvelope) -> str:
    """Return the Alexa user id of a request.

    Looks at ``context.System.user.userId`` first and falls back to
    ``session.user.userId``.  Raises :class:`PersistenceException` if neither
    is present.
    """
    for path in (("context", "system", "user", "user_id"), ("session", "user", "user_id")):
        node: Any = request_envelope
        for attr in path:
            node = getattr(node, attr, None)
            if node is None:
                break
        if isinstance(node, str) and node:
            return node
    raise PersistenceException(
        "Couldn't retrieve the user id from the request envelope "
        "(neither context.System.user.userId nor session.user.userId is set)"
    )


def user_key(request_envelope: RequestEnvelope) -> str:
    """Storage key for a request: hex SHA-256 of the user id (never the raw id).

    Usable as a ``partition_keygen`` for the official DynamoDB adapter.
    """
    import hashlib  # here: it loads OpenSSL, which a cold start without a store never needs

    user_id = user_id_from_envelope(request_envelope)
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def to_plain(obj: Any) -> Any:
    """Recursively convert DynamoDB-style values into plain JSON types.

    ``Decimal`` becomes ``int`` when it is integral and ``float`` otherwise;
    tuples, sets and frozensets become lists (sets sorted when possible, as
    DynamoDB string/number sets are unordered); dict keys are kept.  Other
    values are returned unchanged.
    """
    if isinstance(obj, decimal.Decimal):
        if obj.is_finite() and obj == obj.to_integral_value():
            return int(obj)
        return float(obj)
    if isinstance(obj, dict):
        return {key: to_plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(value) for value in obj]
    if isinstance(obj, set | frozenset):
        items = [to_plain(value) for value in obj]
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    return obj


def _to_dynamo(obj: Any) -> Any:
    """Convert plain JSON values into what boto3 accepts (floats -> Decimal).

    boto3's serializer rejects ``float`` ("Float types are not supported. Use
    Decimal types instead."), so floats go in as ``Decimal(repr(f))``, which
    round-trips exactly.  NaN and infinities are rejected because JSON has no
    representation for them.
    """
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise PersistenceException(f"Cannot persist non-finite number {obj!r}")
        return decimal.Decimal(repr(obj))
    if isinstance(obj, dict):
        return {key: _to_dynamo(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_to_dynamo(value) for value in obj]
    return obj


def _plain_default(obj: Any) -> Any:
    """For json.dumps: a Decimal or set as :func:`to_plain` has it; anything else is not JSON."""
    if isinstance(obj, decimal.Decimal | set | frozenset):
        return to_plain(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


@functools.cache
def _orjson() -> Any:
    """orjson where it is installed (the webhook's), else None (the Lambda's runtime)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - the test environment has it
        return None
    return orjson


def _orjson_text(record: dict[str, Any]) -> str | None:
    """``record`` as orjson writes it, when that text is exactly the record; else None.

    orjson writes a record with its history about ten times faster than json, but it writes NaN
    and infinities as null where json refuses them, and types json refuses (a dataclass, a UUID,
    a datetime) as values. So the text is read back: only a record that comes back equal is
    written this way; anything else goes the json way below, refusals included.
    """
    orjson = _orjson()
    if orjson is None:
        return None
    try:
        out = orjson.dumps(record)
        same = orjson.loads(out) == record
    except (TypeError, ValueError):  # keys that are not strings, big integers, sets, Decimals
        return None
    return out.decode() if same else None


def _dumps(attributes: Mapping[str, Any]) -> str:
    """Serialise attributes to strict JSON text, raising PersistenceException."""
    if not isinstance(attributes, Mapping):
        raise PersistenceException(
            f"Persistent attributes must be a dict, not {type(attributes).__name__}"
        )
    record = dict(attributes)
    fast = _orjson_text(record)
    if fast is not None:
        return fast
    try:
        # What json cannot encode itself goes through to_plain (the same text as converting the
        # whole record first, without walking it in Python: a record holds the history too).
        return json.dumps(
            record,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
            default=_plain_default,
        )
    except (TypeError, ValueError) as exc:
        raise PersistenceException(
            f"Persistent attributes are not JSON-serialisable: {exc}"
        ) from exc


# --------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS progress (
    user_key   TEXT PRIMARY KEY NOT NULL,
    attributes TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID
"""

_UPSERT = """
INSERT INTO progress (user_key, attributes, updated_at) VALUES (?, ?, ?)
ON CONFLICT (user_key) DO UPDATE SET
    attributes = excluded.attributes,
    updated_at = excluded.updated_at
"""

# Connections inherited from a parent process across fork().  They must not be
# used in the child, and must not be closed or garbage-collected there either:
# closing a WAL connection may checkpoint or unlink files the parent still uses.
# Keeping a reference means the child simply leaks the handle.
_inherited_connections: list[sqlite3.Connection] = []


class SqliteAdapter(AbstractPersistenceAdapter):
    """Persistence adapter storing attributes as JSON in a SQLite file.

    One row per user: ``user_key`` (SHA-256 of the user id), ``attributes``
    (JSON text) and ``updated_at`` (unix seconds).  The database runs in WAL
    mode with a busy timeout, and saves are single-statement upserts, so
    several threads and worker processes can share one file without losing
    writes (last writer wins per user).

    Each thread gets its own connection, opened lazily (the parent directory
    and the table are created on first use).  After ``fork()`` the child opens
    fresh connections instead of reusing the parent's.  :meth:`close` closes
    the calling thread's connection; the adapter is also a context manager.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- connection handling ------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit; every statement below is atomic.
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        import sqlite3

        # Switching an existing database into WAL needs a brief exclusive lock
        # and SQLite may report SQLITE_BUSY here without consulting the busy
        # handler when several processes open the file at once; retry until
        # the timeout.  Once the file is in WAL mode this is a no-op.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                logger.warning("SQLite database %s is not in WAL mode (%s)", self.path, mode)
            return

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        pid = os.getpid()
        if conn is not None and getattr(local, "pid", None) != pid:
            # Inherited across fork(): abandon it (see _inherited_connections).
            _inherited_connections.append(conn)
            conn = None
        if conn is None:
            conn = self._connect()
            local.conn = conn
            local.pid = pid
        return conn

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        import sqlite3

        try:
            return self._connection().execute(sql, params)
        except (sqlite3.Error, OSError) as exc:
            raise PersistenceException(
                f"SQLite persistence failed ({self.path}): {type(exc).__name__}: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the calling thread's connection (it reopens on next use)."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        local.conn = None
        if conn is not None:
            if getattr(local, "pid", None) == os.getpid():
                conn.close()
            else:
                _inherited_connections.append(conn)

    def __enter__(self) -> SqliteAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- AbstractPersistenceAdapter ------------------------------------------

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        key = user_key(request_envelope)
        row = self._execute("SELECT attributes FROM progress WHERE user_key = ?", (key,)).fetchone()
        if row is None:
            return {}
        import orjson  # the webhook's (not the Lambda's, which keeps no SQLite)

        try:
            value = orjson.loads(row[0])  # several times faster than json on a long history
        except (TypeError, ValueError) as exc:
            logger.warning(
                "Ignoring corrupt persistent attributes for user key %s…: %s", key[:12], exc
            )
            return {}
        if not isinstance(value, dict):
            logger.warning(
                "Ignoring persistent attributes for user key %s…: expected an object, got %s",
                key[:12],
                type(value).__name__,
            )
            return {}
        return value

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: Mapping[str, Any]
    ) -> None:
        key = user_key(request_envelope)
        text = _dumps(attributes)
        self._execute(_UPSERT, (key, text, int(time.time())))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        key = user_key(request_envelope)
        self._execute("DELETE FROM progress WHERE user_key = ?", (key,))


# --------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------

_import_lock = threading.Lock()


def _import_official_dynamodb_adapter() -> type[DynamoDbAdapter]:
    """Import ``ask_sdk_dynamodb.adapter.DynamoDbAdapter`` even with no AWS region.

    ``DynamoDbAdapter.__init__`` declares ``dynamodb_resource=boto3.resource(
    "dynamodb")`` as a *default argument*, so merely importing the module
    builds a boto3 resource through ``boto3``'s module-level default session
    and raises ``NoRegionError`` when no region is configured (and, on
    failure, leaves a half-configured ``boto3.DEFAULT_SESSION`` behind).

    We always pass ``dynamodb_resource`` explicitly, so that default is never
    used.  Rather than writing ``AWS_DEFAULT_REGION`` into ``os.environ``
    (process-wide, inherited by subprocesses, and it would silently change
    which region *other* boto3 code talks to), we install a throw-away
    ``boto3.session.Session(region_name="us-east-1")`` as
    ``boto3.DEFAULT_SESSION`` for the duration of the import only, then put
    the previous default session (usually ``None``) back.  Building that
    resource makes no network call and needs no credentials.  The swap is
    skipped when the module is already imported.  (Side effect: code that
    builds a ``DynamoDbAdapter`` *without* ``dynamodb_resource`` gets that
    us-east-1 placeholder instead of a ``NoRegionError``; we never do.)
    """
    if "ask_sdk_dynamodb.adapter" not in sys.modules:
        import boto3
        import boto3.session

        with _import_lock:
            if "ask_sdk_dynamodb.adapter" not in sys.modules:
                previous = boto3.DEFAULT_SESSION
                boto3.DEFAULT_SESSION = boto3.session.Session(region_name="us-east-1")
                try:
                    importlib.import_module("ask_sdk_dynamodb.adapter")
                finally:
                    boto3.DEFAULT_SESSION = previous
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    return DynamoDbAdapter


class PlainDynamoDbAdapter(AbstractPersistenceAdapter):
    """Wrapper around the official ``DynamoDbAdapter`` that speaks plain JSON.

    * :meth:`get_attributes` converts DynamoDB's ``Decimal`` numbers (and sets)
      to ``int``/``float``/``list`` via :func:`to_plain`.
    * :meth:`save_attributes` converts ``float`` to ``Decimal`` (boto3 refuses
      floats) and ``Decimal`` input is accepted as well.

    The wrapped adapter is available as :attr:`adapter`; :meth:`close`
    closes the boto3 client's HTTP connection pool.
    """

    def __init__(
        self,
        adapter: AbstractPersistenceAdapter,
        *,
        backoff_seconds: float = DYNAMODB_BACKOFF_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.adapter = adapter
        self.backoff_seconds = backoff_seconds
        self.clock = clock
        self._unreachable_until = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table_name={getattr(self.adapter, 'table_name', '?')!r})"

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run one call to DynamoDB, failing at once while it is known not to answer."""
        now = self.clock()
        if now < self._unreachable_until:
            raise PersistenceException(
                f"DynamoDB {what} skipped: the store did not answer "
                f"{self.backoff_seconds - (self._unreachable_until - now):.1f} s ago"
            )
        try:
            return call()
        except Exception as exc:
            cause = _network_failure(exc)
            if cause is not None:
                self._unreachable_until = self.clock() + self.backoff_seconds
                logger.warning(
                    "DynamoDB %s failed after %.1f s (%s: %s); calls fail at once for %.0f s",
                    what,
                    self.clock() - now,
                    type(cause).__name__,
                    cause,
                    self.backoff_seconds,
                )
            raise

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        raw = self._call("read", lambda: self.adapter.get_attributes(request_envelope))
        attributes: dict[str, Any] = to_plain(raw)
        return attributes

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: Mapping[str, Any]
    ) -> None:
        # Validate as JSON first so DynamoDB stores exactly what SQLite would.
        plain = _to_dynamo(json.loads(_dumps(attributes)))
        self._call("write", lambda: self.adapter.save_attributes(request_envelope, plain))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self._call("delete", lambda: self.adapter.delete_attributes(request_envelope))

    def close(self) -> None:
        """Close the underlying boto3 client's connections."""
        resource = getattr(self.adapter, "dynamodb", None)
        client = getattr(getattr(resource, "meta", None), "client", None)
        if client is not None:
            client.close()

    def __enter__(self) -> PlainDynamoDbAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _network_failure(exc: BaseException) -> BaseException | None:
    """The botocore connection or timeout error behind ``exc`` (the official adapter wraps it in
    a PersistenceException), or None for any other failure."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, BotoConnectionError | HTTPClientError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def dynamodb_timeouts() -> Any:
    """The botocore configuration of :func:`dynamodb_adapter`: short timeouts, one retry."""
    from botocore.config import Config

    return Config(
        connect_timeout=DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=DYNAMODB_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": DYNAMODB_MAX_ATTEMPTS},
    )


def dynamodb_adapter(
    table_name: str = DEFAULT_DYNAMODB_TABLE,
    *,
    create_table: bool = False,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> PlainDynamoDbAdapter:
    """Build the official ask-sdk DynamoDB adapter, wrapped to return plain JSON.

    The table uses the official adapter's schema: a string partition key
    ``id`` (here the SHA-256 of the user id, see :func:`user_key`) and the
    attributes map under ``attributes``.  With ``create_table=True`` the
    adapter creates the table if it does not exist (provisioned 5/5).

    ``region`` defaults to the region boto3 resolves from the environment /
    AWS config; a clear ``ValueError`` is raised if there is none.
    ``endpoint_url`` points at DynamoDB Local, moto, etc. Calls time out within the budget of
    :func:`dynamodb_timeouts` (about 2 to 3 s a call at worst).
    """
    import boto3.session

    dynamo_adapter_cls = _import_official_dynamodb_adapter()
    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise ValueError(
            "No AWS region configured for DynamoDB persistence: pass region= "
            "or set AWS_REGION / AWS_DEFAULT_REGION"
        )
    resource = session.resource("dynamodb", endpoint_url=endpoint_url, config=dynamodb_timeouts())
    try:
        adapter = dynamo_adapter_cls(
            table_name=table_name,
            create_table=create_table,
            partition_keygen=user_key,
            dynamodb_resource=resource,
        )
    except BaseException:
        resource.meta.client.close()
        raise
    return PlainDynamoDbAdapter(adapter)


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


def adapter_for(settings: Settings) -> AbstractPersistenceAdapter | None:
    """The persistence adapter the settings name: SQLite, DynamoDB, or ``None`` for none."""
    if settings.persistence == "sqlite" and settings.db_path is not None:
        return SqliteAdapter(settings.db_path)
    if settings.persistence == "dynamodb":
        return dynamodb_adapter(
            settings.dynamodb_table,
            create_table=settings.dynamodb_create_table,
            endpoint_url=settings.dynamodb_endpoint,
            region=settings.aws_region,
        )
    return None
