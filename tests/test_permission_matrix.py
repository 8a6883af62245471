"""The permission matrix: every page, callback, download and API route, asked by every role in
several organisations, against records of every marking from each organisation.

Each record carries its own canary words (tests/matrix_support.py); who may read each canary is
worked out here from DOMAIN.md's marking table, independently of the access gate. For each
viewer the walk opens every page (record pages with every seeded record), calls every server
callback the app has (found from `app.callback_map`, pattern-matching ones included) with nothing,
with the values the viewer's own pages hold, with each control activated, and with every seeded
record's id forged into record-bearing inputs, fetches every Flask GET route that is not a static
file, and calls the API with a token of the viewer's own. No answer may hold a canary the viewer
may not read, and none may be a server error. A record page that asks for a reason first shows
nothing, which passes; where the reason is asked for by a callback, the walk gives one.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest

from app import create_app
from callbacks.pages import PAGES
from dashboard import api_tokens
from dashboard.database import Database
from dashboard.models import Incident, TensionAssessment
from dashboard.reference import Role
from tests import matrix_support as m
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.test_pages import open_page

VIEWERS = [
    "police_member",  # reporter of the police's records
    "police_member2",  # same organisation, named on the council's RED, not on the police's
    "council_member",
    "charity_chair",  # named on the police's RED
    "charity_member",  # reporter of the charity's records
    "police_chair",
    "council_admin",
    "police_admin",
    "sci",
    "departed_member",  # of an organisation that has left: TLP:CLEAR only
]
DESTRUCTIVE = re.compile(r"delete|remove|revoke|restore|upload")
WRITES = re.compile(r"save|overwrite|discard|issue|ack|submit|confirm|update|corroborate|export|download|password")
PAGE_ROUTER = ".._pages_content.children..._pages_store.data.."
STATIC = ("/assets/", "/_dash-component-suites/")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, sqlite_template, password_hash):
    """The matrix's records, made once (through the same functions the forms use, so that their
    history and audit entries are there too) and copied for each test."""
    path = tmp_path_factory.mktemp("matrix") / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    with db.session() as s:
        world = m.seed(s, password_hash, date.today())
    with db.engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path, world


@pytest.fixture
def world(seeded, sqlite_db):
    path, world = seeded
    sqlite_db.dispose()
    shutil.copyfile(path, sqlite_db.url.removeprefix("sqlite:///"))
    return world


@pytest.fixture
def app(settings, sqlite_db, world):
    app = create_app(settings, sqlite_db)
    app.server.test_client().get("/login")  # Dash registers its callbacks on the first request
    return app


_address = iter(range(1, 250))


def client_for(app, person: m.Person):
    """A browser signed in as `person` (if the app lets them sign in), and whether it is."""
    client = app.server.test_client()
    # a client of its own address, so the sign-in limit per address is not what the test meets
    client.environ_base["REMOTE_ADDR"] = f"10.0.{next(_address)}.1"
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": person.email, "password": TEST_PASSWORD, "csrf_token": token})
    client.get("/")  # sets the CSRF cookie Dash reads
    if client.get_cookie("_csrf_token") is None:
        client.set_cookie("_csrf_token", "not-a-token")  # turned away: asks anyway, as a script could
    return client, response.status_code == 302


def server_callbacks(app) -> dict[str, dict]:
    return {k: s for k, s in app.callback_map.items() if s.get("callback") is not None}


def rank(key: str, spec: dict) -> int:
    """0 for a callback that only reads, 1 for one that writes, 2 for one that deletes, restores
    or revokes (walked last, so the reads see every record)."""
    words = key + " ".join(str(d["id"]) for d in spec["inputs"])
    return 2 if DESTRUCTIVE.search(words) else 1 if WRITES.search(words) else 0


class Walk:
    """One viewer's walk through the app, checking every answer as it comes."""

    def __init__(self, app, client, world: m.World, person: m.Person):
        self.app, self.client, self.world, self.person = app, client, world, person
        self.allowed = world.allowed(person)
        self.allowed_deleted_view = world.allowed(person, deleted_view=True)
        self.owner = world.canary_owner()
        self.seen: set[str] = set()
        self.called: set[str] = set()
        self.requested: set[str] = set()
        self.failures: list[str] = []
        self.layouts: list[tuple[str, dict[str, dict], list]] = []
        self.shell: dict[str, dict] = {}
        self.answers = 0

    # -- checking ----------------------------------------------------------------------------

    def check(self, where: str, status: int, text: str, *, deleted_view: bool = False) -> None:
        self.answers += 1
        if status not in m.ALLOWED_STATUSES:
            self.failures.append(f"{where}: status {status}")
        found = m.canaries_in(text)
        allowed = self.allowed_deleted_view if deleted_view else self.allowed
        for canary in sorted(found - allowed):
            self.failures.append(f"{where}: shows {canary} of {self.owner[canary].label}")
        self.seen |= found

    # -- pages -------------------------------------------------------------------------------

    def page_paths(self) -> list[str]:
        ids = self.world.ids
        kinds = {"incident_id": ids["incident"], "assessment_id": ids["assessment"],
                 "meeting_id": ids["meeting"], "action_id": ids["action"],
                 "resource_id": ids["resource"] + ids["statement"],
                 "user_id": [p.user_id for p in self.world.people.values()]}
        paths = []
        for page in PAGES:
            template = page.path_template or page.path
            names = re.findall(r"<(\w+)>", template)
            if not names:
                paths.append(template)
                continue
            for record_id in kinds.get(names[0], sorted({i for v in ids.values() for i in v})) + [999_999]:
                paths.append(re.sub(r"<\w+>", str(record_id), template))
        # the query strings pages produce: a district chosen, a meeting to add an action to
        paths += [f"/?area={m.AREA}", f"/actions/new?meeting={self.world.meeting_id}",
                  f"/library?area={m.AREA}", f"/statement?statement={self.world.statement_id}",
                  "/register?search=leaflets", f"/assessments?area={m.AREA}"]
        return paths

    def walk_pages(self) -> None:
        response = self.client.get("/_dash-layout")
        self.requested.add("/_dash-layout")
        self.check("GET /_dash-layout", response.status_code, response.get_data(as_text=True))
        self.shell = {m.id_key(i): p for i, p in m.components(response.get_json() or {})}
        for path in self.page_paths():
            status, text = open_page(self.client, path)
            self.called.add(PAGE_ROUTER)
            self.check(f"page {path}", status, m.readable(text), deleted_view=path == "/deleted")
            try:
                content = json.loads(text)["response"]["_pages_content"]["children"]
            except (ValueError, KeyError, TypeError):
                continue
            found, dict_ids = dict(self.shell), []
            for component_id, props in m.components(content):
                found[m.id_key(component_id)] = props
                if isinstance(component_id, dict):
                    dict_ids.append(component_id)
            self.layouts.append((path, found, dict_ids))

    # -- callbacks ---------------------------------------------------------------------------

    def forged_ids(self, spec: dict) -> list[dict]:
        """Pattern-matching ids naming every seeded record (and one that does not exist)."""
        numbers = sorted({i for kind in self.world.ids for i in self.probe_ids(kind)})
        forged = []
        for d in spec["inputs"] + spec["state"]:
            if not m.is_pattern(d["id"]):
                continue
            pattern = json.loads(d["id"])
            wild = [k for k, v in pattern.items() if isinstance(v, list)]
            if d["property"] != "n_clicks" or not wild:
                continue
            for n in numbers:
                concrete = dict(pattern)
                for k in wild:
                    concrete[k] = {"record": "incident", "version": 1}.get(k, n)
                forged.append(concrete)
                if "record" in wild:
                    forged.append({**concrete, "record": "assessment"})
        return forged

    def probe_ids(self, kind: str) -> list[int]:
        """The records of a kind worth forging into a request: each one the viewer may not
        read (deleted ones included), one they may, and one that does not exist."""
        recs = [r for r in self.world.records if r.kind == kind]
        hidden = [r.id for r in recs if not m.may_see(self.person, r)]
        shown = [r.id for r in recs if m.may_see(self.person, r)]
        return hidden + shown[:1] + [999_999]

    def record_substitutes(self, spec: dict, found: dict) -> list[dict]:
        """Overrides putting seeded records' ids into the record-bearing inputs (a record page's
        store of its id): every seeded record of the kind where the page holds a record, and one
        (and one that does not exist) where it holds none, as on a "new" form."""
        out = []
        for d in spec["inputs"] + spec["state"]:
            match = m.RECORD_STORE.match(str(d["id"]))
            current = found.get(d["id"], {}).get("data")
            if not match or d["property"] != "data":
                continue
            asks_reason = any("reason" in str(x["id"]) for x in spec["state"]) and not DESTRUCTIVE.search(
                " ".join(str(x["id"]) for x in spec["inputs"]))
            if asks_reason and (isinstance(current, dict) and "id" in current or isinstance(current, int)):
                # a reason given for every record of the kind: what opens, opens only for readers
                numbers = self.world.ids.get(match.group(1), []) + [999_999]
            elif isinstance(current, dict) and "id" in current or isinstance(current, int):
                numbers = self.probe_ids(match.group(1))
            else:
                numbers = self.world.ids.get(match.group(1), [])[:1] + [999_999]
            for n in numbers:
                value = {**current, "id": n} if isinstance(current, dict) else n
                out.append({(d["id"], "data"): value})
        return out

    def realistic(self, spec: dict, found: dict) -> dict:
        """Values a person would give: a reason where one is asked, a page of the grid, a click
        on the map."""
        values = {}
        for d in spec["inputs"] + spec["state"]:
            if m.is_pattern(d["id"]):
                continue
            props = found.get(d["id"], {})
            if "reason" in d["id"] and d["property"] == "value" and props.get("options"):
                first = props["options"][0]
                values[(d["id"], "value")] = first.get("value") if isinstance(first, dict) else first
            elif ("reason" in d["id"] or d["id"].endswith("-other")) and d["property"] == "value":
                values[(d["id"], "value")] = m.REASON
            elif d["property"] == "getRowsRequest":
                values[(d["id"], d["property"])] = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
            elif d["property"] == "clickData":
                values[(d["id"], d["property"])] = {"points": [{"location": m.AREA}]}
        return values

    def calls_for(self, key: str, spec: dict) -> list[m.Call]:
        calls = [m.build_call(key, spec, self.shell, [], note="nothing")]
        ids = [d["id"] for d in spec["inputs"]]
        pages = [(path, found, dict_ids) for path, found, dict_ids in self.layouts
                 if any(i in found or (m.is_pattern(i) and any(m.matches(json.loads(i), x) for x in dict_ids))
                        for i in ids)]
        # a page without a record, and one with (the first and the last that hold the callback)
        chosen = list({p[0]: p for p in (pages[:1] + pages[-1:])}.values())
        actions = [(n, d) for n, d in enumerate(spec["inputs"])
                   if not m.is_pattern(d["id"]) and d["property"] in m.ACTIVATED]
        for path, found, dict_ids in chosen:
            base = self.realistic(spec, found)
            variants = [(base, f"{path} as shown")]
            variants += [({**base, **sub}, f"{path} record {list(sub.values())[0]}")
                         for sub in self.record_substitutes(spec, found)]
            for number, (overrides, note) in enumerate(variants):
                # a forged record id matters where a control acts on it (or, with none, as given)
                if number == 0 or not actions:
                    calls.append(m.build_call(key, spec, found, dict_ids, overrides=overrides, note=note))
                for n, d in actions:
                    activated = {**overrides, (d["id"], d["property"]): m.ACTIVATED[d["property"]]}
                    calls.append(m.build_call(key, spec, found, dict_ids, overrides=activated, trigger=n,
                                              note=f"{note}, {d['id']} acted"))
            for n, d in enumerate(spec["inputs"]):
                if not m.is_pattern(d["id"]) or path != chosen[-1][0]:
                    continue
                for forged in self.forged_ids({"inputs": [d], "state": []}):
                    overrides = {**base, (m.id_key(forged), d["property"]): 1}
                    calls.append(m.build_call(key, spec, found, [], overrides=overrides, trigger=n,
                                              forged=[forged], note=f"{path}, forged {forged}"))
        return calls

    def post(self, call: m.Call, spec: dict) -> None:
        """Send one callback request as this viewer and check the answer."""
        self.called.add(call.key)
        where = f"callback {call.key[:80]} ({call.note})"
        try:
            response = m.post_callback(self.client, call)
        except Exception as error:  # noqa: BLE001 - the test client raises what would be a 500
            self.failures.append(f"{where}: server error {error!r}")
            return
        self.check(where, response.status_code, m.readable(response.get_data(as_text=True)),
                   deleted_view=call.key.startswith("..deleted-") or rank(call.key, spec) == 2)

    def walk_callbacks(self) -> None:
        callbacks = server_callbacks(self.app)
        # (Dash's own page router is asked through open_page, with every page's path)
        for key in sorted((k for k in callbacks if k != PAGE_ROUTER), key=lambda k: rank(k, callbacks[k])):
            for call in self.calls_for(key, callbacks[key]):
                self.post(call, callbacks[key])

    # -- Flask routes and the API --------------------------------------------------------------

    def get_routes(self, token: str) -> None:
        page_paths = self.page_paths()
        rules = sorted((r for r in self.app.server.url_map.iter_rules()
                        if "GET" in r.methods and not r.rule.startswith(STATIC)),
                       key=lambda r: r.endpoint.endswith("logout_form_only"))  # sign-out last
        for rule in rules:
            if rule.rule == "/<path:path>":
                urls = [p for p in page_paths if p != "/"]
            elif rule.arguments:
                urls = [re.sub(r"<[^>]+>", "0", rule.rule)]
            else:
                urls = [rule.rule]
            headers = {"Authorization": f"Bearer {token}"} if rule.rule.startswith("/api/") else {}
            for url in urls:
                self.requested.add(rule.rule)
                try:
                    response = self.client.get(url, headers=headers)
                except Exception as error:  # noqa: BLE001 - the test client raises what would be a 500
                    self.failures.append(f"GET {url}: server error {error!r}")
                    continue
                self.check(f"GET {url}", response.status_code, m.readable(
                    response.data.decode("utf-8", "replace"), response.content_type, response.data))
        for url in ("/api/v1/summary", f"/api/v1/summary?area={m.AREA}&breakdown=strand", "/api/v1/openapi.json"):
            response = self.app.server.test_client().get(url, headers={"Authorization": f"Bearer {token}"})
            self.check(f"API {url}", response.status_code, response.get_data(as_text=True))


