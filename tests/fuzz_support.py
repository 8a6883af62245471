"""Hostile inputs for the fuzz tests: hypothesis strategies for what a forged request can carry
(wrong types, huge and odd numbers, long and strange text, HTML, SQL and path metacharacters,
nested lists and dicts), and a builder that turns any Dash callback of the app, including
pattern-matching ones, into a well-formed /_dash-update-component request carrying them.

The request's shape is always what dash-renderer would send; only the values are hostile, so a
server error points at our code, not at Dash's own parsing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

CANARY = "Quetzalcanary"  # a word that appears only in records the fuzzing viewers may not see

# Markup and script that must come back as text, never run.
HTML_PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "'><iframe srcdoc=\"<script>parent.__xss=1</script>\">",
    "javascript:window.__xss=1",
    " JaVaScRiPt:window.__xss=1",
    "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==",
    '<a href="javascript:window.__xss=1">x</a>',
    "{{7*7}}${7*7}<%= 7*7 %>",
    "</textarea></title><script>window.__xss=1</script>",
    '" autofocus onfocus="window.__xss=1" x="',
    "<!--",
    "]]>",
]
# Text that would change a query if it were ever pasted into SQL or a LIKE pattern.
SQL_PAYLOADS = [
    "' OR 1=1 --",
    "\" OR \"\"=\"",
    "'; DROP TABLE incidents; --",
    '"; DROP TABLE users; --',
    "1; SELECT pg_sleep(5)",
    "%",
    "_",
    "%%_%",
    "\\",
    "\\%",
    "' UNION SELECT password_hash FROM users --",
    "1 OR 1=1",
    "\x00",
]
# Paths, formulas and text that trip parsers.
OTHER_PAYLOADS = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/incidents/../admin",
    "//evil.example/",
    "=HYPERLINK(\"http://evil.example\")",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\u202eRTL override\u202c",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea",
    "zero\u200bwidth\u200d\ufeffjoiner",
    "emoji \U0001f600\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f3f4\u200d\u2620\ufe0f",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo",
    "\r\n\r\nX-Injected: 1",
    "\t \n ",
    "",
    " ",
    "null",
    "undefined",
    "NaN",
    "true",
    "[]",
    "{}",
    "0x7fffffff",
    "1e999",
    "-1",
    "\u0661\u0662",  # Arabic-Indic digits: int() accepts them
    "\uff11\uff12",  # full-width digits
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "2026-01-01T00:00:00+05:00",
    "E08000025",
    "E08000025' --",
    "TLP:RED",
    "TLP:CLEAR",
    "admin",
    "all",
    "*",
]
LONG_STRINGS = [
    "A" * 100_000,
    "\u00e9\u4e2d\U0001f600" * 12_000,
    "<script>window.__xss=1</script>" * 3_000,
    "' OR 1=1 -- " * 8_000,
    "9" * 5_000,
]
PAYLOADS = HTML_PAYLOADS + SQL_PAYLOADS + OTHER_PAYLOADS

HUGE_INTS = [2**31, 2**31 - 1, -(2**31), 2**63, -(2**63) - 1, 2**64, 10**30, -1, 0, 10**308]
ODD_FLOATS = [0.5, -0.0, 1e308, -1e308, 5e-324, 1.7976931348623157e308, 3.0]
NON_FINITE = [math.nan, math.inf, -math.inf]  # not JSON, but Python's parser accepts what a forger sends

# Text without surrogates (which JSON cannot carry as UTF-8).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def scalars(record_ids: Iterable[int] = ()) -> st.SearchStrategy:
    """One JSON scalar: None, a bool, an odd number, hostile or random text, or a seeded record's id."""
    ids = sorted(set(record_ids))
    parts = [
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from(HUGE_INTS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(ODD_FLOATS + NON_FINITE),
        TEXT,
        st.sampled_from(PAYLOADS),
        st.sampled_from(LONG_STRINGS),
    ]
    if ids:
        parts += [st.sampled_from(ids), st.sampled_from([str(i) for i in ids])]
    return st.one_of(*parts)


def values(record_ids: Iterable[int] = ()) -> st.SearchStrategy:
    """Any JSON value a forged request could put where a component property goes."""
    leaf = scalars(record_ids)
    return st.recursive(
        leaf,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(TEXT, st.sampled_from(PAYLOADS[:8] + ["id", "value", "props", "type"])),
                          children, max_size=4),
        max_leaves=8,
    )


