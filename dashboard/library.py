"""The good practice library: guides, myth-rebuttal fact sheets and publications that partners
add and everyone with an account (the national policy team included) can search by topic and
district.

Resources are publications, not records about people or incidents, so the access gate lets every
active account read them (`access.visible`); the joint party statement, also a resource, stays
partners-only and is changed only on its own page (/statement). Any active partner may add a
resource; the organisation that added it, chairs and administrators may change or delete it.
Every change is checked against the version the person opened (a stale save is a conflict and
writes nothing), deletes are soft, and every write is in the audit log in the same transaction.
A resource names the organisation that added it, never the person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode, urlsplit

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, records
from .access import Viewer, visible
from .models import Area, Organisation, Resource, User, resource_areas, utcnow
from .reference import ResourceKind, Role

RECORD_TYPE = "resource"

# The kinds partners add here; the joint party statement has its own page.
LIBRARY_KINDS = (ResourceKind.GOOD_PRACTICE.value, ResourceKind.FACT_SHEET.value, ResourceKind.PUBLICATION.value)
STATEMENT_KIND = ResourceKind.STATEMENT.value
KIND_LABELS: dict[str, str] = {
    ResourceKind.GOOD_PRACTICE.value: "Good practice",
    ResourceKind.FACT_SHEET.value: "Myth-rebuttal fact sheet",
    ResourceKind.PUBLICATION.value: "Publication",
    ResourceKind.STATEMENT.value: "Joint party statement",
}
KIND_HINTS: dict[str, str] = {
    ResourceKind.GOOD_PRACTICE.value: "A guide, checklist or way of working that others can use.",
    ResourceKind.FACT_SHEET.value: "Answers a rumour or myth with the facts.",
    ResourceKind.PUBLICATION.value: "A report, briefing or conference paper.",
}
CHANGERS = frozenset({Role.CHAIR, Role.ADMIN})  # besides the organisation that added it

TITLE_MAX = 200
SUMMARY_MAX = 5_000
TOPIC_MAX = 80
LINK_MAX = 500
TEXT_MAX = 200  # what the search box keeps
SEARCH_WORDS_MAX = 10
PAGE_SIZE = 20
PAGE_MAX = 1_000
REASON_MAX = records.REASON_MAX

# The form's fields, in the order they appear (and errors are listed).
FIELD_LABELS = {
    "kind": "Kind of resource",
    "title": "Title",
    "summary": "Summary",
    "topic": "Topic",
    "link": "Link",
    "published_on": "Date published",
    "areas": "Districts",
}
OTHER_LABELS = {"reason": "Reason for deleting"}

_GSS = re.compile(r"^[EWSN]\d{8}$")
_NOT_IN_LINK = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


# --- errors -------------------------------------------------------------------------------------------


class LibraryError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class ResourceValidationError(records.RecordValidationError, LibraryError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS) to what is wrong."""

    field_labels = FIELD_LABELS
    other_labels = OTHER_LABELS


class ResourceNotFoundError(LibraryError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "This resource does not exist or has been deleted. Reload the library.")


class ResourcePermissionError(LibraryError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "Only the organisation that added a resource, chairs and administrators "
                                    "may change or delete it.")


class ResourceConflictError(LibraryError):
    """Someone else saved the resource since the person opened it; nothing was written.
    `current` is the resource as saved now (None if it has gone)."""

    def __init__(self, current: ResourceView | None, *, deleting: bool = False) -> None:
        self.current = current
        if deleting:
            message = ("Someone else changed this resource after you opened it, so it has not been deleted. "
                       "Check their version, then delete it again if you still want to.")
        else:
            message = ("Someone else changed this resource while you were editing it, so your changes have "
                       "not been saved. Reload it to see their version, then make your change again.")
        super().__init__(message)


# --- rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceView:
    """One resource as a viewer sees it: the organisation that added it, never the person."""

    id: int
    kind: str
    kind_label: str
    title: str
    summary: str
    topic: str
    link: str | None
    published_on: date | None
    organisation_id: int | None
    organisation: str
    areas: tuple[tuple[str, str], ...]  # (code, name); () = every district (region-wide)
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    updated_by_organisation: str  # who saved it last, as an organisation ("" if never changed)
    can_change: bool

    @property
    def is_statement(self) -> bool:
        return self.kind == STATEMENT_KIND

    @property
    def region_wide(self) -> bool:
        return not self.areas

    # record_parts.record_actions reads these
    @property
    def can_edit(self) -> bool:
        return self.can_change

    @property
    def can_delete(self) -> bool:
        return self.can_change


