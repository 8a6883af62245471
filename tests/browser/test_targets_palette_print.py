"""Beyond axe, in headless Chromium: target sizes, the charts' colours, and printing.

1. Targets: on every page the chair and an administrator may open (at 1280 CSS px, and the
   overview, the action tracker and the briefing page at 360 px with the menu open), every visible
   control is at least 24 x 24 CSS px: buttons, links styled as buttons, inputs (a checkbox or
   radio button together with its label, since clicking the label works too), selects, summary
   elements, ARIA buttons and tabs, navigation and pagination links, ag-grid's header buttons,
   Plotly's mode bar and clickable legend items, and every link that is not in a sentence. A link
   in a sentence (WCAG 2.5.8's inline exception) is laid out inline in a block whose line holds
   other words outside any link or button.
2. Charts: every colour a chart draws with (as Plotly drew it, defaults included) is one of the
   Analysis Function's six colours (DOMAIN.md) or one of a few neutrals; the map's scales are
   what layouts/maps.py says they are; a chart with several series names each in a legend and
   tells lines apart by marker shape or dash and bars by fill pattern, never by colour alone.
3. Printing the chair's briefing page and pack and the action tracker (and an action): no
   navigation, menus, buttons, filters, skip link or idle dialog; the content full width with
   its tables shown; links as plain words (or with their address); nothing cut off at the width
   of the paper (A4, 794 CSS px; the tracker prints on landscape pages, 1032 px inside their
   margins); dark ink on white paper; and PDFs of a sensible number of A4 pages.
"""

from __future__ import annotations

import base64
import colorsys
import io
import re
import time
from collections import Counter
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.models import action_areas
from dashboard.reference import Role
from layouts.maps import BAND_MARKER_SIZE, LEVEL_MARKER_SIZE
from layouts.trends import SYMBOLS
from tests.browser.helpers import sign_in, start_app
from tests.browser.test_axe_every_page import paths_for, record_ids, settled

pytestmark = pytest.mark.browser

MIN_TARGET = 24  # CSS px (WCAG 2.2, 2.5.8 Target Size (Minimum))
NARROW = 360  # a phone
NARROW_PATHS = ["/", "/actions", "/briefing"]
A4_WIDTH = 794  # CSS px: 210 mm at 96 dpi
# The tracker prints on A4 landscape with 12 mm margins (assets/actions.css): 273 mm at 96 dpi.
TRACKER_WIDTH = 1032
A4_POINTS = (595, 842)  # a PDF page of A4, portrait

# The Government Analysis Function's colour-blind-safe categorical palette (DOMAIN.md).
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
DARK_BLUE, ORANGE = "#12436D", "#F46A25"
# The neutrals the charts use besides the palette (which has a dark grey, #3D3D3D, of its own):
NEUTRALS = (
    "#FFFFFF",  # white: the statement map's "adopted" dots, the edges between stacked bars
    "#0B0C0C",  # GOV.UK near-black (the page's text colour): the tension circles on the map
    "#505050",  # dark grey outlines of the map's areas, so pale areas stand out from white
)
# ...and on the map's scales only: the grey of "no data" (no assessment, not adopted) and of "no
# change" / "stable" in the middle of the blue-orange scales. Greys say "nothing here".
SCALE_NEUTRALS = ("#D9D9D9", "#F2F2F2")

def open_page(dash_duo, path: str) -> None:
    """Open a page and wait until its callbacks have answered and its charts are drawn."""
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + path)
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
    if driver.find_elements(By.ID, "react-entry-point"):
        settled(dash_duo)
        WebDriverWait(driver, 30, poll_frequency=0.2).until(lambda d: d.execute_script(CHARTS_DRAWN))


CHARTS_DRAWN = """
return Array.prototype.every.call(document.querySelectorAll('.dash-graph'), function (graph) {
  var gd = graph.classList.contains('js-plotly-plot') ? graph : graph.querySelector('.js-plotly-plot');
  return Boolean(gd && gd._fullLayout && gd._fullData);
});
"""


# --- 1. targets ------------------------------------------------------------------------------