def issue_token(sqlite_db, person: m.Person) -> str:
    with sqlite_db.session() as s:
        try:
            _token, text = api_tokens.issue(s, api_tokens.command_line_viewer(), person.user_id, "matrix", 30)
        except api_tokens.ApiTokenError:
            return "pdk_not-issued"  # an organisation that has left gets no token: the API refuses
    return text


@pytest.mark.slow
@pytest.mark.parametrize("who", VIEWERS)
def test_no_viewer_ever_sees_what_their_markings_forbid(app, sqlite_db, world, who):
    person = world.people[who]
    token = issue_token(sqlite_db, person)
    client, signed_in = client_for(app, person)
    # Only an organisation that has left the partnership may be turned away at sign-in; its
    # people then walk as anyone without an account would.
    assert signed_in or not person.organisation_active, f"{who} could not sign in"
    walk = Walk(app, client, world, person)
    walk.walk_pages()
    walk.walk_callbacks()
    walk.get_routes(token)
    assert not walk.failures, "\n".join(walk.failures[:400])

    # The walk really read records: every live incident and assessment the viewer may read was
    # shown to them somewhere (so an empty walk cannot pass).
    readable = {r.canaries[0] for r in world.records
                if r.kind in ("incident", "assessment") and m.may_see(person, r) and signed_in}
    assert readable <= walk.seen, sorted(readable - walk.seen)

    # Nothing was missed: every server callback was called, every non-static GET route requested.
    assert set(server_callbacks(app)) <= walk.called, sorted(set(server_callbacks(app)) - walk.called)
    routes = {r.rule for r in app.server.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith(STATIC)}
    assert routes <= walk.requested, sorted(routes - walk.requested)

    # Forged requests changed no record the viewer may not read (administrators may restore a
    # deleted record they cannot read: that is what restoring is for).
    with sqlite_db.session() as s:
        for rec in world.records:
            if rec.sharing != m.MARKED or m.may_see(person, rec) or (rec.deleted and person.role == Role.ADMIN):
                continue
            row = s.get(Incident if rec.kind == "incident" else TensionAssessment, rec.id)
            assert (row.version, row.deleted_at is not None) == world.versions[(rec.kind, rec.id)], rec.label