CLICK_PROPS = ("n_clicks", "submit_n_clicks", "cancel_n_clicks", "n_submit", "n_blur")


def value_for(prop: str, record_ids: Iterable[int] = ()) -> st.SearchStrategy:
    """Hostile values for one property. Click counters are mostly real clicks, so that the callback
    goes past its "was it clicked?" check; other values are as often of the type the component
    sends (hostile text, odd numbers) as of any type, so that the callback's own checks are
    reached as well as the refusal of wrong types."""
    if prop in CLICK_PROPS:
        return st.one_of(st.integers(min_value=1, max_value=3), st.just(1), values(record_ids))
    if prop == "value":
        flat = scalars(record_ids)
        return st.one_of(flat, st.lists(flat, max_size=4), values(record_ids))
    return values(record_ids)


QUERY_NAMES = ["area", "period", "start", "end", "categories", "strands", "markings", "organisations",
               "verification", "geography", "metric", "layers", "grain", "split", "measure", "compare",
               "q", "kind", "topic", "status", "owner", "meeting", "view", "done", "page", "id", "next"]


def page_paths(templates: Iterable[str], record_ids: Iterable[int] = ()) -> st.SearchStrategy:
    """Paths of the app's pages, record pages with seeded, missing and hostile ids, and nonsense
    (mostly starting with "/", as the address bar's path does; sometimes none or relative)."""
    templates = sorted(set(templates))
    ids = [str(i) for i in record_ids] + ["0", "-1", "999999", str(2**64), "1.5", "1e3", "%00", "..", "\u0661"]
    filled = st.builds(lambda t, v: re.sub(r"<\w+>", lambda _match: v, t), st.sampled_from(templates),
                       st.one_of(st.sampled_from(ids), st.sampled_from(PAYLOADS), TEXT))
    # A browser's location.pathname always starts with "/"; anything else (none, a relative path)
    # is refused with 400 before Dash's router sees it.
    return st.one_of(filled, st.sampled_from(templates), st.sampled_from(PAYLOADS).map(lambda t: "/" + t),
                     TEXT.map(lambda t: "/" + t), st.none(), TEXT, st.sampled_from(PAYLOADS))


def query_strings() -> st.SearchStrategy:
    """A page's ?query, with the names pages read and hostile values (sometimes not encoded)."""
    pairs = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), TEXT),
                               st.one_of(st.sampled_from(PAYLOADS), TEXT, st.sampled_from(LONG_STRINGS[:1]))),
                     max_size=5)
    encoded = pairs.map(lambda p: "?" + urlencode(p) if p else "")
    raw = pairs.map(lambda p: "?" + "&".join(f"{k}={v}" for k, v in p))
    return st.one_of(encoded, raw, st.sampled_from(["", "?", "?&&=", "?area", "?=x"]))


# --- requests --------------------------------------------------------------------------------


WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")


def _parse_id(raw: str) -> str | dict:
    return json.loads(raw) if raw.startswith("{") else raw


def _wildcard(id_: dict) -> str | None:
    for value in id_.values():
        if isinstance(value, list) and value and value[0] in WILDCARDS:
            return value[0]
    return None


def stringify_id(id_: str | dict) -> str:
    """The id as Dash writes it in changedPropIds."""
    return json.dumps(id_, sort_keys=True, separators=(",", ":")) if isinstance(id_, dict) else id_


