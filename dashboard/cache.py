"""A shared cache for figures (counts, rates, trend series, national summaries), never records.

`cached(session, kind, viewer, key_parts, compute)` returns `compute()`'s answer, kept for
CACHE_SECONDS (300; 0 turns the cache off) in Redis when REDIS_URL is set, so every worker
shares it, or else in this process's memory (a small LRU).

Keys. Every key holds, in this order: the data generation, the kind of figure, the viewer's
access scope and a digest of the filters. So:
- figures are never shared between two viewers whose access could differ (`scope_key`);
- every filter that changes the answer is in the digest (the frozen query dataclasses whole,
  dates as ISO, enums as their values), and the key holds no record text, only a SHA-256 digest;
- any change to the records behind the figures starts a new generation: every earlier entry is
  out of use at once, in every worker (the generation is a Redis counter, INCR'd after the commit).

Values are JSON with a tag for dates, tuples and the figure dataclasses; only the classes listed in
`_TYPES` are ever rebuilt from the store, and nothing is unpickled, so a shared store cannot make
this process run code. A figure of another type is simply not cached.

If Redis cannot be reached, figures are computed as if there were no cache (one warning in the
log until it answers again); a generation bump that could not be made is made when Redis answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql import TextClause

if TYPE_CHECKING:
    from .access import Viewer
    from .config import Settings
    from .database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

# The tables figures are computed from: a write to any of them starts a new data generation.
# (Users and organisations are here too, although a viewer's own role, organisation and status
# are already in the key: organisation names label trend lines, and it keeps the rule simple.)
WATCHED_TABLES = frozenset({
    "incidents", "incident_strands", "incident_recipients", "incident_organisations", "incident_triggers",
    "incident_monthly_counts", "incident_trend_counts", "incident_region_trend_counts", "incident_quarter_counts",
    "tension_assessments", "tension_assessment_recipients", "tension_assessment_organisations",
    "tension_indicators", "organisations", "users", "areas", "incident_categories", "strands",
    "actions", "action_areas", "meetings",
})
# A user's sign-in times and second-factor steps change no figure.
_USER_FIELDS = ("role", "status", "organisation_id")
_CHANGED = "dashboard.cache.figures_changed"  # session.info: this transaction wrote watched tables

# The figure types that may be rebuilt from the store (module: names).
_TYPES = {
    "dashboard.access": ("RecordFilters",),
    "dashboard.overview": ("Overview", "AreaFigure", "Headline", "Geography", "Metric"),
    "dashboard.trends": ("Trend", "TrendQuery", "Series", "Grain", "Split", "Measure"),
    "dashboard.summaries": ("Summary", "SummaryTable", "SummaryQuery", "Quarter", "Breakdown", "Geography"),
    "dashboard.disclosure": ("ProtectedTable", "Cell", "Suppression"),
}
_ALLOWED = {f"{module}:{name}" for module, names in _TYPES.items() for name in names}

MEMORY_ENTRIES = 2048
REDIS_TIMEOUT = 0.5  # seconds: a slow Redis must not hold pages up
REDIS_RETRY_AFTER = 10.0  # seconds without trying Redis after it failed


def scope_key(viewer: Viewer) -> str:
    """Everything about the viewer that can change what they may see, as a key.

    The user id (TLP:RED records are seen by the users named on them and their reporter, so two
    colleagues can see different figures), the organisation (TLP:AMBER and AMBER+STRICT go by
    organisation), the role (the national team sees TLP:GREEN and CLEAR aggregates only), and
    whether the user and their organisation are active (a lapsed member sees TLP:CLEAR only).
    Keying by the user rather than by what they can see is always safe: two viewers share an
    entry only when they are the same person with the same standing. National summaries are
    asked for with `access.national_viewer()`, so all their readers share one entry."""
    return (f"u{viewer.user_id}.o{viewer.organisation_id}.{viewer.role}"
            f".a{int(bool(viewer.active))}{int(bool(viewer.organisation_active))}")


# --- the JSON codec ---------------------------------------------------------------------------


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(value):
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        name = _name(type(value))
        if name not in _ALLOWED:
            raise TypeError(f"{name} is not a cacheable figure type.")
        return {"$e": name, "v": value.value}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = _name(type(value))
        if name not in _ALLOWED:
            raise TypeError(f"{name} is not a cacheable figure type.")
        return {"$c": name, "f": {f.name: _encode(getattr(value, f.name))
                                  for f in dataclasses.fields(value) if f.init}}
    if isinstance(value, tuple):
        return {"$t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$s": sorted((_encode(v) for v in value), key=repr)}
    if isinstance(value, dict):
        return {"$m": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(f"{type(value).__name__} is not a cacheable figure value.")


def _figure_class(name: str) -> type:
    if name not in _ALLOWED:
        raise ValueError(f"{name} is not a figure type this cache rebuilds.")
    module, qualname = name.split(":", 1)
    return getattr(importlib.import_module(module), qualname)


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$t" in value:
        return tuple(_decode(v) for v in value["$t"])
    if "$d" in value:
        return date.fromisoformat(value["$d"])
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$e" in value:
        return _figure_class(value["$e"])(value["v"])
    if "$c" in value:
        return _figure_class(value["$c"])(**{k: _decode(v) for k, v in value["f"].items()})
    if "$s" in value:
        return frozenset(_decode(v) for v in value["$s"])
    if "$m" in value:
        return {_freeze(_decode(k)): _decode(v) for k, v in value["$m"]}
    raise ValueError("Not a cached figure.")


def _freeze(key):
    return tuple(key) if isinstance(key, list) else key


def dumps(value) -> str:
    """A figure as JSON (TypeError for anything that is not a figure type)."""
    return json.dumps(_encode(value), separators=(",", ":"))


def loads(text: str | bytes):
    """The figure `dumps` wrote; ValueError for anything else."""
    return _decode(json.loads(text))


def key_digest(key_parts) -> str:
    """A digest of the filters: the same filters give the same digest, in every process."""
    return hashlib.sha256(json.dumps(_encode(key_parts), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- the stores ---------------------------------------------------------------------------------


class MemoryStore:
    """This process's cache: the newest MEMORY_ENTRIES entries, each until it expires."""

    shared = False

    def __init__(self, entries: int = MEMORY_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._limit = entries
        self._lock = threading.Lock()
        self._generation = 0

    def generation(self) -> int:
        return self._generation

    def bump(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()  # nothing can ask for the old generation's entries again

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)


class RedisStore:
    """Redis shared by every worker. Keys start with a prefix of this database, so two
    installations sharing one Redis never read each other's figures."""

    shared = True

    def __init__(self, url: str, database_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=30
        )
        self.prefix = "dashboard:figures:" + hashlib.sha256(database_url.encode()).hexdigest()[:12]
        self._generation_key = self.prefix + ":generation"

    def generation(self) -> int:
        value = self.client.get(self._generation_key)
        if value is None:
            # A fresh (or emptied) Redis: start at a random number, never one used before.
            self.client.set(self._generation_key, secrets.randbits(48), nx=True)
            value = self.client.get(self._generation_key)
        return int(value)

    def bump(self) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._generation_key, secrets.randbits(48), nx=True)
        pipe.incr(self._generation_key)
        pipe.execute()

    def get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + ":" + key)
        return None if value is None else value.decode()

    def set(self, key: str, value: str, seconds: int) -> None:
        self.client.set(self.prefix + ":" + key, value, ex=seconds)

    def keys(self) -> list[str]:
        start = len(self.prefix) + 1
        found = (k.decode() for k in self.client.scan_iter(match=self.prefix + ":*"))
        return [k[start:] for k in found if k != self._generation_key]