# --- the same question from two viewers, in one process ---------------------------------------

CACHE_PAIRS = [
    ("police_member", "police_member2"),  # the reporter of a TLP:RED record, and a colleague
    ("charity_chair", "charity_member"),  # a named recipient, and a colleague who is not
    ("council_member", "police_admin"),  # an AMBER+STRICT organisation, and another's administrator
    ("police_chair", "sci"),  # a partner, and the national team
]


@pytest.mark.slow
@pytest.mark.parametrize(("first", "second"), CACHE_PAIRS)
def test_an_answer_for_one_viewer_is_never_given_to_another(app, world, first, second):
    """Every reading callback, asked with the same values by a viewer who may read a record and
    then by one who may not (and back), in the same app: whatever is kept between requests
    (lru_cache, module state, the figures tables) never carries one viewer's records to another."""
    a, b = world.people[first], world.people[second]
    walks = []
    for person in (a, b):
        client, signed_in = client_for(app, person)
        assert signed_in
        walks.append(Walk(app, client, world, person))
    callbacks = server_callbacks(app)
    for asker, other in (walks, walks[::-1]):
        asker.walk_pages()
        for path, _found, _ids in asker.layouts:  # the same page, straight after
            status, text = open_page(other.client, path)
            other.check(f"page {path} after {asker.person.key}", status, m.readable(text),
                        deleted_view=path == "/deleted")
        for key in (k for k in callbacks if k != PAGE_ROUTER and rank(k, callbacks[k]) == 0):
            for call in asker.calls_for(key, callbacks[key]):
                asker.post(call, callbacks[key])
                other.post(m.Call(call.key, call.body, f"{call.note}, after {asker.person.key}"), callbacks[key])
    for walk in walks:
        assert not walk.failures, "\n".join(walk.failures[:100])
    # the pair is a real test: the first saw records the second may not read
    assert walks[0].seen - walks[1].allowed