TARGETS = """
var MIN = arguments[0];
function drawn(el) {
  var r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;  // not drawn, or visually hidden (1 px clip)
  var cs = getComputedStyle(el);
  return cs.visibility !== 'hidden' && cs.display !== 'none';
}
function blockOf(node) {
  var el = node.parentElement;
  while (el && getComputedStyle(el).display === 'inline') el = el.parentElement;
  return el;
}
// WCAG 2.5.8's inline exception: a link in a sentence, i.e. laid out inline in a block whose line
// holds other visible words (letters or digits, not only separators) outside any link or button.
function inRunningText(a) {
  if (getComputedStyle(a).display !== 'inline') return false;
  var block = blockOf(a);
  if (!block) return false;
  var walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    var node = walker.currentNode, parent = node.parentElement;
    if (a.contains(node) || parent.closest('a[href], button, [role=button]') || blockOf(node) !== block) continue;
    if (!drawn(parent)) continue;  // visually hidden words take no room on the line
    if (/[A-Za-z0-9]/.test(node.textContent)) return true;
  }
  return false;
}
function describe(el) {
  var tag = el.tagName.toLowerCase(), id = el.id ? '#' + el.id : '';
  var cls = el.getAttribute('class') ? '.' + el.getAttribute('class').trim().split(/\\s+/).slice(0, 2).join('.') : '';
  var text = (el.getAttribute('aria-label') || el.getAttribute('data-title') || el.textContent || el.value || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 40);
  return tag + id + cls + (text ? ' "' + text + '"' : '');
}
function small(box) { return box.width < MIN - 0.01 || box.height < MIN - 0.01; }
function size(box) { return {width: Math.round(box.width * 10) / 10, height: Math.round(box.height * 10) / 10}; }
var found = [];
var controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], ' +
  '[role=tab], [role=link], [role=checkbox], [role=radio], [role=switch], [role=combobox], ' +
  '.page-link, .ag-header-cell-menu-button, .ag-floating-filter-button-button, .ag-paging-button, .modebar-btn';
document.querySelectorAll(controls).forEach(function (el) {
  if (el.disabled) return;
  var parts = [el];
  if (el.tagName === 'INPUT' && /^(checkbox|radio|file)$/.test(el.type)) {
    parts = parts.concat(Array.prototype.slice.call(el.labels || []));  // clicking the label works too
  }
  parts = parts.filter(drawn);
  if (!parts.length) return;
  var box = parts.map(function (part) { return part.getBoundingClientRect(); }).reduce(function (a, b) {
    return {left: Math.min(a.left, b.left), top: Math.min(a.top, b.top),
            right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom)};
  });
  if (el.tagName === 'A' && !el.classList.contains('btn') && inRunningText(el)) return;
  box = {width: box.right - box.left, height: box.bottom - box.top};
  if (small(box)) found.push(Object.assign({target: describe(el)}, size(box)));
});
// Plotly's legend items, where clicking one hides its series (and double-clicking isolates it).
var legends = [];
document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
  var legend = gd._fullLayout && gd._fullLayout.legend;
  if (!gd._fullLayout.showlegend || !legend || legend.itemclick === false && legend.itemdoubleclick === false) return;
  gd.querySelectorAll('.legend .traces').forEach(function (item) {
    var toggle = item.querySelector('.legendtoggle');
    if (!toggle || getComputedStyle(toggle).pointerEvents === 'none') return;
    var box = toggle.getBoundingClientRect();
    if (box.width && small(box)) {
      legends.push(Object.assign({target: 'legend item "' + item.textContent.trim().slice(0, 40) + '" of #' +
        (gd.closest('[id]') || {}).id}, size(box)));
    }
  });
});
return {found: found, legends: legends};
"""


def _walk(dash_duo, paths: list[str], width: int, open_menu: bool = False) -> tuple[list[str], list[str]]:
    small, legends = [], []
    for path in paths:
        open_page(dash_duo, path)
        if open_menu:  # the navigation's links, behind "Menu" on a narrow screen
            dash_duo.find_element("#shell-menu-toggle").click()
            WebDriverWait(dash_duo.driver, 5).until(lambda d: d.find_element(By.ID, "shell-nav").is_displayed())
        result = dash_duo.driver.execute_script(TARGETS, MIN_TARGET)
        for found, into in ((result["found"], small), (result["legends"], legends)):
            seen = Counter(f"{path} at {width} px: {f['target']} is {f['width']} x {f['height']} px" for f in found)
            into += [line + (f" ({n} of them)" if n > 1 else "") for line, n in seen.items()]
    return small, legends