class FigureCache:
    """One app's figure cache: a store, how long entries last, and hit and miss counts."""

    def __init__(self, store: MemoryStore | RedisStore, seconds: int) -> None:
        self.store = store
        self.seconds = seconds
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned = False
        self._bump_owed = False

    # Redis can fail at any call: each use goes through here.
    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        self._down_until = time.monotonic() + REDIS_RETRY_AFTER
        if not self._warned:
            self._warned = True
            log.warning("The figures cache cannot be reached (%s): figures are computed without it until it "
                        "answers again.", type(error).__name__)

    def _answered(self) -> None:
        if self._warned:
            self._warned = False
            log.info("The figures cache answers again.")

    def bump(self) -> None:
        """Start a new data generation: every figure cached so far is out of use."""
        try:
            self.store.bump()
            self._bump_owed = False
            self._answered()
        except Exception as error:  # noqa: BLE001 - any store failure only costs the cache
            self._bump_owed = True
            self._failed(error)

    def get_or_compute(self, kind: str, viewer: Viewer, key_parts, compute: Callable[[], T]) -> T:
        if not self._available():
            return compute()
        try:
            if self._bump_owed:
                self.store.bump()
                self._bump_owed = False
            key = f"g{self.store.generation()}:{kind}:{scope_key(viewer)}:{key_digest(key_parts)}"
            found = self.store.get(key)
            self._answered()
        except Exception as error:  # noqa: BLE001
            self._failed(error)
            return compute()
        if found is not None:
            try:
                value = loads(found)
            except (ValueError, TypeError, KeyError) as error:
                log.warning("A cached %s figure could not be read (%s): computing it again.", kind, error)
            else:
                with self._lock:
                    self.hits += 1
                return value
        with self._lock:
            self.misses += 1
        value = compute()
        try:
            text = dumps(value)
        except TypeError as error:
            log.warning("A %s figure cannot be cached: %s", kind, error)
            return value
        try:
            self.store.set(key, text, self.seconds)
        except Exception as error:  # noqa: BLE001
            self._failed(error)
        return value


# --- which cache a session uses -------------------------------------------------------------------

_caches: weakref.WeakKeyDictionary[Engine, FigureCache | None] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def several_workers() -> bool:
    """Whether this process is one of several serving the app (gunicorn.conf.py says how many)."""
    try:
        return int(os.environ.get("DASHBOARD_WORKERS", "1")) > 1
    except ValueError:
        return True


