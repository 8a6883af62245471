"""The permission matrix's world: people, records carrying canary words, an oracle of who may
see each canary (worked out here from the marking table of DOMAIN.md, not from the access gate),
and the means to walk the app as one viewer and read every canary in what it answers.

Every record gets its own canary words ("CanaryIN0003T" in an incident's title, "...D" in its
description), so a leak of any field, anywhere (a page, a callback, a download, a PDF, the API),
is seen by a plain search of the answer.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from dashboard.access import Viewer
from dashboard.assessments import AssessmentForm, create_assessment, delete_assessment
from dashboard.incidents import (
    IncidentForm,
    create_incident,
    delete_incident,
    get_incident,
    update_incident,
)
from dashboard.models import (
    Action,
    Area,
    Incident,
    Meeting,
    Organisation,
    Resource,
    StatementAdoption,
    TensionAssessment,
    TriggerEvent,
    User,
    utcnow,
)
from dashboard.reference import (
    ActionStatus,
    Marking,
    MeetingKind,
    MembershipStatus,
    ResourceKind,
    Role,
    TriggerKind,
)
from tests.conftest import make_people

CANARY = re.compile(r"Canary[A-Z]{2}\d{4}[A-Z]")
AREA = "E08000025"  # Birmingham: every incident is here, so its count is each viewer's total
OTHER_AREA = "E08000026"
# (410: an activation link that is unknown, used or expired is gone)
ALLOWED_STATUSES = {200, 204, 302, 400, 401, 403, 404, 405, 410}
PARTNER_ROLES = {Role.MEMBER, Role.CHAIR, Role.ADMIN}

# How a record kind is shared: by its marking, with every partner, or with every account.
MARKED, PARTNERS, ACCOUNTS = "marked", "partners", "accounts"


@dataclass(frozen=True)
class Person:
    key: str
    user_id: int
    email: str
    role: str
    organisation_id: int
    organisation_active: bool = True

    @property
    def partner(self) -> bool:
        return self.organisation_active and self.role in PARTNER_ROLES


@dataclass
class Seeded:
    """One seeded record and what the oracle needs to know about it."""

    kind: str  # incident, assessment, meeting, action, resource, statement, adoption, trigger
    id: int
    sharing: str
    canaries: tuple[str, ...]
    marking: str | None = None
    source_org_id: int | None = None
    reporter_id: int | None = None
    recipients: frozenset[int] = frozenset()
    listed: frozenset[int] = frozenset()
    deleted: bool = False

    @property
    def label(self) -> str:
        state = " (deleted)" if self.deleted else ""
        return f"{self.kind} #{self.id} {self.marking or self.sharing}{state}"


def marking_allows(person: Person, rec: Seeded) -> bool:
    """DOMAIN.md's table, read directly: who may see a marked record."""
    if person.role == Role.SCI or person.role not in PARTNER_ROLES:
        return False  # the national team never sees a record, whatever its marking
    if not person.organisation_active:
        return rec.marking == Marking.CLEAR.value  # "anyone with an account"
    if rec.marking in (Marking.CLEAR.value, Marking.GREEN.value):
        return True
    if rec.marking == Marking.AMBER.value:
        return person.organisation_id == rec.source_org_id or person.organisation_id in rec.listed
    if rec.marking == Marking.AMBER_STRICT.value:
        return person.organisation_id == rec.source_org_id
    if rec.marking == Marking.RED.value:
        return person.user_id == rec.reporter_id or person.user_id in rec.recipients
    return False


def may_see(person: Person, rec: Seeded, *, deleted_view: bool = False) -> bool:
    """The oracle. Deleted records are on no ordinary page; administrators list them on the
    deleted-records view, with a title only where the marking lets them read it."""
    if rec.deleted and not (deleted_view and person.role == Role.ADMIN and rec.sharing == MARKED):
        return False
    if rec.sharing == MARKED:
        return marking_allows(person, rec)
    if rec.sharing == PARTNERS:
        return person.partner
    return True  # ACCOUNTS: every active account (guides, fact sheets, publications)


@dataclass
class World:
    people: dict[str, Person]
    records: list[Seeded]
    meeting_id: int = 0
    statement_id: int = 0
    ids: dict[str, list[int]] = field(default_factory=dict)
    versions: dict[tuple[str, int], tuple[int, bool]] = field(default_factory=dict)

    def canary_owner(self) -> dict[str, Seeded]:
        return {c: r for r in self.records for c in r.canaries}

    def allowed(self, person: Person, *, deleted_view: bool = False) -> set[str]:
        return {c for r in self.records if may_see(person, r, deleted_view=deleted_view) for c in r.canaries}

    def of_kind(self, kind: str) -> list[Seeded]:
        return [r for r in self.records if r.kind == kind]