@dataclass(frozen=True)
class LibraryQuery:
    """What the person searched for; "" means any."""

    text: str = ""
    kind: str = ""
    topic: str = ""
    area: str = ""
    page: int = 1

    @property
    def is_filtered(self) -> bool:
        return bool(self.text or self.kind or self.topic or self.area)

    def params(self, page: int | None = None) -> dict[str, str]:
        """The query-string form (only what was chosen)."""
        out = {key: getattr(self, key) for key in ("text", "kind", "topic", "area") if getattr(self, key)}
        page = self.page if page is None else page
        if page > 1:
            out["page"] = str(page)
        return out

    def query_string(self, page: int | None = None) -> str:
        """"?topic=elections&area=E08000025", or "" when nothing is chosen: choices only, never records."""
        params = self.params(page)
        return "?" + urlencode(params) if params else ""


@dataclass(frozen=True)
class LibraryChoices:
    """What the search's selects offer the viewer."""

    kinds: list[tuple[str, str]]
    topics: list[str]
    districts: list[tuple[str, str]]  # (code, name), by name


@dataclass(frozen=True)
class ResourceChoices:
    """What the form offers."""

    kinds: list[tuple[str, str]]
    districts: list[tuple[str, list[tuple[str, str]]]]  # by police force area
    topics: list[str] = field(default_factory=list)


# --- who may do what -----------------------------------------------------------------------------------


def may_add(viewer: Viewer) -> bool:
    """Any active partner (member, chair, administrator) may add a resource."""
    return viewer.is_partner


def may_change(viewer: Viewer, resource) -> bool:
    """Partners of the organisation that added it, chairs and administrators; never the joint
    party statement (it has its own page)."""
    if not viewer.is_partner or resource is None or resource.kind == STATEMENT_KIND:
        return False
    return viewer.role in CHANGERS or (
        resource.organisation_id is not None and resource.organisation_id == viewer.organisation_id
    )


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, str(kind).capitalize())


def safe_link(link: str | None) -> str | None:
    """Only web addresses are links (never javascript:, data: or relative ones)."""
    text = (link or "").strip()
    return text if text.lower().startswith(("https://", "http://")) and not _NOT_IN_LINK.search(text) else None


# --- the search ----------------------------------------------------------------------------------------