def test_every_control_is_a_target_of_at_least_24_px(dash_duo, demo):
    """The chair's pages, then the administrator's own pages and the record pages and forms (what
    each may change differs); the pages both open look the same for both."""
    app, db, accounts = demo
    chair, admin = accounts[Role.CHAIR.value], accounts[Role.ADMIN.value]
    start_app(dash_duo, app)
    driver = dash_duo.driver
    driver.set_window_size(1280, 900)
    sign_in(dash_duo, chair.email, chair.password)
    chair_paths = paths_for(Role.CHAIR.value, record_ids(db, chair.email))
    small, legends = _walk(dash_duo, chair_paths, 1280)
    driver.set_window_size(NARROW, 800)
    found = _walk(dash_duo, NARROW_PATHS, NARROW, open_menu=True)
    small, legends = small + found[0], legends + found[1]

    driver.delete_all_cookies()
    driver.set_window_size(1280, 900)
    sign_in(dash_duo, admin.email, admin.password)
    admin_paths = [p for p in paths_for(Role.ADMIN.value, record_ids(db, admin.email))
                   if p not in chair_paths or re.search(r"/\d+(/edit)?$", p)]
    assert len(chair_paths) >= 25 and len(admin_paths) >= 15, (chair_paths, admin_paths)
    found = _walk(dash_duo, admin_paths, 1280)
    small, legends = small + found[0], legends + found[1]

    assert small == [], "targets smaller than 24 x 24 CSS px:\n" + "\n".join(small)
    assert legends == [], "clickable legend entries smaller than 24 x 24 CSS px:\n" + "\n".join(legends)


# --- 2. the charts' colours --------------------------------------------------------------------

CHARTS = """
function strings(v) {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter(function (x) { return typeof x === 'string'; });
  return [];  // numbers: they go through the colour scale
}
return Array.prototype.map.call(document.querySelectorAll('.js-plotly-plot'), function (gd) {
  var full = gd._fullLayout;
  var traces = gd._fullData.filter(function (t) { return t.visible === true; }).map(function (t) {
    var mode = t.mode || '', marker = t.marker || {}, line = t.line || {}, colours = [];
    var area = t.type === 'choroplethmap' || t.type === 'choropleth';
    var lines = mode.indexOf('lines') >= 0, markers = mode.indexOf('markers') >= 0 || t.type === 'bar';
    if (lines) colours = colours.concat(strings(line.color));
    if (markers) colours = colours.concat(strings(marker.color));
    if ((markers || area) && marker.line && marker.line.width) colours = colours.concat(strings(marker.line.color));
    if (t.fill && t.fill !== 'none') colours = colours.concat(strings(t.fillcolor));
    var bar = t.colorbar || {};
    return {
      name: t.name || '', type: t.type, lines: lines, markers: markers, area: area,
      legend: t.showlegend !== false, colours: colours,
      colorscale: area ? (t.colorscale || []).map(function (s) { return s[1]; }) : [],
      stops: area ? (t.colorscale || []).map(function (s) { return s[0]; }) : [],
      zmin: t.zmin, zmax: t.zmax,
      key: area && t.showscale !== false ? ((bar.title && bar.title.text) || (bar.ticktext || []).join(', ')) : '',
      symbols: markers && t.type !== 'bar' ? strings(marker.symbol) : [],
      dash: lines ? (line.dash || 'solid') : '',
      pattern: t.type === 'bar' ? ((marker.pattern || {}).shape || '') : null,
      sizes: Array.isArray(marker.size) ? marker.size : [],
      points: (t.lat || t.x || t.locations || []).length
    };
  });
  var shapes = (full.shapes || []).reduce(function (all, s) {
    return all.concat([s.fillcolor, s.line && s.line.width ? s.line.color : null].filter(Boolean));
  }, []);
  return {id: (gd.closest('[id]') || {}).id || '', legend: Boolean(full.showlegend), traces: traces, shapes: shapes};
});
"""