def output_parts(key: str) -> list[tuple[str, str]]:
    """A callback key's outputs as (id, property), without the allow_duplicate suffix."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        out.append((ident, prop.split("@")[0]))
    return out


ROUTER_OUTPUT = "_pages_content"  # Dash's own page router (use_pages)


@st.composite
def callback_request(draw, key: str, spec: dict, record_ids: Iterable[int] = (), page_templates=("/",)) -> dict:
    """A request body for callback `key` as dash-renderer would send it, every value hostile.

    Components matched by a pattern get hostile ids too (the wildcard keys' values); all
    dependencies on the same pattern share the same components, as on a real page. Dash's own
    page router gets the address bar's text (always a string from the browser; Dash itself fails
    on anything else before any code of ours runs), hostile paths and queries included."""
    record_ids = list(record_ids)
    router = ROUTER_OUTPUT in key
    id_values = st.one_of(scalars(record_ids).filter(lambda v: not isinstance(v, float) or math.isfinite(v)))
    concrete: dict[str, list[dict]] = {}  # pattern (its JSON text) -> the concrete ids drawn for it

    def instances(raw: str) -> tuple[str, list[dict]]:
        pattern = _parse_id(raw)
        kind = _wildcard(pattern)
        if raw not in concrete:
            count = 1 if kind == "MATCH" else draw(st.integers(min_value=0, max_value=3))
            ids = []
            for _ in range(count):
                ident = {}
                for name, value in pattern.items():
                    wild = isinstance(value, list) and value and value[0] in WILDCARDS
                    ident[name] = draw(id_values) if wild else value
                ids.append(ident)
            concrete[raw] = ids
        return kind, concrete[raw]

    def dependency(dep: dict) -> dict | list:
        raw, prop = dep["id"], dep["property"]
        if router and prop == "pathname":
            return {"id": raw, "property": prop, "value": draw(page_paths(page_templates, record_ids))}
        if router and prop == "search":
            return {"id": raw, "property": prop, "value": draw(query_strings())}
        if not raw.startswith("{"):
            return {"id": raw, "property": prop, "value": draw(value_for(prop, record_ids))}
        kind, ids = instances(raw)
        items = [{"id": ident, "property": prop, "value": draw(value_for(prop, record_ids))} for ident in ids]
        return items[0] if kind == "MATCH" else items

    inputs = [dependency(d) for d in spec["inputs"]]
    state = [dependency(d) for d in spec["state"]]

    outputs: list[Any] = []
    for ident, prop in output_parts(key):
        if ident.startswith("{"):
            kind, ids = instances(ident)
            items = [{"id": i, "property": prop} for i in ids]
            outputs.append(items[0] if kind == "MATCH" else items)
        else:
            outputs.append({"id": ident, "property": prop})

    flat_inputs = [i for dep in inputs for i in (dep if isinstance(dep, list) else [dep])]
    changed = []
    if flat_inputs:
        trigger = draw(st.sampled_from(flat_inputs))
        changed = [f"{stringify_id(trigger['id'])}.{trigger['property']}"]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }


def strict_json(text: str) -> Any:
    """Parse as a browser would: NaN and Infinity are not JSON."""
    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def walk(node: Any) -> Iterator[dict]:
    """Every component (a dict with "type" and "props") inside a Dash answer."""
    if isinstance(node, dict):
        if "type" in node and "props" in node and isinstance(node["props"], dict):
            yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


URL_PROPS = ("href", "src", "action", "formAction", "data", "srcDoc", "srcdoc")


def unsafe_markup(answer: Any) -> list[str]:
    """What in an answer could run script: raw-HTML components and script URLs in link props.

    Checks every property set directly on an output too (e.g. a redirect's href)."""
    problems = []
    for component in walk(answer):
        props = component["props"]
        if props.get("dangerously_allow_html"):
            problems.append(f"{component['type']} with dangerously_allow_html")
        problems += _script_urls(props, component["type"])
    if isinstance(answer, dict):
        for output, props in answer.items():
            if isinstance(props, dict):
                problems += _script_urls(props, output)
    return problems


def _script_urls(props: dict, where: str) -> list[str]:
    out = []
    for name in URL_PROPS:
        value = props.get(name)
        if isinstance(value, str):
            squashed = "".join(ch for ch in value if not ch.isspace() and ch.isprintable()).lower()
            if squashed.startswith(("javascript:", "vbscript:", "data:text/html")):
                out.append(f"{where}.{name} = {value[:80]!r}")
    return out


def short(body: Any, limit: int = 200) -> Any:
    """A request body with long strings cut, for failure messages."""
    if isinstance(body, str):
        return body if len(body) <= limit else f"{body[:limit]}...<{len(body)} chars>"
    if isinstance(body, list):
        return [short(v, limit) for v in body]
    if isinstance(body, dict):
        return {k: short(v, limit) for k, v in body.items()}
    return body