class _Canaries:
    def __init__(self) -> None:
        self.n = 0

    def pair(self, kind: str) -> tuple[str, str]:
        self.n += 1
        prefix = f"Canary{kind[:2].upper()}{self.n:04d}"
        return f"{prefix}T", f"{prefix}D"


def seed(session, password_hash: str, today: date) -> World:
    """The people fixture's partnership, a few more people, and records of every marking from
    each organisation, each with its own canaries."""
    p = make_people(session, password_hash)
    departed = Organisation(name="Departed Trust", sector="voluntary and community",
                            membership_status=MembershipStatus.LEFT)
    session.add(departed)
    session.flush()

    def user(email, name, org_id, role):
        u = User(email=email, name=name, organisation_id=org_id, role=role, password_hash=password_hash)
        session.add(u)
        session.flush()
        return u

    extra = {
        "charity_member": user("cleo.charity@charity.example", "Cleo Charity", p.charity.id, Role.MEMBER),
        "police_chair": user("polly.chair@police.example", "Polly Chair", p.police.id, Role.CHAIR),
        "police_admin": user("percy.admin@police.example", "Percy Admin", p.police.id, Role.ADMIN),
        "departed_member": user("dora.departed@departed.example", "Dora Departed", departed.id, Role.MEMBER),
    }
    users = {
        "police_member": p.police_member, "police_member2": p.police_member2,
        "council_member": p.council_member, "charity_chair": p.charity_chair,
        "sci": p.sci, "council_admin": p.council_admin, **extra,
    }
    people = {
        key: Person(key, u.id, u.email, u.role, u.organisation_id, u.organisation_id != departed.id)
        for key, u in users.items()
    }
    viewer = {key: Viewer.from_user(session.get(User, u.id)) for key, u in users.items()}

    canaries = _Canaries()
    records: list[Seeded] = []
    day = today - timedelta(days=3)
    # (reporter, their organisation, the organisation their AMBER lists, the recipient of their RED)
    reporters = [
        ("police_member", p.police, p.council, "charity_chair"),
        ("council_member", p.council, p.charity, "police_member2"),
        ("charity_member", p.charity, p.police, "council_member"),
    ]
    plans = [
        (Marking.CLEAR, False, False, False),
        (Marking.GREEN, False, False, False),
        (Marking.AMBER, False, False, False),
        (Marking.AMBER, True, False, False),
        (Marking.AMBER_STRICT, False, False, False),
        (Marking.RED, False, True, False),
        (Marking.GREEN, False, False, True),
        (Marking.AMBER_STRICT, False, False, True),
        (Marking.RED, False, True, True),
    ]
    for who, org, other_org, recipient_key in reporters:
        v = viewer[who]
        for marking, lists, names, deleted in plans:
            listed = (other_org.id,) if lists else ()
            recipients = (people[recipient_key].user_id,) if names else ()
            title, description = canaries.pair("incident")
            incident = create_incident(session, v, IncidentForm(
                title=f"{title} leaflets", occurred_on=day.isoformat(), area_code=AREA,
                category_code="literature", description=f"Seen by a partner: {description}.",
                severity="2", marking=marking.value, recipients=recipients, listed_organisations=listed,
            ))
            rationale, indicator = canaries.pair("assessment")
            assessment = create_assessment(session, v, AssessmentForm(
                area_code=AREA, assessed_on=day.isoformat(), level="5", trend="rising", confidence="high",
                rationale=f"Rising: {rationale}.", indicators=((f"{indicator} posters", "evidenced"),),
                review_on=(today + timedelta(days=30)).isoformat(), marking=marking.value,
                recipients=recipients, listed_organisations=listed,
            ))
            for kind, made, words in (("incident", incident, (title, description)),
                                      ("assessment", assessment, (rationale, indicator))):
                records.append(Seeded(
                    kind, made.id, MARKED, words, marking.value, org.id, v.user_id,
                    frozenset(recipients), frozenset(listed), deleted,
                ))
            if deleted:
                delete_incident(session, v, incident.id, incident.version, reason="A duplicate")
                delete_assessment(session, v, assessment.id, assessment.version, reason="A duplicate")

    # A RED incident whose title changed: its history holds the old title, as readable as the record.
    red = next(r for r in records if r.kind == "incident" and r.marking == Marking.RED.value and not r.deleted)
    old_title = red.canaries[0]
    new_title = canaries.pair("incident")[0]
    view = get_incident(session, viewer["police_member"], red.id)
    form = IncidentForm.from_view(view)
    update_incident(session, viewer["police_member"], red.id, view.version,
                    IncidentForm(**{**form.__dict__, "title": f"{new_title} stickers"}))
    red.canaries = (old_title, red.canaries[1], new_title)

    # The partnership's working records (no marking: partners only) and the library.
    def working(kind, sharing, deleted, make):
        title, text = canaries.pair(kind)
        row = make(title, text)
        if deleted:
            row.deleted_at = utcnow()
        session.add(row)
        session.flush()
        records.append(Seeded(kind, row.id, sharing, (title, text), deleted=deleted))
        return row

    meeting = None
    for deleted in (False, True):
        m = working("meeting", PARTNERS, deleted, lambda t, d: Meeting(
            held_on=today - timedelta(days=20), kind=MeetingKind.QUARTERLY, title=f"{t} quarterly",
            agenda=f"Agenda {d}", minutes=f"Minutes {d}"))
        m.attendees = [p.police, p.council]
        meeting = meeting or m
    red_incident = next(r.id for r in records if r.kind == "incident" and r.marking == Marking.RED.value)
    strict_incident = next(r.id for r in records if r.kind == "incident" and r.marking == Marking.AMBER_STRICT.value)
    for deleted, owner in ((False, p.police), (False, p.council), (True, p.police)):
        a = working("action", PARTNERS, deleted, lambda t, d, owner=owner: Action(
            meeting_id=meeting.id, description=f"{t} {d} follow up", owner_org_id=owner.id, lead=f"Lead {d}",
            due_on=today + timedelta(days=10), status=ActionStatus.IN_PROGRESS, progress=20))
        a.incidents = [session.get(Incident, red_incident), session.get(Incident, strict_incident)]
        a.areas = [session.get(Area, AREA)]
    for deleted in (False, True):
        working("trigger", PARTNERS, deleted, lambda t, d: TriggerEvent(
            kind=TriggerKind.RALLY, title=f"{t} march", starts_on=today + timedelta(days=5),
            ends_on=today + timedelta(days=5), region_wide=True, notes=f"Notes {d}"))
    for deleted in (False, True):
        working("resource", ACCOUNTS, deleted, lambda t, d: Resource(
            kind=ResourceKind.GOOD_PRACTICE, title=f"{t} guide", summary=f"Summary {d}", topic="elections",
            organisation_id=p.council.id, published_on=today - timedelta(days=40)))
    statement = working("statement", PARTNERS, False, lambda t, d: Resource(
        kind=ResourceKind.STATEMENT, title=f"{t} joint statement", summary=f"Statement {d}",
        organisation_id=p.police.id, published_on=today - timedelta(days=400)))
    working("adoption", PARTNERS, False, lambda t, d: StatementAdoption(
        statement_id=statement.id, area_code=AREA, adopted_on=today - timedelta(days=100),
        notes=f"Adopted {t} {d}", recorded_by_id=p.police_member.id))
    session.flush()
    ids: dict[str, list[int]] = {}
    for r in records:
        ids.setdefault(r.kind, []).append(r.id)
    versions = {(kind, row.id): (row.version, row.deleted_at is not None)
                for kind, model in (("incident", Incident), ("assessment", TensionAssessment))
                for row in session.query(model)}
    return World(people, records, meeting.id, statement.id, ids, versions)


