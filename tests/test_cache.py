"""The shared figures cache: keyed by who is asking, invalidated by every change, Redis optional."""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import redis

from app import create_app
from dashboard import cache, imports, summaries
from dashboard import overview as ov
from dashboard import trends as tr
from dashboard.access import RecordFilters, Viewer
from dashboard.bench import rows_as_csv, synthetic_import_rows
from dashboard.config import ConfigError, Settings
from dashboard.database import Database
from dashboard.models import Incident
from dashboard.reference import Marking
from tests.conftest import add_incident, make_people
from tests.test_api_tokens import call, sign_in

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PERIOD = RecordFilters(start=date(2026, 1, 1), end=date(2026, 12, 31))
TODAY = date(2026, 12, 31)
SECRET_TITLE = "Xylophone leaflet drop at the Quokka Arms"
SECRET_DESCRIPTION = "Zanzibar-coloured stickers seen by the canal"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a free port, with nothing written to disk."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:  # pragma: no cover
            self.stop()
            pytest.fail("redis-server did not start")
        self.client = client

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def cache_settings(tmp_path, redis_url: str | None = None, seconds: int = 300) -> Settings:
    return Settings(database_url="sqlite://", secret_key="k" * 40, instance_dir=tmp_path,
                    redis_url=redis_url, cache_seconds=seconds)


@pytest.fixture(params=["memory", "redis"])
def store(request, tmp_path):
    """The settings of each backend: this process's memory, and a real Redis (emptied)."""
    if request.param == "memory":
        return cache_settings(tmp_path)
    server = request.getfixturevalue("redis_server")
    server.client.flushall()
    return cache_settings(tmp_path, server.url)


@pytest.fixture
def figures(db, store):
    """The test database with a figure cache attached, as the app attaches one."""
    attached = cache.attach(db, store)
    yield attached
    cache.detach(db)


def viewer(user) -> Viewer:
    return Viewer(user_id=user.id, organisation_id=user.organisation_id, role=user.role, email=user.email)


def overview_total(db, who, filters=PERIOD) -> int:
    with db.session() as s:
        return ov.area_overview(s, who, filters).total


def fresh_total(db, who, filters=PERIOD) -> int:
    """The figure computed without any cache: what the cached answer must equal."""
    with db.session() as s:
        return ov._area_overview(s, who, filters, ov.Geography.DISTRICT).total


def counts(figure_cache) -> tuple[int, int]:
    return figure_cache.hits, figure_cache.misses


# --- who is asking ------------------------------------------------------------------------------


PAIRS = {
    # (who sees more, who sees less): the RED reporter and another organisation's member ...
    "reporter-vs-other-organisation": ("police_member", "council_member"),
    # ... a RED recipient and the reporter's own colleague, who is not named on it ...
    "recipient-vs-colleague": ("charity_chair", "police_member2"),
    # ... and a partner and the national team (TLP:GREEN and CLEAR only).
    "partner-vs-sci": ("police_member", "sci"),
}


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("more_first", [True, False], ids=["more-first", "less-first"])
def test_viewers_with_different_access_never_get_each_others_figures(db, people, figures, pair, more_first):
    with db.session() as s:
        add_incident(s, people.police_member, Marking.GREEN)
        add_incident(s, people.police_member, Marking.RED, recipients=[s.merge(people.charity_chair)])
    more, less = (viewer(getattr(people, name)) for name in PAIRS[pair])
    expected = {more: 2, less: 1}
    order = [more, less] if more_first else [less, more]

    for who in order:
        before = counts(figures)
        assert overview_total(db, who) == expected[who]
        assert counts(figures) == (before[0], before[1] + 1), "the first ask of each viewer is computed"
        assert overview_total(db, who) == expected[who]
        assert counts(figures) == (before[0] + 1, before[1] + 1), "the second ask of the same viewer is a hit"
    # and once both are cached, each still gets their own
    assert [overview_total(db, who) for who in order] == [expected[w] for w in order]


