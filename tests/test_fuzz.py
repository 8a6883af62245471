"""Fuzzing every callback and every form with hostile values: no server error, no leak, no markup.

Callbacks and form routes are discovered from the app (its callback map, pattern-matching ones
included, and Flask's url_map), so pages and forms added later are fuzzed too. Hypothesis draws
each value (wrong types, huge numbers, NaN, 100,000-character text, unicode, HTML, SQL and path
metacharacters, nested lists and dicts); requests are posted as a signed-in user of each role.

What a user depends on:
- no request makes the server fail (200, 204 or 400; never 500), and a 200 is JSON a browser parses;
- no answer carries a word from a record the viewer may not see (a TLP:RED and a TLP:AMBER+STRICT
  record of another organisation hold the canary), whatever ids or text the request names;
- no answer carries markup that could run script (raw-HTML components, javascript: links), and a
  form echoes what it was sent as escaped text.

Budget: a fixed number of examples per callback, derandomized, so a run is repeatable in CI.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app import create_app
from callbacks.pages import PAGES
from dashboard.models import TensionAssessment
from dashboard.reference import Marking
from tests.conftest import TEST_PASSWORD, add_incident, csrf_from, make_people
from tests.fuzz_support import (
    CANARY,
    HTML_PAYLOADS,
    LONG_STRINGS,
    PAYLOADS,
    callback_request,
    short,
    strict_json,
    unsafe_markup,
    values,
)
from tests.test_pages import server_callbacks

# Per role; four roles, so 16 hostile requests per callback. DASHBOARD_FUZZ_EXAMPLES=50 fuzzes harder.
EXAMPLES_PER_CALLBACK = int(os.environ.get("DASHBOARD_FUZZ_EXAMPLES", "4"))
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES_PER_CALLBACK,
    deadline=None,
    derandomize=True,  # the same requests on every run, so a CI failure reproduces locally
    database=None,
    # No shrinking: a failure is reported with the request that caused it, and runs stay short.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


class Refused(AssertionError):
    """A hostile request got an answer the app must never give."""


@pytest.fixture
def people(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        return make_people(s, password_hash)


@pytest.fixture
def seeded(sqlite_db, people) -> list[int]:
    """Records the fuzzing viewers (none of them in the police) may not see, each holding the
    canary in its text, and one everyone sees; returns their ids, which the requests name."""
    with sqlite_db.session() as s:
        red = add_incident(s, people.police_member, Marking.RED, title=f"{CANARY} red title")
        red.description = f"Only the reporter may read this: {CANARY} description"
        strict = add_incident(s, people.police_member, Marking.AMBER_STRICT, title=f"{CANARY} strict title",
                              area="E08000026")
        green = add_incident(s, people.council_member, Marking.GREEN, title="A leaflet drop on the high street")
        assessment = TensionAssessment(
            area_code="E08000025", assessed_on=date(2026, 10, 2), level=4, rationale=f"{CANARY} rationale",
            source_org_id=people.police.id, reporter_id=people.police_member.id, marking=Marking.RED.value,
        )
        s.add(assessment)
        s.flush()
        return sorted({red.id, strict.id, green.id, assessment.id})


@pytest.fixture
def app(settings, sqlite_db, people, seeded):
    # The per-address sign-in limit would answer most form posts with 429 before the form is read.
    return create_app(replace(settings, login_rate_limit="100000 per minute"), sqlite_db)


def signed_in(app, email: str):
    client = app.server.test_client()
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, email
    client.get("/")  # sets the CSRF cookie dash-renderer reads
    return client, client.get_cookie("_csrf_token").value


def viewers(people) -> dict[str, str]:
    """One user of each role, none of them in the organisation that owns the canary records."""
    return {"member": people.council_member.email, "chair": people.charity_chair.email,
            "sci": people.sci.email, "admin": people.council_admin.email}


def _server_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/work/" in f.filename and "/.venv/" not in f.filename] or frames
    where = ", ".join(f"{f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in ours[-3:])
    return f"server error {type(exc).__name__}: {str(exc)[:300]} at {where}"


def post_callback(client, csrf: str, body: dict) -> str | None:
    """Post one callback request; what is wrong with the answer, or None."""
    try:
        response = client.post("/_dash-update-component", data=json.dumps(body),
                               headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})
    except Exception as exc:  # noqa: BLE001 - in testing Flask re-raises what would be a 500
        return _server_error(exc)
    status = response.status_code
    if status not in (200, 204, 400):
        return f"status {status}: {response.get_data(as_text=True)[:300]}"
    text = response.get_data(as_text=True)
    if CANARY in text:
        return f"a record the viewer may not see is in the answer: {text[max(0, text.find(CANARY) - 200):][:400]}"
    if status == 200:
        try:
            answer = strict_json(text)
        except ValueError as exc:
            return f"the answer is not JSON ({exc}): {text[:300]}"
        problems = unsafe_markup(answer.get("response", answer) if isinstance(answer, dict) else answer)
        if problems:
            return f"markup that could run script: {problems}"
    return None


def fuzz_callback(client, csrf: str, key: str, spec: dict, record_ids: list[int]) -> str | None:
    """Hypothesis's requests to one callback; the first problem found, with its request."""

    @FUZZ
    @given(body=callback_request(key, spec, record_ids, page_templates()))
    def run(body):
        problem = post_callback(client, csrf, body)
        if problem:
            raise Refused(f"{problem}\n    request: {json.dumps(short(body))[:1500]}")

    try:
        run()
    except Refused as failure:
        return str(failure)
    return None