# --- reading answers ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def file_text(data: bytes) -> str:
    """What a downloaded file says, as text: PDF pages, the parts of a workbook, or the text."""
    if data.startswith(b"%PDF"):
        return pdf_text(data)
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return data.decode("utf-8", "replace")


def _downloads(node) -> Iterator[str]:
    """The files inside a callback's answer (dcc.Download data), decoded."""
    if isinstance(node, dict):
        if "content" in node and "filename" in node and isinstance(node["content"], str):
            raw = base64.b64decode(node["content"]) if node.get("base64") else node["content"].encode()
            yield file_text(raw)
        for value in node.values():
            yield from _downloads(value)
    elif isinstance(node, list):
        for value in node:
            yield from _downloads(value)


def readable(body: str, content_type: str = "", raw: bytes = b"") -> str:
    """Everything a person could read from an answer: the body and any file inside it."""
    if "pdf" in content_type:
        return pdf_text(raw)
    parts = [body]
    if body.startswith("{") and '"filename"' in body:
        try:
            parts.extend(_downloads(json.loads(body)))
        except ValueError:
            pass
    return "\n".join(parts)


def canaries_in(text: str) -> set[str]:
    return set(CANARY.findall(text))


# --- the layout a viewer got -----------------------------------------------------------------


def id_key(component_id) -> str:
    """The id as Dash writes it in a callback's prop id (dict ids as sorted, compact JSON)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def components(node) -> Iterator[tuple[object, dict]]:
    """(id, props) of every component with an id in a layout's JSON."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and "type" in node:
            if props.get("id") is not None:
                yield props["id"], props
            for value in props.values():
                yield from components(value)
        else:
            for value in node.values():
                yield from components(value)
    elif isinstance(node, list):
        for value in node:
            yield from components(value)