def test_trends_headline_and_summaries_are_cached_and_equal_to_fresh_figures(db, people, figures):
    with db.session() as s:
        add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 3, 4))
        add_incident(s, people.police_member, Marking.AMBER_STRICT, day=date(2026, 3, 5))
    police, council = viewer(people.police_member), viewer(people.council_member)
    query = tr.TrendQuery(filters=PERIOD, grain=tr.Grain.MONTH, split=tr.Split.CATEGORY)
    with db.session() as s:
        want_police, want_council = tr._trend(s, police, query), tr._trend(s, council, query)
        assert tr.trend(s, police, query) == want_police
        assert tr.trend(s, council, query) == want_council
        hits = figures.hits
        assert tr.trend(s, police, query) == want_police  # rebuilt from the store, equal in every field
        assert tr.trend(s, council, query) == want_council
        assert figures.hits == hits + 2
        assert (want_police.total, want_council.total) == (2, 1)

        result = ov.area_overview(s, police, PERIOD)
        head = ov.headline(s, police, result, TODAY)
        assert ov.headline(s, police, result, TODAY) == head == ov._headline(s, police, result, TODAY)

        q = summaries.SummaryQuery(to=summaries.Quarter(2026, 4), quarters=4)
        first = summaries.build(s, council, q)
        hits = figures.hits
        # every reader of the national summary shares one entry: the same published figures
        assert summaries.build(s, police, q) == first
        assert figures.hits == hits + 1
        assert first.tables == summaries._build(s, q).tables


# --- invalidation ---------------------------------------------------------------------------------


def test_adding_editing_and_deleting_records_shows_at_once(db, people, figures):
    police, council = viewer(people.police_member), viewer(people.council_member)
    assert overview_total(db, police) == overview_total(db, council) == 0

    with db.session() as s:
        incident_id = add_incident(s, people.police_member, Marking.GREEN).id
    assert overview_total(db, police) == overview_total(db, council) == 1

    with db.session() as s:  # an edit: now only the police can see it
        s.get(Incident, incident_id).marking = Marking.AMBER_STRICT.value
    assert (overview_total(db, police), overview_total(db, council)) == (1, 0)

    with db.session() as s:  # an edit that moves it out of the period
        s.get(Incident, incident_id).occurred_on = date(2025, 6, 1)
    assert overview_total(db, police) == 0
    assert overview_total(db, police, replace(PERIOD, start=date(2025, 1, 1))) == 1

    with db.session() as s:
        incident_id = add_incident(s, people.police_member, Marking.GREEN).id
    assert overview_total(db, council) == 1
    with db.session() as s:  # soft deletion, as the incident form does it
        s.get(Incident, incident_id).deleted_at = datetime.now(UTC)
    assert overview_total(db, council) == 0
    with db.session() as s:
        s.delete(s.get(Incident, incident_id))
    assert overview_total(db, police) == fresh_total(db, police) == 0


def test_an_edit_of_a_record_the_viewer_cannot_see_leaves_their_figures_correct(db, people, figures):
    with db.session() as s:
        red = add_incident(s, people.police_member, Marking.RED).id
        add_incident(s, people.council_member, Marking.GREEN)
    council = viewer(people.council_member)
    assert overview_total(db, council) == 1
    with db.session() as s:
        s.get(Incident, red).area_code = "E08000026"
    assert overview_total(db, council) == fresh_total(db, council) == 1
    with db.session() as s:  # naming the council member on it lets them count it, at once
        s.get(Incident, red).recipients = [s.merge(people.council_member)]
    assert overview_total(db, council) == fresh_total(db, council) == 2


def test_an_import_shows_at_once(db, people, figures):
    police = viewer(people.police_member)
    everything = RecordFilters(start=date(2020, 1, 1), end=date(2027, 12, 31))
    before = overview_total(db, police, everything)
    content = rows_as_csv(synthetic_import_rows(30, today=TODAY))
    with db.session() as s:
        report = imports.import_incidents(s, police, "wave.csv", content, today=TODAY)
    assert report.imported == 30
    after = overview_total(db, police, everything)
    assert after == fresh_total(db, police, everything) == before + 30