# --- figures count only what the viewer may see ------------------------------------------------


def _rows(node):
    """The text of each table row in a component tree: [[cell text, ...], ...]."""
    def text(n):
        if isinstance(n, dict):
            return text(n.get("props", {}).get("children")) if "props" in n else ""
        if isinstance(n, list):
            return "".join(text(x) for x in n)
        return "" if n is None else str(n)

    if isinstance(node, dict):
        if node.get("type") == "Tr":
            cells = node["props"].get("children") or []
            yield [text(c) for c in (cells if isinstance(cells, list) else [cells])]
        for value in node.values():
            yield from _rows(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rows(value)


@pytest.mark.parametrize("who", [v for v in VIEWERS if v not in ("sci", "departed_member")])
def test_the_overview_counts_exactly_the_incidents_the_viewer_may_see(app, world, who):
    """The overview table's count for the district every seeded incident is in is the number of
    live incidents the marking table lets this viewer see: no more (a hidden record never counts)
    and no fewer."""
    person = world.people[who]
    client, _signed_in = client_for(app, person)
    walk = Walk(app, client, world, person)
    status, text = open_page(client, "/")
    assert status == 200
    found = {m.id_key(i): p for i, p in m.components(json.loads(text)["response"]["_pages_content"]["children"])}
    callbacks = server_callbacks(app)
    refresh = next(k for k in callbacks if k.startswith("..overview-map.figure...overview-summary"))
    response = m.post_callback(client, m.build_call(refresh, callbacks[refresh], found, []))
    query = response.get_json()["response"]["overview-query"]["data"]
    table = next(k for k in callbacks if k.startswith("overview-table.children"))
    answer = m.post_callback(client, m.build_call(table, callbacks[table], found, [], overrides={
        ("overview-query", "data"): query, ("overview-table-collapse", "is_open"): True}))
    walk.check("overview table", answer.status_code, answer.get_data(as_text=True))
    assert not walk.failures
    row = next(r for r in _rows(answer.get_json()) if r and r[0] == "Birmingham")
    expected = sum(1 for r in world.of_kind("incident") if m.may_see(person, r))
    assert int(row[1].replace(",", "")) == expected, (who, row)
