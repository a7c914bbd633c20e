"""Tests for skill.alexa.persistence: real SQLite files, real processes, a real moto server."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Application, Context, LaunchRequest, RequestEnvelope, Session, User
from ask_sdk_model.interfaces.system import SystemState

from skill.alexa import persistence
from skill.alexa.persistence import (
    PlainDynamoDbAdapter,
    SqliteAdapter,
    adapter_for,
    dynamodb_adapter,
    to_plain,
    user_key,
)
from skill.settings import DEFAULT_DYNAMODB_TABLE, Settings


def adapter_for_env(environ: dict[str, str]) -> object:
    """The adapter the settings from ``environ`` name, as an entry point builds it."""
    return adapter_for(Settings.from_env(environ))


APP_ID = "amzn1.ask.skill.test"
USER_ID = "amzn1.ask.account.TEST"


def envelope(user_id: str | None = USER_ID, *, in_context: bool = True) -> RequestEnvelope:
    """A minimal LaunchRequest envelope; the user sits in context and session."""
    app = Application(application_id=APP_ID)
    user = User(user_id=user_id) if user_id is not None else None
    return RequestEnvelope(
        version="1.0",
        context=Context(system=SystemState(application=app, user=user)) if in_context else None,
        session=Session(
            new=True, session_id="amzn1.echo-api.session.1", user=user, application=app
        ),
        request=LaunchRequest(
            request_id="amzn1.echo-api.request.1",
            timestamp=dt.datetime(2024, 5, 1, 7, 30, tzinfo=dt.UTC),
            locale="en-US",
        ),
    )


PROGRESS = {
    "routine": "hips",
    "pose": "pigeon",
    "side": "left",
    "step": 7,
    "elapsed": 312.5,
    "done": ["child's pose", "low lunge"],
    "prefs": {"pace": "slow", "voice": True, "volume": 0.75, "holds": [30, 45.5]},
    "last": None,
    "note": "Namasté ✓",
}


def find_decimals(obj: Any, where: str = "$") -> list[str]:
    if isinstance(obj, decimal.Decimal):
        return [where]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in find_decimals(v, f"{where}.{k}")]
    if isinstance(obj, list | tuple | set):
        return [p for i, v in enumerate(obj) for p in find_decimals(v, f"{where}[{i}]")]
    return []


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nested" / "progress.sqlite3"


@pytest.fixture
def sqlite_adapter(db_path: Path):
    with SqliteAdapter(db_path) as adapter:
        yield adapter


def raw_rows(path: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT user_key, attributes, updated_at FROM progress").fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Keys and conversion helpers
# --------------------------------------------------------------------------


def test_user_key_is_sha256_of_user_id_with_session_fallback():
    expected = hashlib.sha256(USER_ID.encode()).hexdigest()
    assert user_key(envelope()) == expected
    assert user_key(envelope(in_context=False)) == expected


def test_envelope_deserialised_from_json_gives_same_key():
    body = {
        "version": "1.0",
        "session": {
            "new": True,
            "sessionId": "amzn1.echo-api.session.1",
            "application": {"applicationId": APP_ID},
            "user": {"userId": USER_ID},
        },
        "context": {
            "System": {"application": {"applicationId": APP_ID}, "user": {"userId": USER_ID}}
        },
        "request": {
            "type": "LaunchRequest",
            "requestId": "amzn1.echo-api.request.1",
            "timestamp": "2024-05-01T07:30:00Z",
            "locale": "en-US",
        },
    }
    env = DefaultSerializer().deserialize(json.dumps(body), RequestEnvelope)
    assert user_key(env) == user_key(envelope())


def test_to_plain_converts_decimals_recursively():
    value = {
        "int": decimal.Decimal("3"),
        "big": decimal.Decimal("1E+2"),
        "neg": decimal.Decimal("-7"),
        "frac": decimal.Decimal("0.1"),
        "list": [decimal.Decimal("1"), {"deep": decimal.Decimal("2.5")}],
        "tuple": (decimal.Decimal("4"),),
        "set": {decimal.Decimal("3"), decimal.Decimal("1")},
        "str": "x",
        "bool": True,
        "none": None,
    }
    plain = to_plain(value)
    assert plain == {
        "int": 3,
        "big": 100,
        "neg": -7,
        "frac": 0.1,
        "list": [1, {"deep": 2.5}],
        "tuple": [4],
        "set": [1, 3],
        "str": "x",
        "bool": True,
        "none": None,
    }
    assert type(plain["int"]) is int
    assert type(plain["big"]) is int
    assert type(plain["frac"]) is float
    assert type(plain["list"][1]["deep"]) is float
    assert find_decimals(plain) == []
    assert math.isnan(to_plain(decimal.Decimal("NaN")))
    json.dumps(plain)  # serialisable


# --------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------


def test_sqlite_round_trip_creates_parent_dir(sqlite_adapter: SqliteAdapter, db_path: Path):
    assert not db_path.parent.exists()  # nothing touched until first use
    sqlite_adapter.save_attributes(envelope(), PROGRESS)
    assert db_path.exists()
    assert sqlite_adapter.get_attributes(envelope()) == PROGRESS
    # A second adapter (fresh connection) sees the same data.
    with SqliteAdapter(db_path) as other:
        assert other.get_attributes(envelope()) == PROGRESS
        # ... and an overwrite replaces it.
        other.save_attributes(envelope(), {"pose": "pigeon", "side": "right"})
    assert sqlite_adapter.get_attributes(envelope()) == {"pose": "pigeon", "side": "right"}


def test_sqlite_unknown_user_returns_empty(sqlite_adapter: SqliteAdapter):
    assert sqlite_adapter.get_attributes(envelope("amzn1.ask.account.NOBODY")) == {}
    sqlite_adapter.save_attributes(envelope(), PROGRESS)
    assert sqlite_adapter.get_attributes(envelope("amzn1.ask.account.NOBODY")) == {}


def test_sqlite_delete(sqlite_adapter: SqliteAdapter, db_path: Path):
    sqlite_adapter.save_attributes(envelope(), PROGRESS)
    sqlite_adapter.save_attributes(envelope("amzn1.ask.account.OTHER"), {"step": 1})
    sqlite_adapter.delete_attributes(envelope())
    assert sqlite_adapter.get_attributes(envelope()) == {}
    assert sqlite_adapter.get_attributes(envelope("amzn1.ask.account.OTHER")) == {"step": 1}
    sqlite_adapter.delete_attributes(envelope())  # deleting again is fine
    assert len(raw_rows(db_path)) == 1


def test_sqlite_row_layout_and_no_raw_user_id_in_files(
    sqlite_adapter: SqliteAdapter, db_path: Path
):
    for step in range(20):
        sqlite_adapter.save_attributes(envelope(), {**PROGRESS, "step": step})
    [(key, text, updated_at)] = raw_rows(db_path)
    assert key == hashlib.sha256(USER_ID.encode()).hexdigest()
    assert json.loads(text) == {**PROGRESS, "step": 19}
    assert abs(updated_at - dt.datetime.now(dt.UTC).timestamp()) < 60

    def all_bytes() -> bytes:
        files = sorted(db_path.parent.glob(db_path.name + "*"))
        assert db_path in files
        return b"".join(f.read_bytes() for f in files)

    needles = [USER_ID.encode(), USER_ID.encode("utf-16-le"), b"account.TEST"]
    data = all_bytes()  # main file + -wal + -shm while the connection is open
    assert not [n for n in needles if n in data]
    sqlite_adapter.close()  # last connection closes: WAL checkpointed into the main file
    data = all_bytes()
    assert not [n for n in needles if n in data]
    assert key.encode() in data  # sanity: we are looking at the right bytes


def test_sqlite_wal_mode_and_busy_timeout(sqlite_adapter: SqliteAdapter, db_path: Path):
    sqlite_adapter.get_attributes(envelope())
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    own = sqlite_adapter._connection()
    assert own.execute("PRAGMA busy_timeout").fetchone()[0] == 1500


@pytest.mark.parametrize("stored", ["{not json", '["a", "list"]', '"text"', ""])
def test_sqlite_corrupt_row_is_logged_and_treated_as_empty(
    sqlite_adapter: SqliteAdapter, db_path: Path, caplog: pytest.LogCaptureFixture, stored: str
):
    sqlite_adapter.save_attributes(envelope(), PROGRESS)
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute("UPDATE progress SET attributes = ?", (stored,))
    finally:
        conn.close()
    with caplog.at_level(logging.WARNING, logger="skill.alexa.persistence"):
        assert sqlite_adapter.get_attributes(envelope()) == {}
    assert any(r.name == "skill.alexa.persistence" for r in caplog.records)
    assert USER_ID not in caplog.text
    # The skill can carry on and overwrite the bad row.
    sqlite_adapter.save_attributes(envelope(), {"step": 1})
    assert sqlite_adapter.get_attributes(envelope()) == {"step": 1}


def test_sqlite_missing_user_id_raises(sqlite_adapter: SqliteAdapter):
    no_user = envelope(None)
    with pytest.raises(PersistenceException):
        sqlite_adapter.get_attributes(no_user)
    with pytest.raises(PersistenceException):
        sqlite_adapter.save_attributes(no_user, {"a": 1})
    with pytest.raises(PersistenceException):
        sqlite_adapter.delete_attributes(no_user)
    with pytest.raises(PersistenceException):
        sqlite_adapter.get_attributes(RequestEnvelope(request=LaunchRequest()))


def test_sqlite_decimal_input_stored_as_numbers(sqlite_adapter: SqliteAdapter, db_path: Path):
    sqlite_adapter.save_attributes(
        envelope(),
        {"step": decimal.Decimal("7"), "hold": decimal.Decimal("2.5"), "n": [decimal.Decimal(1)]},
    )
    [(_, text, _)] = raw_rows(db_path)
    assert json.loads(text) == {"step": 7, "hold": 2.5, "n": [1]}
    assert '"step":7' in text
    assert '"hold":2.5' in text
    got = sqlite_adapter.get_attributes(envelope())
    assert type(got["step"]) is int
    assert type(got["hold"]) is float


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}, {"x": b"bytes"}])
def test_sqlite_rejects_non_json_values(sqlite_adapter: SqliteAdapter, bad: dict):
    with pytest.raises(PersistenceException):
        sqlite_adapter.save_attributes(envelope(), bad)
    assert sqlite_adapter.get_attributes(envelope()) == {}


def test_sqlite_unusable_path_raises_persistence_exception(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with SqliteAdapter(blocker / "progress.sqlite3") as adapter:
        with pytest.raises(PersistenceException):
            adapter.get_attributes(envelope())
        with pytest.raises(PersistenceException):
            adapter.save_attributes(envelope(), {"a": 1})


def test_sqlite_through_ask_sdk_attributes_manager(sqlite_adapter: SqliteAdapter):
    manager = AttributesManager(request_envelope=envelope(), persistence_adapter=sqlite_adapter)
    assert manager.persistent_attributes == {}
    manager.persistent_attributes = {"pose": "pigeon", "side": "left"}
    manager.save_persistent_attributes()

    later = AttributesManager(request_envelope=envelope(), persistence_adapter=sqlite_adapter)
    assert later.persistent_attributes == {"pose": "pigeon", "side": "left"}
    later.delete_persistent_attributes()
    assert sqlite_adapter.get_attributes(envelope()) == {}


def test_sqlite_threads_share_one_adapter(db_path: Path):
    adapter = SqliteAdapter(db_path)
    errors: list[BaseException] = []
    connections: list[sqlite3.Connection] = []  # held, so no two share an id()

    def work(t: int) -> None:
        try:
            for i in range(30):
                adapter.save_attributes(envelope(f"amzn1.ask.account.T{t}-{i % 3}"), {"i": i})
                adapter.get_attributes(envelope(f"amzn1.ask.account.T{t}-{i % 3}"))
            connections.append(adapter._connection())
        except BaseException as exc:
            errors.append(exc)
        finally:
            adapter.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({id(c) for c in connections}) == 6  # one connection per thread
    with adapter:
        for t in range(6):
            for u, last in ((0, 27), (1, 28), (2, 29)):
                assert adapter.get_attributes(envelope(f"amzn1.ask.account.T{t}-{u}")) == {
                    "i": last
                }


def _forked_child(adapter: SqliteAdapter) -> None:
    inherited = adapter._local.conn
    assert inherited is not None
    adapter.save_attributes(envelope("amzn1.ask.account.CHILD"), {"from": "child"})
    assert adapter.get_attributes(envelope()) == {"from": "parent"}
    assert adapter._local.conn is not inherited
    assert inherited in persistence._inherited_connections
    adapter.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_sqlite_reopens_connection_after_fork(sqlite_adapter: SqliteAdapter):
    sqlite_adapter.save_attributes(envelope(), {"from": "parent"})  # parent connection open
    parent_conn = sqlite_adapter._local.conn
    child = multiprocessing.get_context("fork").Process(
        target=_forked_child, args=(sqlite_adapter,)
    )
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    child.close()
    # The parent's connection was neither used nor closed by the child.
    assert sqlite_adapter._local.conn is parent_conn
    assert sqlite_adapter.get_attributes(envelope("amzn1.ask.account.CHILD")) == {"from": "child"}
    sqlite_adapter.save_attributes(envelope(), {"from": "parent", "again": True})
    assert sqlite_adapter.get_attributes(envelope()) == {"from": "parent", "again": True}


# --------------------------------------------------------------------------
# Several processes, one SQLite file
# --------------------------------------------------------------------------

N_PROCS = 4
N_UPDATES = 100
USERS_PER_PROC = 5
SHARED_USER = "amzn1.ask.account.SHARED"


def _proc_user(proc: int, n: int) -> str:
    return f"amzn1.ask.account.P{proc}-U{n}"


def _writer_process(path: str, proc: int, barrier, results) -> None:
    """Spawned worker: 100 updates to its own users plus the shared user."""
    ok = 0
    errors: list[str] = []
    with SqliteAdapter(path) as adapter:
        barrier.wait(timeout=60)  # all workers start writing at the same moment
        for i in range(N_UPDATES):
            own = envelope(_proc_user(proc, i % USERS_PER_PROC))
            for env, value in (
                (own, {"proc": proc, "i": i}),
                (envelope(SHARED_USER), {"proc": proc, "i": i}),
            ):
                try:
                    adapter.save_attributes(env, value)
                    adapter.get_attributes(env)
                    ok += 1
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
    results.put({"proc": proc, "ok": ok, "errors": errors})


@pytest.fixture(scope="module")
def multi_process_run(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("multiproc") / "db" / "progress.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(N_PROCS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer_process, args=(str(path), p, barrier, results))
        for p in range(N_PROCS)
    ]
    for proc in procs:
        proc.start()
    try:
        reports = [results.get(timeout=60) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
        exitcodes = [proc.exitcode for proc in procs]
        for proc in procs:
            if proc.exitcode is None:
                proc.kill()
                proc.join()
            proc.close()
        results.close()
        results.join_thread()
    assert exitcodes == [0] * N_PROCS
    return path, sorted(reports, key=lambda r: r["proc"])


def test_processes_lose_no_progress(multi_process_run):
    path, _ = multi_process_run
    with SqliteAdapter(path) as adapter:
        for proc in range(N_PROCS):
            for n in range(USERS_PER_PROC):
                last = max(i for i in range(N_UPDATES) if i % USERS_PER_PROC == n)
                assert adapter.get_attributes(envelope(_proc_user(proc, n))) == {
                    "proc": proc,
                    "i": last,
                }
        # Last writer wins on the shared user: some process's final update.
        shared = adapter.get_attributes(envelope(SHARED_USER))
        assert shared["i"] == N_UPDATES - 1
        assert shared["proc"] in range(N_PROCS)
    assert len(raw_rows(path)) == N_PROCS * USERS_PER_PROC + 1


def test_concurrent_writers_never_hit_locked_database(multi_process_run):
    _, reports = multi_process_run
    assert [r["errors"] for r in reports] == [[]] * N_PROCS
    assert [r["ok"] for r in reports] == [2 * N_UPDATES] * N_PROCS


# --------------------------------------------------------------------------
# adapter_from_env
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["none", "NONE", " None "])
def test_adapter_from_env_none(value: str):
    assert adapter_for_env({"YOGA_PERSISTENCE": value}) is None


def test_adapter_from_env_sqlite(tmp_path: Path):
    db = tmp_path / "x" / "yoga.sqlite3"
    adapter = adapter_for_env({"YOGA_PERSISTENCE": "sqlite", "YOGA_DB": str(db)})
    assert isinstance(adapter, SqliteAdapter)
    assert adapter.path == db

    default = adapter_for_env({"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert isinstance(default, SqliteAdapter)
    assert default.path == tmp_path / "xdg" / "post-run-yoga" / "progress.sqlite3"

    home = adapter_for_env({"YOGA_PERSISTENCE": "", "HOME": str(tmp_path / "home")})
    assert isinstance(home, SqliteAdapter)
    assert home.path == tmp_path / "home/.local/share/post-run-yoga/progress.sqlite3"
    assert not (tmp_path / "xdg").exists()  # construction touches nothing
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("value", ["postgres", "dynamo", "sqlite3"])
def test_adapter_from_env_rejects_unknown_backend(value: str):
    with pytest.raises(ValueError, match="YOGA_PERSISTENCE") as info:
        adapter_for_env({"YOGA_PERSISTENCE": value})
    message = str(info.value)
    assert "\n" not in message
    assert value in message
    assert "sqlite" in message and "dynamodb" in message and "none" in message


# --------------------------------------------------------------------------
# DynamoDB against a real moto server over HTTP
# --------------------------------------------------------------------------


@pytest.fixture
def table_name() -> str:
    return f"progress-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dynamo(moto_endpoint: str, aws_env, table_name: str):
    with dynamodb_adapter(
        table_name, create_table=True, endpoint_url=moto_endpoint, region="us-east-1"
    ) as adapter:
        yield adapter


@pytest.fixture
def raw_table(moto_endpoint: str, aws_env, table_name: str):
    import boto3

    resource = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    yield resource.Table(table_name)
    resource.meta.client.close()


def test_dynamodb_uses_official_adapter(dynamo: PlainDynamoDbAdapter, table_name: str):
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    assert isinstance(dynamo, PlainDynamoDbAdapter)
    assert isinstance(dynamo.adapter, DynamoDbAdapter)
    assert dynamo.adapter.table_name == table_name
    assert dynamo.adapter.partition_key_name == "id"
    assert dynamo.adapter.attribute_name == "attributes"
    assert dynamo.adapter.partition_keygen is user_key


def test_dynamodb_round_trip_returns_plain_values(dynamo: PlainDynamoDbAdapter, raw_table):
    assert dynamo.get_attributes(envelope()) == {}
    dynamo.save_attributes(envelope(), PROGRESS)

    got = dynamo.get_attributes(envelope())
    assert got == PROGRESS
    assert find_decimals(got) == []
    assert type(got["step"]) is int
    assert type(got["elapsed"]) is float
    assert type(got["prefs"]["volume"]) is float
    assert [type(h) for h in got["prefs"]["holds"]] == [int, float]
    json.dumps(got, allow_nan=False)

    # Stored with the official schema, keyed by the hashed user id only.
    item = raw_table.get_item(Key={"id": user_key(envelope())}, ConsistentRead=True)["Item"]
    assert set(item) == {"id", "attributes"}
    assert find_decimals(item)  # DynamoDB itself hands back Decimals...
    assert to_plain(item["attributes"]) == PROGRESS  # ...which the wrapper converts
    scanned = raw_table.scan()["Items"]
    assert len(scanned) == 1
    assert "TEST" not in repr(scanned)


def test_dynamodb_decimal_input_and_overwrite(dynamo: PlainDynamoDbAdapter):
    dynamo.save_attributes(envelope(), {"step": decimal.Decimal("3"), "t": decimal.Decimal("1.5")})
    assert dynamo.get_attributes(envelope()) == {"step": 3, "t": 1.5}
    dynamo.save_attributes(envelope(), {"step": 4})
    assert dynamo.get_attributes(envelope()) == {"step": 4}
    assert dynamo.get_attributes(envelope("amzn1.ask.account.NOBODY")) == {}


def test_dynamodb_delete(dynamo: PlainDynamoDbAdapter, raw_table):
    dynamo.save_attributes(envelope(), PROGRESS)
    dynamo.save_attributes(envelope("amzn1.ask.account.OTHER"), {"step": 1})
    dynamo.delete_attributes(envelope())
    assert dynamo.get_attributes(envelope()) == {}
    assert dynamo.get_attributes(envelope("amzn1.ask.account.OTHER")) == {"step": 1}
    assert len(raw_table.scan()["Items"]) == 1


def test_dynamodb_through_ask_sdk_attributes_manager(dynamo: PlainDynamoDbAdapter):
    manager = AttributesManager(request_envelope=envelope(), persistence_adapter=dynamo)
    manager.persistent_attributes["pose"] = "pigeon"
    manager.persistent_attributes["hold"] = 45.5
    manager.save_persistent_attributes()
    later = AttributesManager(request_envelope=envelope(), persistence_adapter=dynamo)
    assert later.persistent_attributes == {"pose": "pigeon", "hold": 45.5}
    json.dumps(later.persistent_attributes)


def test_dynamodb_errors_become_persistence_exceptions(
    dynamo: PlainDynamoDbAdapter, moto_endpoint: str, aws_env
):
    with pytest.raises(PersistenceException):
        dynamo.get_attributes(envelope(None))
    with pytest.raises(PersistenceException):
        dynamo.save_attributes(envelope(), {"x": float("inf")})
    with (
        dynamodb_adapter(
            "no-such-table", endpoint_url=moto_endpoint, region="us-east-1"
        ) as missing,
        pytest.raises(PersistenceException),
    ):
        missing.get_attributes(envelope())


def test_dynamodb_create_table_is_idempotent(dynamo, moto_endpoint: str, aws_env, table_name):
    dynamo.save_attributes(envelope(), {"step": 1})
    with dynamodb_adapter(
        table_name, create_table=True, endpoint_url=moto_endpoint, region="us-east-1"
    ) as again:
        assert again.get_attributes(envelope()) == {"step": 1}


def test_adapter_from_env_dynamodb(moto_endpoint: str, aws_env):
    env = {
        "YOGA_PERSISTENCE": "DynamoDB",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_REGION": "us-east-1",
        "YOGA_DYNAMODB_CREATE_TABLE": "1",
    }
    adapter = adapter_for_env(env)
    assert isinstance(adapter, PlainDynamoDbAdapter)
    with adapter:
        assert adapter.adapter.table_name == DEFAULT_DYNAMODB_TABLE
        client = adapter.adapter.dynamodb.meta.client
        assert client.meta.endpoint_url == moto_endpoint
        assert client.meta.region_name == "us-east-1"
        adapter.save_attributes(envelope(), {"step": 2})
        assert adapter.get_attributes(envelope()) == {"step": 2}

    specific = adapter_for_env(
        {
            "YOGA_PERSISTENCE": "dynamodb",
            "YOGA_DYNAMODB_TABLE": "custom-table",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # overridden below
            "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert isinstance(specific, PlainDynamoDbAdapter)
    with specific:
        assert specific.adapter.table_name == "custom-table"
        client = specific.adapter.dynamodb.meta.client
        assert client.meta.endpoint_url == moto_endpoint
        assert client.meta.region_name == "eu-west-1"


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AWS_* at all, and a HOME without ~/.aws, so boto3 finds no region."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path / "home"),
        AWS_CONFIG_FILE=str(tmp_path / "missing-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "missing-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return env


def _run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_import_and_sqlite_work_with_no_aws_region(tmp_path: Path):
    db = tmp_path / "db" / "yoga.sqlite3"
    code = f"""
        import boto3, botocore.exceptions
        try:
            boto3.session.Session().resource("dynamodb")
        except botocore.exceptions.NoRegionError:
            pass
        else:
            raise SystemExit("expected no AWS region in this environment")
        import skill.alexa.persistence, skill.settings
        a = skill.alexa.persistence.adapter_for(skill.settings.Settings.from_env(
            {{"YOGA_PERSISTENCE": "sqlite", "YOGA_DB": {str(db)!r}}}
        ))
        assert isinstance(a, skill.alexa.persistence.SqliteAdapter)
        print("ok")
    """
    assert _run_python(code, _clean_env(tmp_path)).stdout.strip() == "ok"


def test_lazy_dynamodb_import_works_with_no_aws_region(tmp_path: Path, moto_endpoint: str):
    # Credentials are needed to sign requests, but no region is configured:
    # a plain `import ask_sdk_dynamodb.adapter` would raise NoRegionError.
    env = _clean_env(tmp_path, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    code = f"""
        import json, boto3
        from ask_sdk_model import RequestEnvelope, Context, User
        from ask_sdk_model.interfaces.system import SystemState
        from skill.alexa.persistence import adapter_for, dynamodb_adapter
        from skill.settings import Settings

        try:
            dynamodb_adapter("t")
        except ValueError as exc:
            assert "region" in str(exc), exc
        else:
            raise SystemExit("expected ValueError without a region")
        assert boto3.DEFAULT_SESSION is None, boto3.DEFAULT_SESSION

        a = adapter_for(Settings.from_env({{
            "YOGA_PERSISTENCE": "dynamodb",
            "YOGA_DYNAMODB_CREATE_TABLE": "true",
            "YOGA_DYNAMODB_TABLE": "no-region-test",
            "AWS_ENDPOINT_URL_DYNAMODB": {moto_endpoint!r},
            "AWS_REGION": "us-east-1",
        }}))
        env = RequestEnvelope(context=Context(system=SystemState(user=User(user_id="u1"))))
        a.save_attributes(env, {{"n": 1, "x": 0.5}})
        print(json.dumps(a.get_attributes(env), sort_keys=True))
        a.close()
        assert boto3.DEFAULT_SESSION is None, boto3.DEFAULT_SESSION
    """
    assert _run_python(code, env).stdout.strip() == '{"n": 1, "x": 0.5}'