# --- asking the app ----------------------------------------------------------------------------

# The property values that make a control act: a click, Enter, an opened panel.
ACTIVATED = {"n_clicks": 1, "n_submit": 1, "submit_n_clicks": 1, "is_open": True}
REASON = "Checking the record for the quarterly review of tensions"
# What a record page's id store is called: the record kind it holds.
RECORD_STORE = re.compile(r"^(incident|assessment|meeting|action|resource)-([a-z-]*-)?(record|request)$")


def is_pattern(dep_id: str) -> bool:
    return dep_id.startswith("{")


def output_deps(key: str) -> list[tuple[str, str]]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return [tuple(part.rsplit(".", 1)) for part in parts]


def matches(pattern: dict, concrete) -> bool:
    if not isinstance(concrete, dict) or set(pattern) != set(concrete):
        return False
    return all(isinstance(v, list) or concrete[k] == v for k, v in pattern.items())


@dataclass
class Call:
    """One request to a server callback: what it is, with which values, and why."""

    key: str
    body: dict
    note: str


def build_call(key: str, spec: dict, found: dict[str, dict], dict_ids: list, *, overrides=None,
               trigger: int | None = 0, forged: list | None = None, note: str = "") -> Call:
    """The request a browser would send for `key`, with values from the layout (`found`: id key ->
    props; `dict_ids`: the pattern-matching ids on the page), `overrides` ((id key, prop) ->
    value) on top, and input number `trigger` as the one that changed. `forged` pattern ids are
    added to pattern-matching inputs (as a forged request could send)."""
    overrides = overrides or {}

    def value(dep_id, prop):
        k = id_key(dep_id)
        if (k, prop) in overrides:
            return overrides[(k, prop)]
        return found.get(k, {}).get(prop)

    def dep(d, *, with_value=True):
        if is_pattern(d["id"]):
            pattern = json.loads(d["id"])
            concrete = [i for i in dict_ids if matches(pattern, i)]
            concrete += [i for i in (forged or []) if matches(pattern, i) and i not in concrete]
            items = [{"id": i, "property": d["property"]} for i in concrete]
            if with_value:
                for item in items:
                    item["value"] = value(item["id"], d["property"])
            if '["ALL"]' not in d["id"] and '["ALLSMALLER"]' not in d["id"]:
                return items[0] if items else {"id": pattern, "property": d["property"], "value": None}
            return items
        item = {"id": d["id"], "property": d["property"]}
        if with_value:
            item["value"] = value(d["id"], d["property"])
        return item

    outputs = [dep({"id": i, "property": p}, with_value=False) for i, p in output_deps(key)]
    inputs = [dep(d) for d in spec["inputs"]]
    changed = []
    if trigger is not None and inputs:
        chosen = inputs[trigger]
        for item in chosen if isinstance(chosen, list) else [chosen]:
            if item.get("value") is not None or not isinstance(chosen, list):
                changed.append(f"{id_key(item['id'])}.{item['property']}")
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": [dep(d) for d in spec["state"]],
        "changedPropIds": changed,
    }
    return Call(key, body, note)


def post_callback(client, call: Call):
    cookie = client.get_cookie("_csrf_token")
    token = cookie.value if cookie else ""
    return client.post("/_dash-update-component", json=call.body, headers={"X-CSRFToken": token})