def _one(value) -> str:
    """One value from the address bar (a repeated parameter gives its first)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "")


def query_from_params(params: Mapping, choices: LibraryChoices | None = None) -> LibraryQuery:
    """The search from the page's query string or its controls. Never fails: junk means "any"
    (too-long text is cut, an unknown kind or district is dropped; with `choices`, a kind, topic
    or district the viewer cannot choose is dropped too)."""
    text = " ".join(_one(params.get("text")).split())[:TEXT_MAX]
    kind = _one(params.get("kind")).strip()
    kind = kind if kind in KIND_LABELS else ""
    topic = " ".join(_one(params.get("topic")).split())[:TOPIC_MAX]
    area = _one(params.get("area")).strip().upper()
    area = area if _GSS.match(area) else ""
    page_text = _one(params.get("page")).strip()
    page = int(page_text) if page_text.isdigit() and len(page_text) <= 4 else 1
    page = min(max(page, 1), PAGE_MAX)
    if choices is not None:
        kind = kind if kind in dict(choices.kinds) else ""
        topic = next((t for t in choices.topics if t.lower() == topic.lower()), "") if topic else ""
        area = area if area in dict(choices.districts) else ""
    return LibraryQuery(text=text, kind=kind, topic=topic, area=area, page=page)


def _words(text: str) -> list[str]:
    return [w for w in text.split() if w][:SEARCH_WORDS_MAX]


def _search_conditions(query: LibraryQuery) -> list:
    conditions = []
    for word in _words(query.text):
        conditions.append(or_(
            Resource.title.icontains(word, autoescape=True),
            Resource.summary.icontains(word, autoescape=True),
            Resource.topic.icontains(word, autoescape=True),
        ))
    if query.kind:
        conditions.append(Resource.kind == query.kind)
    if query.topic:
        conditions.append(func.lower(Resource.topic) == func.lower(query.topic))
    if query.area:
        linked = select(resource_areas.c.resource_id).where(resource_areas.c.area_code == query.area)
        anywhere = ~exists().where(resource_areas.c.resource_id == Resource.id)
        conditions.append(or_(Resource.id.in_(linked), anywhere))
    return conditions


def _areas(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in (list(ids)[i : i + 900] for i in range(0, len(ids), 900)):
        for resource_id, code, name in session.execute(
            select(resource_areas.c.resource_id, Area.code, Area.name)
            .join(Area, Area.code == resource_areas.c.area_code)
            .where(resource_areas.c.resource_id.in_(chunk))
            .order_by(Area.name)
        ):
            found[resource_id].append((code, name))
    return found


def _views(session: Session, viewer: Viewer, query) -> list[ResourceView]:
    """Run a `visible(viewer, Resource)` selection and turn it into views (two queries more:
    the districts, and the organisation of whoever saved each last)."""
    adder = Organisation.__table__.alias("adder")
    rows = session.execute(
        query.add_columns(adder.c.name)
        .outerjoin(adder, adder.c.id == Resource.organisation_id)
        .execution_options(populate_existing=True)
    ).all()
    ids = [r.id for r, _name in rows]
    areas = _areas(session, ids)
    editors = [r.updated_by_id for r, _name in rows if r.updated_by_id is not None]
    editor_orgs = dict(session.execute(
        select(User.id, Organisation.name).join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id.in_(editors))
    ).all()) if editors else {}
    return [
        ResourceView(
            id=r.id, kind=r.kind, kind_label=kind_label(r.kind), title=r.title, summary=r.summary or "",
            topic=r.topic or "", link=r.link, published_on=r.published_on, organisation_id=r.organisation_id,
            organisation=name or "", areas=tuple(areas.get(r.id, ())), version=r.version,
            created_at=r.created_at, updated_at=r.updated_at,
            updated_by_organisation=editor_orgs.get(r.updated_by_id, ""),
            can_change=may_change(viewer, r),
        )
        for r, name in rows
    ]


def search(session: Session, viewer: Viewer, query: LibraryQuery, limit: int = PAGE_SIZE,
           offset: int = 0) -> tuple[list[ResourceView], int]:
    """The resources the viewer may read that match `query`, newest published first (undated
    ones last), and how many match in all. Text matches title, summary or topic (each word,
    any case); a district matches resources about it and those about the whole region."""
    base = visible(viewer, Resource)
    conditions = _search_conditions(query)
    if conditions:
        base = base.where(*conditions)
    total = session.scalar(base.with_only_columns(func.count(Resource.id)).order_by(None)) or 0
    ordered = base.order_by(
        Resource.published_on.is_(None), Resource.published_on.desc(), Resource.id.desc()
    ).limit(max(int(limit), 0)).offset(max(int(offset), 0))
    return _views(session, viewer, ordered), int(total)


def get_resource(session: Session, viewer: Viewer, resource_id: int) -> ResourceView | None:
    """One resource if the viewer may read it (None also when it does not exist or was deleted)."""
    found = _views(session, viewer, visible(viewer, Resource).where(Resource.id == resource_id))
    return found[0] if found else None


def topics(session: Session, viewer: Viewer) -> list[str]:
    """The topics of the resources the viewer may read, each once (any case), by name."""
    query = (
        visible(viewer, Resource)
        .where(Resource.topic != "")
        .with_only_columns(func.min(Resource.topic))
        .group_by(func.lower(Resource.topic))
    )
    return sorted((t for t in session.scalars(query) if t), key=str.lower)


def districts(session: Session) -> list[tuple[str, str]]:
    """Every district as (code, name), by name."""
    return [tuple(row) for row in session.execute(select(Area.code, Area.name).order_by(Area.name))]


def search_choices(session: Session, viewer: Viewer) -> LibraryChoices:
    """The kinds (the statement only for those who may see it), topics and districts to search by."""
    kinds = [(k, KIND_LABELS[k]) for k in LIBRARY_KINDS]
    if viewer.is_partner:
        kinds.append((STATEMENT_KIND, KIND_LABELS[STATEMENT_KIND]))
    return LibraryChoices(kinds=kinds, topics=topics(session, viewer), districts=districts(session))


def form_choices(session: Session, viewer: Viewer | None = None) -> ResourceChoices:
    """The form's kinds (the three the library holds), districts and the topics in use."""
    return ResourceChoices(
        kinds=[(k, KIND_LABELS[k]) for k in LIBRARY_KINDS],
        districts=records.district_choices(session),
        topics=topics(session, viewer) if viewer is not None else [],
    )