def test_a_rolled_back_change_leaves_the_cache_in_use(db, people, figures):
    police = viewer(people.police_member)
    overview_total(db, police)
    with pytest.raises(RuntimeError), db.session() as s:
        add_incident(s, people.police_member, Marking.GREEN)
        # in the open transaction the figure is computed afresh, and not kept
        seen = counts(figures)
        ov.area_overview(s, police, PERIOD)
        assert counts(figures) == seen
        raise RuntimeError("the form failed")
    hits = figures.hits
    assert overview_total(db, police) == 0
    assert figures.hits == hits + 1


def test_two_workers_sharing_redis_see_each_others_changes(db, people, redis_server, tmp_path):
    redis_server.client.flushall()
    settings = cache_settings(tmp_path, redis_server.url)
    worker_a, worker_b = Database(db.url), Database(db.url)
    try:
        cache_a, cache_b = cache.attach(worker_a, settings), cache.attach(worker_b, settings)
        council = viewer(people.council_member)
        assert overview_total(worker_a, council) == 0
        assert overview_total(worker_b, council) == 0
        assert (cache_a.misses, cache_b.hits) == (1, 1), "worker B reads what worker A computed"

        with worker_b.session() as s:
            add_incident(s, people.police_member, Marking.GREEN)
        assert overview_total(worker_a, council) == 1
        assert cache_a.misses == 2
        assert overview_total(worker_b, council) == 1
        assert cache_b.hits == 2
    finally:
        for worker in (worker_a, worker_b):
            cache.detach(worker)
            worker.dispose()


# --- Redis outages ----------------------------------------------------------------------------------