def attach(db: Database | Engine, settings: Settings) -> FigureCache | None:
    """Give this database's sessions a figure cache as the settings say (None: CACHE_SECONDS=0).
    The app does this on first use; a command that writes records should do it too, so that
    the web workers sharing its Redis see the change at once."""
    engine = db if isinstance(db, Engine) else db.engine
    with _caches_lock:
        if settings.cache_seconds <= 0:
            _caches[engine] = None
        elif settings.redis_url:
            _caches[engine] = FigureCache(RedisStore(settings.redis_url, str(engine.url)), settings.cache_seconds)
        elif several_workers():
            # Each worker's memory would miss the others' changes (a figure could lag a save by up
            # to CACHE_SECONDS): without a shared store, every figure is computed.
            _caches[engine] = None
        else:
            _caches[engine] = FigureCache(MemoryStore(), settings.cache_seconds)
        return _caches[engine]


def detach(db: Database | Engine) -> None:
    """Forget this database's cache (its sessions then compute every figure)."""
    engine = db if isinstance(db, Engine) else db.engine
    with _caches_lock:
        _caches.pop(engine, None)


def cache_for_engine(engine: Engine) -> FigureCache | None:
    """The cache attached to this engine, if any."""
    return _caches.get(engine)


def _engine(session: Session) -> Engine | None:
    try:
        bind = session.get_bind()
    except Exception:  # noqa: BLE001 - an unbound session has no cache
        return None
    return getattr(bind, "engine", bind)


def cache_for(session: Session) -> FigureCache | None:
    """The cache of the session's database: attached, or the running app's (None: no cache)."""
    engine = _engine(session)
    if engine is None:
        return None
    if engine in _caches:
        return _caches[engine]
    from flask import current_app, has_app_context

    if has_app_context():
        from .web import EXTENSION

        ext = current_app.extensions.get(EXTENSION)
        if ext is not None and ext.db.engine is engine:
            return attach(ext.db, ext.settings)
    return None


def cached(session: Session, kind: str, viewer: Viewer, key_parts, compute: Callable[[], T]) -> T:
    """`compute()`, or the same figure computed earlier for this viewer and these key parts.

    `kind` names the figure ("overview", "trend"...); `key_parts` must hold every input that
    changes the answer (besides the viewer and the data). Only figures, never records. A session
    that has written figures' tables in its open transaction computes afresh (its view is not
    everyone's until it commits)."""
    cache = cache_for(session)
    if cache is None or session.info.get(_CHANGED) or _touches_figures(session, pending=True):
        return compute()
    return cache.get_or_compute(kind, viewer, key_parts, compute)


# --- invalidation ---------------------------------------------------------------------------------


def _tables(obj) -> set[str]:
    return {table.name for table in inspect(obj).mapper.tables if hasattr(table, "name")}


def _figure_change(session: Session, obj, deleted: bool) -> bool:
    tables = _tables(obj)
    if not tables & WATCHED_TABLES:
        return False
    if "users" in tables and not deleted and obj not in session.new:
        state = inspect(obj)
        return any(state.attrs[name].history.has_changes() for name in _USER_FIELDS)
    return True


def _touches_figures(session: Session, pending: bool = False) -> bool:
    if pending and not (session.new or session.dirty or session.deleted):
        return False
    return (any(_figure_change(session, o, False) for o in session.new)
            or any(_figure_change(session, o, False) for o in session.dirty if session.is_modified(o))
            or any(_figure_change(session, o, True) for o in session.deleted))


def records_changed(session: Session) -> None:
    """Note that this transaction changes figures in a way the session cannot see (a COPY on
    the raw connection): its commit starts a new data generation."""
    session.info[_CHANGED] = True


def _after_flush(session: Session, _context) -> None:
    if not session.info.get(_CHANGED) and _touches_figures(session):
        session.info[_CHANGED] = True


def _written_table(statement) -> str | None:
    if isinstance(statement, TextClause):
        words = statement.text.replace("(", " ").split()
        upper = [w.upper() for w in words[:4]]
        if upper[:2] in (["INSERT", "INTO"], ["DELETE", "FROM"]) and len(words) > 2:
            return words[2].strip('"')
        if upper[:1] == ["UPDATE"] and len(words) > 1:
            return words[1].strip('"')
        return None
    if getattr(statement, "is_dml", False):
        table = getattr(statement, "table", None)
        return getattr(table, "name", None)
    return None


def _do_orm_execute(state) -> None:
    if state.session.info.get(_CHANGED):
        return
    if (state.is_insert or state.is_update or state.is_delete or isinstance(state.statement, TextClause)) \
            and _written_table(state.statement) in WATCHED_TABLES:
        state.session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED, False):
        return
    cache = cache_for(session)  # (attached now if need be: other workers may hold figures in Redis)
    if cache is not None:
        cache.bump()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


# Once per process, for every session: the figures of any database follow its commits.
for _name_, _listener in (("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute),
                          ("after_commit", _after_commit), ("after_rollback", _after_rollback)):
    if not event.contains(Session, _name_, _listener):
        event.listen(Session, _name_, _listener)