# --- checking what was typed -----------------------------------------------------------------------------


def _text_list(values) -> list[str]:
    if values is None or isinstance(values, str):
        values = [] if not values else [values]
    return [str(v).strip().upper() for v in values if str(v or "").strip()]


def check_link(value, errors: dict[str, str]) -> str | None:
    """A web address (http:// or https://), or None when blank; else an error in errors["link"]."""
    link = str(value or "").strip()
    if not link:
        return None
    if len(link) > LINK_MAX:
        errors["link"] = f"The link must be {LINK_MAX} characters or fewer (it has {len(link):,})."
        return None
    try:
        host = urlsplit(link).hostname if not _NOT_IN_LINK.search(link) else None
    except ValueError:  # e.g. a broken IPv6 address
        host = None
    if not host or not link.lower().startswith(("http://", "https://")):
        errors["link"] = ("The link must be a full web address starting with https:// or http://, for example "
                          "https://www.example.org/guide.pdf. Other kinds of link are not allowed.")
        return None
    return link


def _check(session: Session, form: Mapping, today: date) -> dict:
    """The form's values checked and tidied, or ResourceValidationError naming every wrong field."""
    errors: dict[str, str] = {}
    values: dict = {}

    kind = str(form.get("kind") or "").strip()
    if kind not in LIBRARY_KINDS:
        errors["kind"] = ("Choose the kind of resource from the list: good practice, a myth-rebuttal fact sheet "
                          "or a publication.")
    values["kind"] = kind

    title = " ".join(str(form.get("title") or "").split())
    if not title:
        errors["title"] = "Enter a title for the resource, for example \u201cAsylum accommodation: common myths answered\u201d."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title must be {TITLE_MAX} characters or fewer (it has {len(title):,})."
    values["title"] = title

    summary = str(form.get("summary") or "").strip()
    if len(summary) > SUMMARY_MAX:
        errors["summary"] = f"The summary must be {SUMMARY_MAX:,} characters or fewer (it has {len(summary):,})."
    values["summary"] = summary

    topic = " ".join(str(form.get("topic") or "").split())
    if len(topic) > TOPIC_MAX:
        errors["topic"] = f"The topic must be {TOPIC_MAX} characters or fewer (it has {len(topic):,})."
    values["topic"] = topic

    values["link"] = check_link(form.get("link"), errors)

    values["published_on"] = records.parse_day(
        form.get("published_on"), errors, "published_on", what="The date published",
        example="3 November 2026 (2026-11-03)", missing=None, allow_future=False, today=today,
    )

    codes = list(dict.fromkeys(_text_list(form.get("areas"))))
    known = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all()) if codes else {}
    if set(codes) - set(known):
        errors["areas"] = "Choose districts from the list only, or none if the resource is for the whole region."
    values["areas"] = tuple(sorted(((c, known[c]) for c in codes if c in known), key=lambda p: p[1]))

    if errors:
        raise ResourceValidationError(errors)
    return values


def texts(values: Mapping) -> dict[str, str]:
    """Each field as people read it (for the audit log's list of changes and the conflict view)."""
    published = values.get("published_on")
    return {
        "kind": kind_label(str(values.get("kind") or "")) if values.get("kind") else "",
        "title": str(values.get("title") or ""),
        "summary": str(values.get("summary") or ""),
        "topic": str(values.get("topic") or ""),
        "link": str(values.get("link") or ""),
        "published_on": records.day_text(published) if isinstance(published, date) else str(published or ""),
        "areas": "; ".join(name for _code, name in values.get("areas") or ()) or "All districts",
    }


def view_values(view: ResourceView) -> dict:
    return {"kind": view.kind, "title": view.title, "summary": view.summary, "topic": view.topic,
            "link": view.link, "published_on": view.published_on, "areas": view.areas}


# --- changes -------------------------------------------------------------------------------------------


def _audit(session: Session, viewer: Viewer, event: str, resource_id: int, ip_address: str | None,
           detail: dict, reason: str | None = None) -> None:
    audit.record(session, event, user_id=viewer.user_id, actor=viewer.email, record_type=RECORD_TYPE,
                 record_id=resource_id, ip_address=ip_address, reason=reason, detail=detail)


def _area_rows(session: Session, pairs) -> list[Area]:
    codes = [c for c, _ in pairs]
    return list(session.scalars(select(Area).where(Area.code.in_(codes)))) if codes else []