def test_figures_are_computed_when_redis_is_down(db, people, tmp_path, caplog):
    dead = cache_settings(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    cache.attach(db, dead)
    try:
        police = viewer(people.police_member)
        with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
            assert overview_total(db, police) == 0
            with db.session() as s:
                add_incident(s, people.police_member, Marking.GREEN)
            assert overview_total(db, police) == 1
            assert overview_total(db, police) == 1
        warnings = [r for r in caplog.records if r.name == "dashboard.cache" and r.levelno == logging.WARNING]
        assert len(warnings) == 1, "one warning, not one per figure"
    finally:
        cache.detach(db)


def test_redis_stopping_midway_costs_only_the_cache(db, people, tmp_path, monkeypatch):
    server = RedisServer(tmp_path)
    figures = cache.attach(db, cache_settings(tmp_path, server.url))
    try:
        police = viewer(people.police_member)
        assert overview_total(db, police) == overview_total(db, police) == 0
        assert figures.hits == 1
        server.stop()
        with db.session() as s:  # the bump cannot reach Redis: it is owed
            add_incident(s, people.police_member, Marking.GREEN)
        assert overview_total(db, police) == 1
    finally:
        cache.detach(db)
        if server.process.poll() is None:
            server.stop()


def test_the_overview_page_answers_when_redis_is_down(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        add_incident(s, people.police_member, Marking.GREEN, day=date.today())
    dead = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_storage="memory://")
    app = create_app(dead, sqlite_db)
    client = app.server.test_client()
    csrf = sign_in(client, people.police_member.email)
    values = {"overview-period.value": "12m", "overview-geography.value": "district",
              "overview-metric.value": "count", "overview-layers.value": []}
    try:
        response = call(app, client, csrf, "overview-start-error", values, changed=["overview-period.value"])
        assert response.status_code == 200
        assert "1 incident" in response.get_data(as_text=True)
        assert isinstance(cache.cache_for_engine(sqlite_db.engine).store, cache.RedisStore)
    finally:
        cache.detach(sqlite_db)


def test_the_app_caches_the_overview_in_memory_without_redis(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        add_incident(s, people.police_member, Marking.GREEN, day=date.today())
    app = create_app(settings, sqlite_db)
    client = app.server.test_client()
    csrf = sign_in(client, people.police_member.email)
    values = {"overview-period.value": "12m", "overview-geography.value": "district",
              "overview-metric.value": "count", "overview-layers.value": []}
    try:
        first = call(app, client, csrf, "overview-start-error", values, changed=["overview-period.value"])
        second = call(app, client, csrf, "overview-start-error", values, changed=["overview-period.value"])
        assert first.get_data() == second.get_data()
        figures = cache.cache_for_engine(sqlite_db.engine)
        assert isinstance(figures.store, cache.MemoryStore)
        assert figures.hits >= 1
    finally:
        cache.detach(sqlite_db)


# --- what is stored ----------------------------------------------------------------------------------


def test_the_store_holds_figures_only_never_record_text(db, people, figures):
    with db.session() as s:
        incident = add_incident(s, people.police_member, Marking.GREEN, title=SECRET_TITLE)
        incident.description = SECRET_DESCRIPTION
    police, sci = viewer(people.police_member), viewer(people.sci)
    with db.session() as s:
        result = ov.area_overview(s, police, PERIOD)
        ov.headline(s, police, result, TODAY)
        ov.area_overview(s, sci, replace(PERIOD, areas=("E08000025",)))
        tr.trend(s, police, tr.TrendQuery(filters=PERIOD))
        summaries.build(s, police, summaries.SummaryQuery(to=summaries.Quarter(2026, 4)))
    keys = figures.store.keys()
    assert len(keys) == 5
    key_shape = re.compile(r"^g\d+:(overview|headline|trend|summary):u\d+\.o\d+\.[a-z]+\.a[01]{2}:[0-9a-f]{64}$")
    assert all(key_shape.match(k) for k in keys), keys
    assert not any("E08000025" in k for k in keys), "filters are in the key as a digest only"
    stored = " ".join(figures.store.get(k) or "" for k in keys)
    for text in (SECRET_TITLE, SECRET_DESCRIPTION, "Xylophone", "Zanzibar", people.police_member.email):
        assert text not in stored
        assert text not in " ".join(keys)


def test_the_codec_rebuilds_figure_types_only():
    figure = ov.AreaFigure("E08000025", "Birmingham", 1_000_000, 3, 1, 4, date(2026, 5, 1), 1)
    assert cache.loads(cache.dumps(figure)) == figure
    with pytest.raises(ValueError):
        cache.loads('{"$c": "subprocess:Popen", "f": {"args": "true"}}')
    with pytest.raises(ValueError):
        cache.loads('{"$e": "os:system", "v": "true"}')
    with pytest.raises(TypeError):
        cache.dumps(Viewer(user_id=1, organisation_id=1, role="member"))  # not a figure: never stored


def test_cache_seconds_zero_turns_the_cache_off(db, people, tmp_path):
    assert cache.attach(db, cache_settings(tmp_path, seconds=0)) is None
    try:
        assert overview_total(db, viewer(people.police_member)) == 0
    finally:
        cache.detach(db)


def test_cache_seconds_setting(tmp_path):
    env = {"DASHBOARD_INSTANCE": str(tmp_path), "SECRET_KEY": "s" * 40}
    assert Settings.from_env(env).cache_seconds == 300
    assert Settings.from_env(env | {"CACHE_SECONDS": "0"}).cache_seconds == 0
    with pytest.raises(ConfigError, match="CACHE_SECONDS"):
        Settings.from_env(env | {"CACHE_SECONDS": "soon"})


def test_several_workers_without_redis_compute_every_figure(sqlite_db, monkeypatch):
    """Each worker's own memory would miss the other workers' saves, so with several workers and
    no shared store there is no figure cache (gunicorn.conf.py says how many workers there are)."""
    from dashboard import cache as figure_cache
    from dashboard.config import Settings

    settings = Settings.from_env({"SECRET_KEY": "x" * 40}, database_url=sqlite_db.url)
    monkeypatch.setenv("DASHBOARD_WORKERS", "2")
    try:
        assert figure_cache.attach(sqlite_db, settings) is None
        monkeypatch.setenv("DASHBOARD_WORKERS", "1")
        assert figure_cache.attach(sqlite_db, settings) is not None
    finally:
        figure_cache.detach(sqlite_db)