def page_templates() -> list[str]:
    return [page.path_template or page.path for page in PAGES]


def all_callbacks(app) -> list[tuple[str, dict]]:
    """Every server callback, pattern-matching ones and Dash's page router included."""
    app.server.test_client().get("/login")  # Dash registers its callbacks on the first request
    return [(key, spec) for key, spec in app.callback_map.items() if spec.get("callback") is not None]


def test_the_fuzz_covers_every_callback(app):
    found = all_callbacks(app)
    keys = {key for key, _ in found}
    assert {key for key, _ in server_callbacks(app)} <= keys
    assert any('"ALL"' in d["id"] for _, spec in found for d in spec["inputs"]), "pattern-matching callbacks"
    assert any("_pages_content" in key for key in keys), "the page router"
    assert len(found) > 50


@pytest.mark.slow
@pytest.mark.parametrize("role", ["member", "chair", "sci", "admin"])
def test_every_callback_survives_hostile_values(app, people, seeded, role):
    client, csrf = signed_in(app, viewers(people)[role])
    failures = []
    for key, spec in all_callbacks(app):
        problem = fuzz_callback(client, csrf, key, spec, seeded)
        if problem:
            failures.append(f"{key[:120]}\n    {problem}")
        # A hostile request must not end the session either (every later answer would be a 401).
        if client.get("/session/status").status_code != 200:
            failures.append(f"{key[:120]}\n    the session ended")
            client, csrf = signed_in(app, viewers(people)[role])
    assert not failures, f"{len(failures)} callback(s) misbehaved as {role}:\n" + "\n".join(failures)