def _editable(session: Session, viewer: Viewer, resource_id: int, expected_version: int, *,
              deleting: bool = False) -> tuple[Resource, ResourceView]:
    """The resource loaded for change, after checking the viewer may change it and nobody saved
    it since the viewer read it (else ResourceConflictError with the resource as it is)."""
    if not may_add(viewer):
        raise ResourcePermissionError("Only partner organisations' members, chairs and administrators may "
                                      "change the library.")
    resource = session.scalar(
        visible(viewer, Resource).where(Resource.id == resource_id).execution_options(populate_existing=True)
    )
    if resource is None:
        raise ResourceNotFoundError
    if resource.kind == STATEMENT_KIND:
        raise ResourcePermissionError("The joint party statement is not changed in the library: go to the "
                                      "statement's own page.")
    if not may_change(viewer, resource):
        raise ResourcePermissionError
    current = get_resource(session, viewer, resource_id)
    if resource.version != expected_version:
        raise ResourceConflictError(current, deleting=deleting)
    return resource, current


def _flush(session: Session, viewer: Viewer, resource_id: int, *, deleting: bool = False) -> None:
    """Write now, so that a change someone else committed meanwhile is caught here; nothing of
    this change is kept then."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise ResourceConflictError(get_resource(session, viewer, resource_id), deleting=deleting) from error


def create(session: Session, viewer: Viewer, form: Mapping, ip_address: str | None = None, *,
           today: date | None = None) -> int:
    """Add a resource to the library for the viewer's organisation (partners only). Returns its id."""
    if not may_add(viewer):
        raise ResourcePermissionError("Only partner organisations' members, chairs and administrators may add "
                                      "resources to the library.")
    values = _check(session, form, today or date.today())
    now = utcnow()
    resource = Resource(
        kind=values["kind"], title=values["title"], summary=values["summary"], topic=values["topic"],
        link=values["link"], published_on=values["published_on"], organisation_id=viewer.organisation_id,
        added_by_id=viewer.user_id, created_at=now,
    )
    with session.no_autoflush:
        resource.areas = _area_rows(session, values["areas"])
    session.add(resource)
    session.flush()
    _audit(session, viewer, "resource-created", resource.id, ip_address,
           {"kind": values["kind"], "title": values["title"], "topic": values["topic"],
            "link": values["link"], "areas": [c for c, _ in values["areas"]], "version": resource.version})
    return resource.id


def edit(session: Session, viewer: Viewer, resource_id: int, form: Mapping, expected_version: int,
         ip_address: str | None = None, *, today: date | None = None) -> None:
    """Change a resource if the viewer may and nobody saved it since `expected_version`; the
    changed fields go into the audit log. Nothing is written when nothing changed."""
    resource, current = _editable(session, viewer, resource_id, expected_version)
    values = _check(session, form, today or date.today())
    before, after = texts(view_values(current)), texts(values)
    changed = [name for name in FIELD_LABELS if before[name] != after[name]]
    if not changed:
        return
    with session.no_autoflush:
        resource.kind, resource.title, resource.summary = values["kind"], values["title"], values["summary"]
        resource.topic, resource.link, resource.published_on = values["topic"], values["link"], values["published_on"]
        if "areas" in changed:
            resource.areas = _area_rows(session, values["areas"])
        resource.updated_at, resource.updated_by_id = utcnow(), viewer.user_id  # the row always moves on
    _flush(session, viewer, resource_id)
    _audit(session, viewer, "resource-updated", resource.id, ip_address,
           {"changed": changed, "before": {k: before[k] for k in changed if k != "summary"},
            "after": {k: after[k] for k in changed if k != "summary"}, "version": resource.version})


def delete(session: Session, viewer: Viewer, resource_id: int, expected_version: int, reason: str = "",
           ip_address: str | None = None) -> None:
    """Soft-delete a resource: it leaves every search and page; the reason goes into the audit log."""
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise ResourceValidationError(
            {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})."}
        )
    resource, _current = _editable(session, viewer, resource_id, expected_version, deleting=True)
    resource.deleted_at, resource.deleted_by_id = utcnow(), viewer.user_id
    _flush(session, viewer, resource_id, deleting=True)
    _audit(session, viewer, "resource-deleted", resource.id, ip_address,
           {"kind": resource.kind, "title": resource.title, "version": resource.version}, reason=reason or None)