def rgba(colour: str) -> tuple[int, int, int, float]:
    """A CSS colour as Plotly gives it (#RGB, #RRGGBB, rgb(), rgba(), transparent)."""
    c = colour.strip().lower()
    if c == "transparent":
        return 0, 0, 0, 0.0
    if c.startswith("#"):
        h = c[1:]
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    if c.startswith("rgb"):
        parts = [p.strip() for p in c[c.index("(") + 1:c.index(")")].split(",")]
        return int(float(parts[0])), int(float(parts[1])), int(float(parts[2])), float(parts[3]) if len(parts) > 3 else 1.0
    named = {"white": (255, 255, 255, 1.0), "black": (0, 0, 0, 1.0)}
    if c in named:
        return named[c]
    raise ValueError(f"unknown colour {colour!r}")


def rgb(colour: str) -> tuple[int, int, int]:
    return rgba(colour)[:3]


def one_of(colour: str, allowed) -> bool:
    r, g, b, a = rgba(colour)
    return a == 0 or (r, g, b) in {rgb(c) for c in allowed}  # a palette colour at any opacity


def luminance(colour: str) -> float:
    def channel(v: int) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = rgb(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def hue(colour: str) -> float:
    r, g, b = (v / 255 for v in rgb(colour))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def near_hue(colour: str, of: str, within: float = 15) -> bool:
    difference = abs(hue(colour) - hue(of)) % 360
    return min(difference, 360 - difference) <= within


def grey(colour: str) -> bool:
    r, g, b = rgb(colour)
    return max(r, g, b) - min(r, g, b) <= 4


def steps(scale: list[str]) -> list[str]:
    """A stepped scale's colours, once each, in order."""
    out = []
    for colour in scale:
        if not out or rgb(out[-1]) != rgb(colour):
            out.append(colour)
    return out


def scale_problems(metric: str, trace: dict) -> list[str]:
    """What layouts/maps.py promises for each way of colouring the map."""
    scale, problems = trace["colorscale"], []
    if metric in ("count", "rate"):  # SEQUENTIAL: a light tint of the dark blue up to the dark blue
        if rgb(scale[-1]) != rgb(DARK_BLUE):
            problems.append(f"ends at {scale[-1]}, not the palette's dark blue {DARK_BLUE}")
        if not (near_hue(scale[0], DARK_BLUE) and luminance(scale[0]) > luminance(DARK_BLUE)):
            problems.append(f"starts at {scale[0]}, not a lighter tint of {DARK_BLUE}")
        if any(luminance(b) >= luminance(a) for a, b in pairwise(scale)):
            problems.append("does not darken steadily from low to high")
    elif metric == "change":  # DIVERGING: falls in the dark blue, rises in a darker orange, grey between
        middle = scale[trace["stops"].index(0.5)] if 0.5 in trace["stops"] else None
        if rgb(scale[0]) != rgb(DARK_BLUE):
            problems.append(f"starts at {scale[0]}, not the palette's dark blue {DARK_BLUE}")
        if not (near_hue(scale[-1], ORANGE) and luminance(scale[-1]) < luminance(ORANGE)):
            problems.append(f"ends at {scale[-1]}, not a darker shade of the palette's orange {ORANGE}")
        if middle is None or not grey(middle):
            problems.append(f"no change is not a neutral grey: {middle}")
        if trace["zmin"] != -trace["zmax"]:
            problems.append(f"not centred on no change: {trace['zmin']} to {trace['zmax']}")
    elif metric == "tension":  # no assessment in grey, then levels 1-5 light to dark (sequential)
        levels = steps(scale)
        if len(levels) != 6 or not grey(levels[0]):
            problems.append(f"not a grey and five levels: {levels}")
        elif any(luminance(b) >= luminance(a) for a, b in pairwise(levels[1:])):
            problems.append(f"levels 1-5 do not go from light to dark: {levels[1:]}")
    elif metric == "warning":  # fall in blue, stable in grey, rise and sharp rise in (darker) orange
        bands = steps(scale)
        if len(bands) != 4:
            problems.append(f"not four bands: {bands}")
        else:
            fall, stable, rise, sharp = bands
            if not near_hue(fall, DARK_BLUE) or not grey(stable) or not near_hue(rise, ORANGE) \
                    or not near_hue(sharp, ORANGE) or luminance(sharp) >= luminance(rise):
                problems.append(f"not blue, grey, orange and darker orange: {bands}")
    else:  # e.g. the statement's map: palette colours and neutrals in steps
        problems += [f"{c} is not a palette colour or neutral" for c in steps(scale)
                     if not one_of(c, PALETTE + NEUTRALS + SCALE_NEUTRALS)]
    return [f"the {metric} scale {p}" for p in problems]


def chart_problems(path: str, chart: dict) -> tuple[list[str], list[str]]:
    """(colours off the palette or a scale that breaks its promise, information by colour alone)."""
    metric = parse_qs(urlsplit(path).query).get("metric", ["count"])[0] if chart["id"] == "overview-map" \
        else "steps"
    where = f"{path} #{chart['id']}"
    off, alone = [], []
    for trace in chart["traces"]:
        off += [f"{where} trace {trace['name']!r}: {c} is not a palette colour or neutral"
                for c in trace["colours"] if not one_of(c, PALETTE + NEUTRALS)]
        if trace["area"] and trace["colorscale"]:
            off += [f"{where}: {p}" for p in scale_problems(metric, trace)]
            if not trace["key"]:
                alone.append(f"{where} trace {trace['name']!r}: its colour bar has no title or labels")
    off += [f"{where} shape: {c} is not a palette colour or neutral" for c in chart["shapes"]
            if not one_of(c, PALETTE + NEUTRALS)]

    # Several series: each named in the legend, lines told apart by shape or dash, bars by pattern.
    series = [t for t in chart["traces"] if (t["lines"] or t["markers"]) and t["points"] and not t["area"]
              and t["type"] in ("scatter", "scattergl", "bar")]
    if len(series) > 1:
        names = [t["name"] for t in series]
        if len(set(names)) != len(names) or not all(names):
            alone.append(f"{where}: series without a name of their own: {names}")
        if not chart["legend"] or not all(t["legend"] for t in series):
            alone.append(f"{where}: the series are not named in a legend")
        lines = [t for t in series if t["lines"]]
        looks = [(t["symbols"][0].removesuffix("-open") if t["symbols"] else "", t["dash"]) for t in lines]
        for trace, look in zip(lines, looks, strict=True):
            if looks.count(look) > 1:
                alone.append(f"{where}: line {trace['name']!r} looks like another but for its colour "
                             f"(marker {look[0] or 'none'}, {look[1]} line)")
        bars = [t for t in series if t["type"] == "bar"]
        patterns = [t["pattern"] for t in bars]
        if len(set(patterns)) != len(patterns):
            alone.append(f"{where}: bars told apart by colour alone (patterns {patterns})")
    if chart["id"] == "trends-graph":  # each series' line has its own marker shape (layouts/trends.py);
        # its dotted year-before line repeats that shape, which the check above tells apart by the dash
        shapes = [t["symbols"][0].removesuffix("-open") for t in series
                  if t["lines"] and t["symbols"] and not t["name"].endswith(", a year before")]
        if not set(shapes) <= set(SYMBOLS) or len(set(shapes)) != len(shapes):
            alone.append(f"{where}: the lines' marker shapes are not the app's own, one each: {shapes}")
    if chart["id"] == "overview-map":  # circles give the level or the rise, not the colour alone
        circles = next((t for t in chart["traces"] if t["name"] == "Tension level"), None)
        sizes = set(circles["sizes"]) if circles else set()
        promised = {"tension": set(LEVEL_MARKER_SIZE.values()), "warning": set(BAND_MARKER_SIZE.values())}
        if metric == "tension" and not (len(sizes) > 1 and sizes <= promised["tension"]):
            alone.append(f"{where}: tension levels without circles sized by level: {sorted(sizes)}")
        if metric == "warning" and not sizes <= promised["warning"]:
            alone.append(f"{where}: rises without circles sized by band: {sorted(sizes)}")
    return off, alone


def drawn_charts(driver) -> list[dict]:
    """The page's charts once Plotly has finished drawing them (two readings alike)."""
    readings = [driver.execute_script(CHARTS)]
    for _ in range(40):
        time.sleep(0.25)
        readings.append(driver.execute_script(CHARTS))
        if readings[-1] == readings[-2]:
            break
    return readings[-1]


def _action_with_districts(db) -> int:
    with db.session() as s:
        return s.scalar(select(action_areas.c.action_id).order_by(action_areas.c.action_id).limit(1))


def test_charts_use_the_palette_and_never_colour_alone(dash_duo, demo):
    app, db, accounts = demo
    chair = accounts[Role.CHAIR.value]
    start_app(dash_duo, app)
    driver = dash_duo.driver
    driver.set_window_size(1280, 900)
    sign_in(dash_duo, chair.email, chair.password)
    paths = [
        # the map coloured each way (incidents per 100,000 has the same scale as incidents)
        "/", "/?metric=tension&layers=points", "/?metric=change", "/?metric=warning",
        "/trends?compare=year", "/summaries", "/since-last-meeting", "/actions",
        f"/actions/{_action_with_districts(db)}", "/briefing", "/statement",
    ]
    off, alone, charts = [], [], {}
    for path in paths:
        open_page(dash_duo, path)
        for chart in drawn_charts(driver):
            charts[f"{path} #{chart['id']}"] = len(chart["traces"])
            o, a = chart_problems(path, chart)
            off += o
            alone += a
    # The charts were found and drawn: the map (four ways), trends, the two summaries, an action's
    # outcome and the statement's map.
    assert len(charts) == 9 and all(charts.values()), charts
    assert off == [], "colours off the palette:\n" + "\n".join(off)
    assert alone == [], "information by colour alone:\n" + "\n".join(alone)


# --- 3. printing ---------------------------------------------------------------------------------

PRINTED = """
function shown(el) {
  if (!el || !el.isConnected) return false;
  var r = el.getBoundingClientRect();
  return r.width > 1 && r.height > 1 && el.checkVisibility({visibilityProperty: true});
}
function describe(el) {
  var text = (el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (text ? ' "' + text + '"' : '');
}
function rgba(c) { var m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
function luminance(c) {
  function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}
function contrast(a, b) { var x = luminance(a), y = luminance(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
function paper(el) {
  // Backgrounds print only where a page asks for exact colours; elsewhere the paper is white.
  for (var e = el; e && e.nodeType === 1; e = e.parentElement) {
    var cs = getComputedStyle(e), bg = rgba(cs.backgroundColor);
    if (bg.a > 0.5 && cs.printColorAdjust === 'exact') return bg;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
var main = document.querySelector('main'), out = {};
var root = document.documentElement;
out.width = [root.scrollWidth, window.innerWidth, root.clientWidth];
out.mainWidth = main ? main.getBoundingClientRect().width : 0;
// Controls, navigation, the skip link and dialogs mean nothing on paper.
out.controls = Array.prototype.filter.call(document.querySelectorAll(
  'nav, button, .btn, input:not([type=hidden]), select, textarea, summary, [role=button], [role=tab], ' +
  '.skip-link, dialog, .modebar'), shown).map(describe);
// Side by side columns: a sidebar.
out.sidebars = [];
(main ? main.querySelectorAll('.row') : []).forEach(function (row) {
  var cols = Array.prototype.filter.call(row.children, shown);
  cols.forEach(function (col) {
    if (col.getBoundingClientRect().width < row.getBoundingClientRect().width * 0.9) out.sidebars.push(describe(col));
  });
});
out.tables = Array.prototype.map.call(main ? main.querySelectorAll('table') : [], function (t) {
  return [t.id || describe(t), shown(t)];
});
// A link is plain words (the colour of the words around it, not underlined) or shows its address.
out.links = [];
(main ? main.querySelectorAll('a[href]') : []).forEach(function (a) {
  if (!shown(a)) return;
  var cs = getComputedStyle(a), around = getComputedStyle(a.parentElement);
  var plain = cs.color === around.color && cs.textDecorationLine.indexOf('underline') < 0;
  var address = getComputedStyle(a, '::after').content.indexOf(a.getAttribute('href')) >= 0;
  if (!plain && !address) out.links.push(describe(a) + ' (' + cs.color + ', ' + cs.textDecorationLine + ')');
});
// Ink: every visible word at least 4.5:1 against what it is printed on.
out.pale = [];
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  var node = walker.currentNode, el = node.parentElement;
  if (!/\\S/.test(node.textContent) || el.closest('svg, script, style') || !shown(el)) continue;
  if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
  var ink = getComputedStyle(el).color, ratio = contrast(rgba(ink), paper(el));
  if (ratio < 4.5) out.pale.push(describe(el) + ' ' + ink + ' ' + ratio.toFixed(2) + ':1');
}
out.background = getComputedStyle(document.body).backgroundColor;
return out;
"""

# The idle warning (assets/session.js) as it is when open, to see that printing leaves it out.
IDLE_DIALOG = """
var d = document.createElement('dialog');
d.id = 'idle-dialog'; d.className = 'idle-dialog'; d.setAttribute('role', 'alertdialog');
d.innerHTML = '<h2 class="h4">You are about to be signed out</h2><p>Stay signed in to carry on.</p>' +
  '<div class="idle-dialog-actions"><button type="button" class="btn btn-primary">Stay signed in</button></div>';
document.body.appendChild(d);
d.showModal();
"""


def pdf_pages(driver) -> list:
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
    return list(PdfReader(io.BytesIO(base64.b64decode(pdf["data"]))).pages)


def test_printing_the_briefing_pack_and_the_action_tracker(dash_duo, demo):
    app, db, accounts = demo
    chair = accounts[Role.CHAIR.value]
    start_app(dash_duo, app)
    driver = dash_duo.driver
    sign_in(dash_duo, chair.email, chair.password)
    action = _action_with_districts(db)
    problems = []
    for path, width in [("/briefing", A4_WIDTH), ("/briefing/pack", A4_WIDTH), ("/actions", TRACKER_WIDTH),
                        (f"/actions/{action}", A4_WIDTH)]:
        driver.set_window_size(width, 1123)
        open_page(dash_duo, path)
        if driver.find_elements(By.ID, "react-entry-point"):
            driver.execute_script(IDLE_DIALOG)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            page = driver.execute_script(PRINTED)
        finally:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        scroll, paper, client = page["width"]
        problems += [f"{path}: {what} is printed" for what in page["controls"]]
        problems += [f"{path}: {col} is a column beside another (a sidebar)" for col in page["sidebars"]]
        problems += [f"{path}: table {t} is not printed" for t, shown in page["tables"] if not shown]
        if page["links"]:
            problems.append(f"{path}: {len(page['links'])} links are neither plain words nor show their "
                            f"address, e.g. {'; '.join(page['links'][:3])}")
        problems += [f"{path}: {pale} is too pale on paper" for pale in page["pale"]]
        if scroll > paper:
            problems.append(f"{path}: {scroll} px wide, cut off at {paper} px")
        if page["mainWidth"] < client * 0.85:
            problems.append(f"{path}: the content is {page['mainWidth']:.0f} px wide of {client} px")
        if page["background"] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"):
            problems.append(f"{path}: printed on {page['background']}, not white")
        if path.startswith("/actions/"):  # the action's outcome table is printed, collapsed or not
            assert ["action-outcome-data-table", True] in page["tables"], page["tables"]
    assert problems == [], "printing:\n" + "\n".join(problems)

    # The pack and the tracker as PDFs: A4 pages, the tracker's in landscape (assets/actions.css).
    open_page(dash_duo, "/briefing/pack")
    pack = pdf_pages(driver)
    assert 3 <= len(pack) <= 20, len(pack)
    assert {(round(p.mediabox.width), round(p.mediabox.height)) for p in pack} == {A4_POINTS}
    open_page(dash_duo, "/actions")
    rows = len(driver.find_elements(By.CSS_SELECTOR, "#actions-tracker-table tbody tr"))
    tracker = pdf_pages(driver)
    assert rows > 20 and 2 <= len(tracker) <= rows // 4, (rows, len(tracker))
    assert {(round(p.mediabox.width), round(p.mediabox.height)) for p in tracker} == {A4_POINTS[::-1]}