def test_a_forged_callback_without_the_csrf_header_is_refused(app, people, seeded):
    client, _csrf = signed_in(app, people.council_admin.email)
    key, spec = next((k, s) for k, s in all_callbacks(app) if "_pages_content" in k)
    body = {"output": key, "outputs": [{"id": "_pages_content", "property": "children"},
                                       {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": f"/incidents/{seeded[0]}"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400
    assert CANARY not in response.get_data(as_text=True)


# --- Flask forms ----------------------------------------------------------------------------------

DASH_PREFIXES = ("/_dash-", "/_reload-hash", "/_favicon")


def post_routes(app) -> list[str]:
    """Every route taking a POST, other than Dash's own, with sample values for its variables."""
    routes = []
    for rule in app.server.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith(DASH_PREFIXES):
            continue
        routes.append(re.sub(r"<(?:\w+:)?\w+>", "fuzz-" + "x" * 20, rule.rule))
    return routes


def form_fields(app, route: str) -> list[str]:
    """The names of the fields a route's form has (from the form itself where it renders one)."""
    client = app.server.test_client()
    names = set(re.findall(r'name="([^"]+)"', client.get(route).get_data(as_text=True)))
    return sorted((names | {"email", "password", "code", "next", "token"}) - {"csrf_token"})


def test_the_form_walk_finds_the_sign_in_form(app):
    routes = post_routes(app)
    assert "/login" in routes and "/logout" in routes
    assert not any(r.startswith("/_dash-") for r in routes)


FORM_TEXT = st.one_of(st.sampled_from(PAYLOADS + [LONG_STRINGS[0], LONG_STRINGS[2]]),
                      values().map(lambda v: v if isinstance(v, str) else json.dumps(v)))


def echoes_raw(html: str, sent: list[str]) -> list[str]:
    """Payloads with markup that come back unescaped in an HTML answer."""
    return [v[:80] for v in sent if any(c in v for c in "<>\"'") and v in html and "<" in v]


def form_token(client) -> str:
    """A valid CSRF token for this client's session: the sign-in form's, or (signed in) the cookie's."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    return match.group(1) if match else client.get_cookie("_csrf_token").value


def fuzz_form(app, route: str, fields: list[str], *, signed_in_as: str | None, with_csrf: bool) -> str | None:
    clients = {}

    def client_for():
        """An anonymous client, or one signed in (again, if a post such as /logout ended it)."""
        if not signed_in_as:
            return app.server.test_client()
        if "signed in" not in clients or clients["signed in"].get("/session/status").status_code != 200:
            clients["signed in"], _ = signed_in(app, signed_in_as)
        return clients["signed in"]

    @FUZZ
    @given(data=st.dictionaries(st.sampled_from(fields + ["csrf_token"]), FORM_TEXT, max_size=len(fields) + 1),
           query=st.sampled_from(["", "?next=javascript:alert(1)", "?next=//evil.example/",
                                  "?next=%2F%2Fevil.example", "?reason=<script>window.__xss=1</script>"]))
    def run(data, query):
        client = client_for()
        form = dict(data)
        if with_csrf:
            form["csrf_token"] = form_token(client)
        try:
            response = client.post(route + query, data=form)
        except Exception as exc:  # noqa: BLE001 - in testing Flask re-raises what would be a 500
            raise Refused(f"{_server_error(exc)}\n    form: {short(form)}") from exc
        if response.status_code >= 500:
            raise Refused(f"status {response.status_code}\n    form: {short(form)}")
        html = response.get_data(as_text=True)
        raw = echoes_raw(html, [str(v) for v in form.values()] + [query])
        if raw:
            raise Refused(f"unescaped echo {raw}\n    form: {short(form)}")
        location = response.headers.get("Location", "")
        if location and not (location.startswith("/") and not location.startswith("//")):
            raise Refused(f"redirects off the site to {location!r}\n    form: {short(form)}")
        if CANARY in html:
            raise Refused("a record the viewer may not see is in the answer")

    try:
        run()
    except Refused as failure:
        return str(failure)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("with_csrf", [True, False], ids=["with-csrf", "without-csrf"])
def test_every_form_survives_hostile_fields_and_escapes_what_it_echoes(app, people, with_csrf):
    failures = []
    for route in post_routes(app):
        fields = form_fields(app, route)
        for who in (None, people.council_member.email):
            problem = fuzz_form(app, route, fields, signed_in_as=who, with_csrf=with_csrf)
            if problem:
                failures.append(f"POST {route} ({'signed in' if who else 'anonymous'})\n    {problem}")
    assert not failures, "\n".join(failures)


def test_the_sign_in_form_shows_a_hostile_e_mail_address_as_text(app):
    client = app.server.test_client()
    payload = HTML_PAYLOADS[1]
    response = client.post("/login", data={"email": payload, "password": "x" * 20,
                                           "csrf_token": csrf_from(client.get("/login").data)})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400)
    assert payload not in html
    assert "&lt;img src=x onerror=" in html or "&lt;img src=x onerror=&#34;" in html


# --- markup that bypasses escaping, found in the code -------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "dashboard").rglob("*.py")), *sorted((ROOT / "layouts").rglob("*.py")),
           *sorted((ROOT / "callbacks").rglob("*.py")), ROOT / "app.py"]
TEMPLATES = sorted((ROOT / "dashboard" / "templates").glob("*.html"))
SCRIPTS = sorted((ROOT / "assets").glob("*.js"))
# Each place that marks text as safe HTML, reviewed: what it wraps is escaped first.
REVIEWED_MARKUP = {
    # the @page margin text, a CSS string escaped by _css_string
    ("dashboard/briefing.py", "page_banner = Markup(_css_string(pack.banner_marking"),
    # the tension map, an SVG whose district names and labels are escaped (static_map.py)
    ("dashboard/briefing.py", "map_svg=Markup(pack.map_svg)"),
    ("dashboard/summary_exports.py", "page_top=Markup(_css_string(handling_line(summary)))"),
    ("dashboard/summary_exports.py", "page_bottom=Markup(_css_string(f\"{marking} - generated"),
}


def occurrences(paths, pattern: str) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(pattern, line) and not line.lstrip().startswith(("#", "from ", "import ")):
                found.append((str(path.relative_to(ROOT)), line.strip()))
    return found


def test_no_component_or_template_renders_raw_html():
    assert occurrences(SOURCES, r"dangerously_allow_html|DangerouslySetInnerHTML|dcc\.Markdown|\bMarkdown\(") == []
    assert occurrences(SCRIPTS, r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(") == []
    assert occurrences(TEMPLATES, r"\|\s*safe\b|autoescape\s+false|Markup") == []


def test_every_place_that_marks_text_as_html_is_reviewed():
    found = occurrences(SOURCES, r"\bMarkup\(")
    unreviewed = [(f, line) for f, line in found if not any(f == rf and rl in line for rf, rl in REVIEWED_MARKUP)]
    assert unreviewed == [], "review each new Markup(): is everything it wraps escaped?"
    assert len(found) == len(REVIEWED_MARKUP)


def test_the_register_grid_shows_markdown_punctuation_as_text():
    from layouts.incident_register import grid_row, markdown_text

    for payload in HTML_PAYLOADS + ["[x](javascript:alert(1))", "![x](x)", "**bold**"]:
        shown = markdown_text(payload)
        # every ASCII punctuation mark escaped: no tag, link or image can start
        assert re.search(r"(?<!\\)[<>\[\]()!*_`]", shown) is None, payload
    row = grid_row({"id": 7, "title": HTML_PAYLOADS[0]})
    assert row["title_link"].endswith("](/incidents/7)") and "<script>" not in row["title_link"]


def test_a_callback_request_with_values_of_the_wrong_type_is_refused(app, people, seeded):
    """A list of clicks or a dict for a drop-down's value is refused (400) before the callback runs;
    the same request with the types the page sends is answered."""
    client, csrf = signed_in(app, people.council_member.email)
    key, spec = next((k, s) for k, s in all_callbacks(app) if k == "meeting-list.children")

    def ask(value):
        body = {"output": key, "outputs": {"id": "meeting-list", "property": "children"},
                "inputs": [{"id": "meeting-list-kind", "property": "value", "value": value}],
                "changedPropIds": ["meeting-list-kind.value"]}
        return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf})

    assert [d["id"] for d in spec["inputs"]] == ["meeting-list-kind"]
    for wrong in ({"kind": "quarterly"}, [["nested"]], float("nan")):
        refused = ask(wrong)
        assert refused.status_code == 400 and "not one this page sends" in refused.get_data(as_text=True)
    assert ask("quarterly").status_code == 200
    assert ask("' OR 1=1 --").status_code == 200
