"""The main journeys by keyboard alone, in headless Chromium, with visible focus at every stop.

A member of the partnership signs in on the sign-in page, uses the skip link, changes the
overview's filters (a preset with Space, another with the arrow keys, chosen dates typed in),
opens and closes the map's table, drills down to a district from the list beside the map, goes
to the trends page by the navigation, changes its period, opens its list of areas and ticks one,
goes to the incident register, logs an incident (the empty form first: the error summary takes
focus and its link leads to the field), opens the delete dialog (focus goes into it; Escape and
Cancel close it and give focus back to the Delete button; Tab goes round its own controls) and
deletes the incident with a reason, and exports the register's view as CSV after giving a reason.

After the page has loaded, the test only presses keys (selenium's ActionChains, sent to whatever
has focus): no clicks, no typing into an element found by selector, no focusing by script.
Elements are found by selector only to read them. At every element focus reaches (every Tab stop
on the way, not only the targets) it checks that the element, its label or the wrapper the CSS
styles with :focus-within shows a focus indicator (an outline at least 2px wide, or a box-shadow
ring at least 2px wide) with at least 3:1 contrast against the colours next to it, and that the
element is on screen (inside the viewport and any scrolling box around it). Every element that
fails is named at the end, grouped by the ring it showed. (Chromium's own calendar button inside
a date field is passed over: it draws that ring itself, out of the page's CSS's reach.)
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from flask import request
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.models import Incident
from tests.browser.helpers import start_app

pytestmark = pytest.mark.browser

WAIT = 30  # seconds: generous, since other tests may share the machine's two cores
MIN_RING_CONTRAST = 3.0  # WCAG 1.4.11: a focus indicator against the colours next to it
BIRMINGHAM = "E08000025"

# What has focus, how it is named, and whether it shows a focus indicator. The indicator is
# looked for on the element, on its <label>, and on any element a `:focus-within` rule matches
# around it (a custom control whose real input is hidden).
FOCUS_PROBE = r"""
var css = arguments[0];
var el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) {
  return {none: true, desc: 'the document (nothing focused)', id: '', tag: '', text: '', matches: false,
          href: '', native_picker: false, contrast: 0, ring: '', on_screen: true, in_modal: false,
          in_main: false};
}
function short(t) { return String(t || '').replace(/\s+/g, ' ').trim().slice(0, 60); }
function labelOf(e) {
  if (e.labels && e.labels.length) { return e.labels[0]; }
  return e.closest('label');
}
var label = labelOf(el);
var tag = el.tagName.toLowerCase();
var field = /^(input|select|textarea)$/.test(tag);
var text = short(el.getAttribute('aria-label') || (label && label.innerText) ||
                 (field ? el.value : el.innerText) || el.getAttribute('title') || el.value);
var desc = tag + (el.id ? '#' + el.id : (el.className && typeof el.className === 'string' ?
           '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.') : '')) + ' "' + text + '"';

function parse(c) {
  var m = /rgba?\(([^)]*)\)/.exec(c || '');
  if (!m) { return null; }
  var p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(fg, bg) {
  var a = fg[3];
  return [fg[0] * a + bg[0] * (1 - a), fg[1] * a + bg[1] * (1 - a), fg[2] * a + bg[2] * (1 - a), 1];
}
function lum(c) {
  var v = c.slice(0, 3).map(function (x) {
    x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function contrast(a, b) {
  var x = lum(a), y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
function behind(e) {  // the colour the page shows behind e (its ancestors' backgrounds)
  var layers = [];
  for (var p = e.parentElement; p; p = p.parentElement) {
    var c = parse(getComputedStyle(p).backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) { break; } }
  }
  var colour = [255, 255, 255, 1];
  for (var i = layers.length - 1; i >= 0; i--) { colour = over(layers[i], colour); }
  return colour;
}
// The best focus ring an element shows: [contrast, description], or null when it shows none.
function ring(e) {
  var s = getComputedStyle(e), bg = behind(e), best = null;
  function keep(score, what) { if (!best || score > best[0]) { best = [score, what]; } }
  var width = parseFloat(s.outlineWidth) || 0;
  if (s.outlineStyle === 'auto') {
    keep(0, "only the browser's default ring (outline-style: auto)");
  } else if (s.outlineStyle !== 'none' && width >= 2) {
    var oc = parse(s.outlineColor);
    if (oc && oc[3] > 0) {
      var next = [bg];  // an outline touches the element's border and the page behind it
      var bc = parse(s.borderTopColor);
      if ((parseFloat(s.borderTopWidth) || 0) >= 1 && bc && bc[3] > 0) { next.push(over(bc, bg)); }
      var shown = over(oc, bg);
      keep(Math.max.apply(null, next.map(function (n) { return contrast(shown, n); })),
           'outline ' + width + 'px ' + s.outlineColor);
    }
  }
  var shadow = /(rgba?\([^)]*\))\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px(\s+inset)?/g, m;
  while ((m = shadow.exec(s.boxShadow || '')) !== null) {
    var spread = parseFloat(m[5]);
    if (spread < 2) { continue; }
    var sc = parse(m[1]);
    if (!sc || sc[3] === 0) { continue; }
    var base = bg;
    if (m[6]) { var own = parse(s.backgroundColor); if (own && own[3] > 0) { base = over(own, bg); } }
    keep(contrast(over(sc, base), base), 'box-shadow ' + spread + 'px ' + m[1] + (m[6] ? ' inset' : ''));
  }
  return best;
}
var candidates = [[el, 'itself']];
if (label && label !== el) { candidates.push([label, 'its label']); }
if (!window.__kbdFocusWithin) {  // the selectors of the page's :focus-within rules
  var found = [];
  Array.prototype.forEach.call(document.styleSheets, function (sheet) {
    var rules;
    try { rules = sheet.cssRules; } catch (err) { return; }
    (function walk(list) {
      Array.prototype.forEach.call(list || [], function (rule) {
        if (rule.cssRules && !rule.selectorText) { walk(rule.cssRules); return; }
        (rule.selectorText || '').split(',').forEach(function (sel) {
          if (sel.indexOf(':focus-within') >= 0) { found.push(sel.trim()); }
        });
      });
    })(rules);
  });
  window.__kbdFocusWithin = found;
}
window.__kbdFocusWithin.forEach(function (sel) {
  var styled;
  try { styled = document.querySelectorAll(sel); } catch (err) { return; }
  Array.prototype.forEach.call(styled, function (c) {
    for (var up = c, n = 0; up && n < 4; up = up.parentElement, n++) {
      if (up.contains(el)) { candidates.push([c, 'a :focus-within wrapper']); return; }
    }
  });
});
var best = null;
candidates.forEach(function (pair) {
  var r = ring(pair[0]);
  if (r && (!best || r[0] > best[0])) { best = [r[0], r[1] + ' on ' + pair[1]]; }
});

// On screen: inside the viewport and inside every scrolling box around it.
var box = el.getBoundingClientRect();
if ((box.width <= 1 || box.height <= 1) && label) { box = label.getBoundingClientRect(); }
var l = box.left, t = box.top, r = box.right, b = box.bottom;
for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
  var ps = getComputedStyle(p);
  if (/(auto|scroll|hidden|clip)/.test(ps.overflowX + ' ' + ps.overflowY)) {
    var pr = p.getBoundingClientRect();
    l = Math.max(l, pr.left); t = Math.max(t, pr.top); r = Math.min(r, pr.right); b = Math.min(b, pr.bottom);
  }
}
l = Math.max(l, 0); t = Math.max(t, 0);
r = Math.min(r, window.innerWidth); b = Math.min(b, window.innerHeight);
var dateParts = /^(date|time|datetime-local|month|week)$/.test(el.type || '');
return {
  none: false, desc: desc, id: el.id || '', tag: tag, text: text,
  matches: css ? el.matches(css) : false,
  href: el.getAttribute('href') || '',
  // Chromium's own calendar button inside a date field: it has focus, the field does not match
  // :focus, and Chromium draws the ring itself where the page's CSS cannot reach.
  native_picker: dateParts && !el.matches(':focus'),
  contrast: best ? best[0] : 0,
  ring: best ? best[1] : 'no outline or box-shadow ring',
  on_screen: r - l > 0 && b - t > 0,
  in_modal: !!el.closest('.modal'),
  in_main: !!el.closest('main')
};
"""


class Keyboard:
    """Presses keys into whatever has focus, and checks the focus indicator at every stop."""

    def __init__(self, driver):
        self.driver = driver
        self.problems: dict[str, str] = {}  # element -> what is wrong with its focus
        self.stops = 0
        self.trail: list[str] = []

    def press(self, *keys: str) -> None:
        ActionChains(self.driver).send_keys(*keys).perform()

    def type(self, text: str) -> None:
        self.press(text)

    def shift_tab(self) -> None:
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
            Keys.SHIFT
        ).perform()

    def focused(self, css: str | None = None) -> dict:
        return self.driver.execute_script(FOCUS_PROBE, css)

    def check(self, info: dict) -> dict:
        """Record it if the focused element shows no strong enough focus indicator or is off screen."""
        if info["none"] or info["native_picker"]:
            return info
        self.stops += 1
        element = f"{info['tag']}#{info['id']}" if info["id"] else info["desc"]
        if info["contrast"] < MIN_RING_CONTRAST:
            contrast = f" ({info['contrast']:.2f}:1)" if info["contrast"] else ""
            self.problems.setdefault(element, info["ring"] + contrast)
        if not info["on_screen"]:
            self.problems.setdefault(element, "off screen or hidden when focused")
        return info

    def report(self) -> str:
        """The problems found, grouped by what each element showed."""
        grouped: dict[str, list[str]] = {}
        for element, problem in self.problems.items():
            grouped.setdefault(problem, []).append(element)
        return (
            f"{len(self.problems)} of the elements keyboard focus reached show no focus indicator at "
            f"least 2px wide with {MIN_RING_CONTRAST}:1 contrast, or are off screen:\n"
            + "\n".join(
                f"- {problem}: {len(els)} elements: {', '.join(els)}"
                for problem, els in sorted(grouped.items(), key=lambda item: -len(item[1]))
            )
        )

    def _step(self, backwards: bool, css: str | None = None) -> dict:
        """One Tab (or Shift+Tab), then what has focus, checked."""
        if backwards:
            self.shift_tab()
        else:
            self.press(Keys.TAB)
        info = self.check(self.focused(css))
        self.trail = [*self.trail[-7:], info["desc"]]
        return info

    def tab(self, backwards: bool = False) -> dict:
        return self._step(backwards)

    def tab_to(self, target, limit: int = 150, backwards: bool = False) -> dict:
        """Press Tab (Shift+Tab) until the focused element matches `target`: a CSS selector or a
        predicate on the probe's answer. Presses nothing when focus is there already."""
        css = target if isinstance(target, str) else None

        def reached(info: dict) -> bool:
            return info["matches"] if css else target(info)

        info = self.focused(css)
        if reached(info):
            return self.check(info)
        for _ in range(limit):
            info = self._step(backwards, css)
            if reached(info):
                return info
        raise AssertionError(
            f"{'Shift+' if backwards else ''}Tab did not reach {target!r} in {limit} presses; "
            "the last elements focused were:\n  " + "\n  ".join(self.trail)
        )

    def expect(self, css: str, what: str) -> dict:
        """Check that the focused element matches `css` (and check its focus indicator)."""
        info = self.check(self.focused(css))
        assert info["matches"], f"expected focus on {what} ({css}), but it is on {info['desc']}"
        return info


def wait(driver, condition, message: str, timeout: float = WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d), message)


def settled(dash_duo) -> None:
    """Wait until the Dash renderer is up and the page's callbacks have all answered."""
    WebDriverWait(dash_duo.driver, WAIT, poll_frequency=0.2).until(
        lambda d: d.execute_script("return !!window.store") and dash_duo._wait_for_callbacks()
    )


# Reading the page (never changing it): by script, so that Dash re-drawing an element between
# finding it and reading it does not matter.
def read(driver, css: str, what: str = "innerText"):
    """A property of the first element matching `css` (None when there is none)."""
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e[arguments[1]] : null;",
        css,
        what,
    )


def text_of(driver, css: str) -> str:
    return (read(driver, css) or "").strip()


def attr(driver, css: str, name: str) -> str | None:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
        css,
        name,
    )


def shown(driver, css: str) -> bool:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]);"
        "return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';",
        css,
    )


def checked(driver, css: str) -> bool:
    return bool(read(driver, css, "checked"))


def toggle_table(kb, driver, button: str, table: str, what: str, hidden: str | None = None) -> None:
    """With focus on a "Show as table" button: Enter shows the table (aria-expanded "true"), focus
    stays on the button, and Enter again hides it."""
    kb.press(Keys.ENTER)
    wait(driver, lambda d: attr(d, button, "aria-expanded") == "true", f"Enter did not open {what}")
    wait(driver, lambda d: shown(d, table), f"{what} is not shown")
    kb.expect(button, f"the table button, after opening {what}")
    kb.press(Keys.ENTER)
    wait(driver, lambda d: attr(d, button, "aria-expanded") == "false", f"Enter did not close {what}")
    wait(driver, lambda d: not shown(d, hidden or table), f"{what} still shows")


def choose_by_arrows(kb, driver, css: str, key, most: int = 5) -> None:
    """From a radio of a group, press the arrow key until the radio `css` is chosen (and focused)."""
    for _ in range(most):
        if checked(driver, css):
            break
        kb.press(key)
        wait(driver, lambda d: d.execute_script("return document.activeElement.checked"),
             "the arrow key did not choose the radio it moved to")
    wait(driver, lambda d: checked(d, css), f"the arrow keys did not reach {css}")
    kb.expect(css, css)


def chosen_option(driver, css: str) -> tuple[str, str]:
    """The (value, text) of a <select>'s chosen option."""
    value, text = driver.execute_script(
        "var s = document.querySelector(arguments[0]), o = s.options[s.selectedIndex];"
        "return [o ? o.value : '', o ? o.text : ''];",
        css,
    )
    return value, text


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement ? document.activeElement.id : ''")


def type_date(kb: Keyboard, driver, field_id: str, day: date) -> None:
    """Type a date into the date field that has focus (on its first part), its parts in the order
    Chromium shows them for the browser's language. Should a busy machine make the field drop a
    key (it waits only a second for a part's second digit), go back into it and type it again."""
    css = f"#{field_id}"
    month_first = driver.execute_script(
        "return new Intl.DateTimeFormat().formatToParts(new Date(2000, 10, 22))[0].type === 'month';"
    )
    digits = f"{day:%m%d%Y}" if month_first else f"{day:%d%m%Y}"
    for _attempt in range(3):
        kb.type(digits)
        if read(driver, css, "value") == day.isoformat():
            return
        time.sleep(1.5)
        while kb.focused(css)["matches"]:  # back out of the field, then into its first part
            kb.shift_tab()
        kb.tab()
    raise AssertionError(f"typing {digits} into {css} gave {read(driver, css, 'value')!r}")


def choose_in_select(kb: Keyboard, driver, select_id: str, label: str) -> str:
    """Choose an option of the focused (closed) <select> by typing the start of its label (as
    few letters as tell it from the others); type again if the browser's type-ahead lost track."""
    others = driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).options).map(o => o.text);",
        select_id,
    )
    others = [o.lower() for o in others if o != label]
    size = 3
    while size < len(label) and any(o.startswith(label[:size].lower()) for o in others):
        size += 1
    for _attempt in range(3):
        kb.type(label[:size])
        value, text = chosen_option(driver, f"#{select_id}")
        if text == label:
            return value
        time.sleep(1.5)  # a slow machine let the type-ahead forget the first letters: start again
    raise AssertionError(f"typing {label[:size]!r} into #{select_id} chose {text!r}, not {label!r}")


# Whether Dash's address bar (the pages router's dcc.Location) has caught up with the browser's
# fragment (#main after the skip link), so that any callback that sets off is already pending.
LOCATION_CAUGHT_UP = """
var s = window.store && window.store.getState();
var path = s && s.paths && s.paths.strs && s.paths.strs['_pages_location'];
if (!path) { return true; }
var node = path.reduce(function (o, k) { return o && o[k]; }, s.layout);
return ((node && node.props && node.props.hash) || '') === window.location.hash;
"""


def follow_nav_link(kb: Keyboard, dash_duo, href: str, heading: str, content: str) -> None:
    """Tab to the navigation's link to `href` and press Enter: the page titled `heading` opens,
    its `content` is drawn, and focus moves to its heading (so a screen reader hears that the page
    changed, and the next Tab goes on from the top of its content)."""
    driver = dash_duo.driver
    kb.tab_to(f"#shell-nav a[href='{href}']")
    kb.press(Keys.ENTER)
    wait(driver, lambda d: text_of(d, "h1") == heading, f"Enter on the link to {href} did not open {heading}")
    settled(dash_duo)
    wait(driver, lambda d: text_of(d, content), f"{content} on {heading} never appeared")
    wait(driver, lambda d: d.execute_script("return document.activeElement.matches('main h1')"),
         f"focus did not move to the heading of {heading}")
    kb.expect("main h1", f"the heading of {heading}")


def count_page_draws(app) -> list[str]:
    """Note each request for a page's content (the Dash pages router's callback), i.e. each time
    the page in <main> is drawn anew from the server."""
    draws: list[str] = []

    @app.server.before_request
    def _note_page_draw():
        if request.path == "/_dash-update-component" and b"_pages_content" in request.get_data(
            cache=True
        ):
            draws.append(request.headers.get("Referer", ""))

    return draws


def test_kbd001_main_journeys_by_keyboard_alone(dash_duo, demo, tmp_path):
    app, db, accounts = demo
    member = accounts["member"]
    page_draws = count_page_draws(app)
    start_app(dash_duo, app)
    driver = dash_duo.driver
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    kb = Keyboard(driver)
    journey_problems: list[str] = []  # what does not work as it should, though the walk goes on

    # 1. Sign in: the e-mail field (focused on arrival), Tab to the password, Enter.
    driver.get(dash_duo.server.url + "/login")
    wait(driver, lambda d: read(d, "#email") is not None, "the sign-in page did not load")
    if active_id(driver) != "email":
        kb.tab_to("#email", limit=20)
    kb.expect("#email", "the e-mail field")
    kb.type(member.email)
    kb.tab()
    kb.expect("#password", "the password field")
    kb.type(member.password)
    kb.press(Keys.ENTER)
    wait(driver, lambda d: text_of(d, "#shell-user-name"), "signing in by keyboard failed")
    assert urlparse(driver.current_url).path == "/"
    settled(dash_duo)
    wait(driver, lambda d: text_of(d, "#overview-summary"), "the overview's summary never appeared")

    # 2. The skip link: hidden until the first Tab focuses it; Enter moves focus to <main>.
    def skip_width(d) -> float:
        return d.execute_script(
            "return document.querySelector('a.skip-link').getBoundingClientRect().width"
        )

    assert skip_width(driver) <= 1, "the skip link shows before it has focus"
    info = kb.tab()
    if info["none"]:  # the browser's own window had focus: the first Tab only enters the page
        info = kb.tab()
    assert info["text"] == "Skip to main content" and info["href"] == "#main", info["desc"]
    wait(driver, lambda d: skip_width(d) > 100, "the focused skip link is not shown", timeout=5)
    draws = len(page_draws)
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: active_id(d) == "main",
        "Enter on the skip link did not move focus to <main>",
    )
    wait(
        driver, lambda d: d.execute_script(LOCATION_CAUGHT_UP), "Dash never saw the #main fragment"
    )
    settled(dash_duo)
    if len(page_draws) > draws:
        journey_problems.append(
            "Enter on the skip link (a.skip-link, href #main) drew the overview anew from the server: "
            "the fragment navigation fires popstate, the pages router's dcc.Location then sees the "
            "query the page had put in the address bar with history.replaceState, and asks for the "
            "page again (whatever a keyboard user did meanwhile is lost)"
        )
    assert active_id(driver) == "main", "focus left <main> after the skip link"
    info = kb.tab()
    assert info["in_main"], f"the Tab after the skip link went to {info['desc']}, outside <main>"

    # 3. The overview's filters: a period preset with Space, the next with an arrow key, then a
    #    start date typed in; each time the figures change.
    def overview_changed(before_summary: str, before_start: str):
        def changed(d) -> bool:
            return (
                text_of(d, "#overview-summary") not in ("", before_summary)
                and read(d, "#overview-start", "value") != before_start
            )

        return changed

    summary, start = text_of(driver, "#overview-summary"), read(driver, "#overview-start", "value")
    # A group of radios is one Tab stop: Tab lands on the chosen one, the arrow keys choose another.
    kb.tab_to("#overview-period input:checked", limit=10)
    kb.expect("#overview-period input[value='12m']", "the chosen period (Last 12 months)")
    choose_by_arrows(kb, driver, "#overview-period input[value='4w']", Keys.ARROW_UP)
    wait(
        driver,
        overview_changed(summary, start),
        "the overview's figures did not change for Last 4 weeks",
    )
    settled(dash_duo)
    summary, start = text_of(driver, "#overview-summary"), read(driver, "#overview-start", "value")
    kb.press(Keys.ARROW_DOWN)
    wait(
        driver,
        lambda d: checked(d, "#overview-period input[value='quarter']"),
        "the down arrow did not move the period to Last quarter",
    )
    kb.expect("#overview-period input[value='quarter']", "the Last quarter radio")
    wait(
        driver,
        overview_changed(summary, start),
        "the overview's figures did not change for Last quarter",
    )
    settled(dash_duo)
    summary = text_of(driver, "#overview-summary")
    kb.tab_to("#overview-start", limit=10)
    chosen_start = date.today() - timedelta(days=200)
    type_date(kb, driver, "overview-start", chosen_start)
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: checked(d, "#overview-period input[value='custom']"),
        "typing a start date did not switch the period to Chosen dates",
    )
    wait(
        driver,
        lambda d: text_of(d, "#overview-summary") not in ("", summary),
        "the overview's figures did not change for the chosen dates",
    )
    wait(
        driver,
        lambda d: f"from={chosen_start.isoformat()}" in d.current_url,
        "the address bar does not hold the chosen start date",
    )
    settled(dash_duo)

    # 4. The map's table: Enter shows it (aria-expanded true), Enter again hides it.
    kb.tab_to("#overview-table-toggle")
    assert attr(driver, "#overview-table-toggle", "aria-expanded") == "false"
    toggle_table(kb, driver, "#overview-table-toggle", "#overview-area-table", "the map's table",
                 hidden="#overview-table-collapse")
    assert "Birmingham" in text_of(driver, "#overview-area-table")

    # 5. Drill down without the map: choose a district from the list beside it by typing its
    #    name, then the next one with the down arrow; the panel shows each district's figures.
    kb.tab_to("#overview-area", limit=5)
    assert choose_in_select(kb, driver, "overview-area", "Birmingham") == BIRMINGHAM
    wait(
        driver,
        lambda d: text_of(d, "#overview-area-name") == "Birmingham",
        "choosing Birmingham from the list did not show its detail",
    )
    panel = text_of(driver, "#overview-area-panel")
    assert (
        "Population" in panel and "West Midlands Police" in panel and "Tension assessments" in panel
    )
    wait(
        driver,
        lambda d: f"area={BIRMINGHAM}" in d.current_url,
        "the address bar does not hold the district",
    )
    kb.press(Keys.ARROW_DOWN)
    _code, next_name = chosen_option(driver, "#overview-area")
    assert next_name != "Birmingham"
    wait(
        driver,
        lambda d: text_of(d, "#overview-area-name") == next_name,
        f"the down arrow in the list did not show {next_name}'s detail",
    )
    kb.expect("#overview-area", "the district list, after choosing")
    settled(dash_duo)

    # 6. To the trends page by the navigation: Tab on (past the footer, round to the top), Enter.
    follow_nav_link(kb, dash_duo, "/trends", "Trends", "#trends-summary")
    assert "Trends" in driver.title

    # 7. The trends filters: a preset with Space; the areas' <details> opened with Enter and an
    #    area ticked with Space; the chart's table shown and hidden.
    summary = text_of(driver, "#trends-summary")
    kb.tab_to("#trends-period input:checked")
    choose_by_arrows(kb, driver, "#trends-period input[value='quarter']", Keys.ARROW_UP)
    wait(
        driver,
        lambda d: text_of(d, "#trends-summary") not in ("", summary),
        "the trends summary did not change for Last quarter",
    )
    settled(dash_duo)
    summary = text_of(driver, "#trends-summary")
    assert not read(driver, "#trends-areas-section", "open")
    kb.tab_to("#trends-areas-section > summary")
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: read(d, "#trends-areas-section", "open"),
        "Enter did not open the list of areas",
    )
    kb.tab()
    first_area = "#trends-areas input[type=checkbox]"  # (the first in the page, the first reached)
    kb.expect(first_area, "the first area's box")
    kb.press(Keys.SPACE)
    wait(driver, lambda d: checked(d, first_area), "Space did not tick the area")
    wait(
        driver,
        lambda d: "areas=" in d.current_url and text_of(d, "#trends-summary") not in ("", summary),
        "the trends chart did not change for the ticked area",
    )
    settled(dash_duo)
    kb.tab_to("#trends-table-toggle")
    toggle_table(kb, driver, "#trends-table-toggle", "#trends-table table", "the trends table")

    # 8. The incident register by the navigation, then "Log an incident".
    follow_nav_link(kb, dash_duo, "/register", "Incident register", "#register-status")
    kb.tab_to("#register-new-incident", limit=30)
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: text_of(d, "#incident-form-heading") == "Log an incident",
        "Enter on Log an incident did not open the form",
    )
    settled(dash_duo)

    # 9. The form: Save while empty puts focus on the error summary; its first link takes focus
    #    to the title field; fill in what is needed by keyboard, Save, and the record shows.
    kb.tab_to("#incident-form-save")
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: active_id(d) == "incident-form-errors",
        "the error summary did not take focus",
    )
    assert "error-summary" in attr(driver, "#incident-form-errors", "class")
    assert attr(driver, "#incident-form-errors", "role") == "alert"
    assert "There is a problem" in text_of(driver, "#incident-form-errors")
    kb.expect("#incident-form-errors", "the error summary")
    kb.tab()
    kb.expect(
        "#incident-form-errors a[href='#incident-form-title']",
        "the summary's first link (the title)",
    )
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: active_id(d) == "incident-form-title",
        "the error link did not move focus to the title",
    )
    title = "Stickers on the station underpass, logged by keyboard"
    kb.type(title)
    kb.tab()
    kb.expect("#incident-form-occurred-on", "the date field")
    type_date(kb, driver, "incident-form-occurred-on", date.today() - timedelta(days=3))
    kb.tab_to("#incident-form-area", limit=8)
    choose_in_select(kb, driver, "incident-form-area", "Birmingham")
    kb.tab()
    kb.expect("#incident-form-category", "the category list")
    category = driver.execute_script(
        "return Array.from(document.querySelectorAll('#incident-form-category option'))"
        ".filter(function (o) { return o.value; })[0].text;"
    )
    choose_in_select(kb, driver, "incident-form-category", category)
    kb.tab_to("#incident-form-severity-0", limit=30)
    kb.press(Keys.SPACE)
    wait(
        driver, lambda d: checked(d, "#incident-form-severity-0"), "Space did not choose severity 1"
    )
    kb.press(Keys.ARROW_DOWN)
    wait(
        driver,
        lambda d: checked(d, "#incident-form-severity-1"),
        "the down arrow did not choose severity 2",
    )
    kb.tab_to("#incident-form-save", limit=30)
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: re.search(r"/incidents/\d+$", urlparse(d.current_url).path),
        "saving the filled-in form did not open the record",
    )
    wait(
        driver,
        lambda d: text_of(d, "#incident-title") == title,
        "the saved record does not show its title",
    )
    record = text_of(driver, "#incident-summary")
    assert "Birmingham" in record and category in record and "2 - " in record
    assert "TLP:GREEN" in text_of(driver, "#incident-marking")
    incident_id = int(urlparse(driver.current_url).path.rsplit("/", 1)[1])
    settled(dash_duo)

    # 10. The delete dialog: Enter opens it with focus inside; Escape closes it and focus goes back
    #     to Delete; again, and Tab stays inside; Cancel closes it (focus back to Delete); a third
    #     time, give a reason and confirm.
    def dialog_open(d) -> bool:
        return shown(d, "#incident-delete-reason")

    def in_dialog(d) -> bool:
        return d.execute_script(
            "return !!(document.activeElement && document.activeElement.closest('.modal'))"
        )

    def open_dialog(when: str) -> None:
        kb.press(Keys.ENTER)
        wait(driver, dialog_open, f"Enter on Delete did not open the dialog {when}")
        wait(driver, in_dialog, f"focus did not move into the delete dialog {when}")

    def closed_back_on_delete(how: str) -> None:
        wait(driver, lambda d: not dialog_open(d), f"{how} did not close the delete dialog")
        wait(driver, lambda d: active_id(d) == "incident-delete", f"after {how}, focus did not return to Delete")
        kb.expect("#incident-delete", f"the Delete button, after {how}")

    kb.tab_to("#incident-delete", limit=40)
    open_dialog("the first time")
    kb.press(Keys.ESCAPE)
    closed_back_on_delete("Escape")

    open_dialog("the second time")
    kb.tab_to("#incident-delete-cancel", limit=8)
    # Tab goes round the dialog's own controls: from the last (Cancel) straight to the first (the
    # close button), and Shift+Tab from there back to Cancel; focus never leaves the dialog.
    first = kb.tab()
    assert first["in_modal"] and first["desc"].startswith("button"), (
        f"Tab from the dialog's last control went to {first['desc']}, not its first control"
    )
    kb.tab(backwards=True)
    kb.expect("#incident-delete-cancel", "Cancel, after Shift+Tab from the dialog's first control")
    kb.press(Keys.ENTER)
    closed_back_on_delete("Cancel")

    open_dialog("the third time")
    kb.tab_to("#incident-delete-reason", limit=8)
    kb.type("Logged only to test the keyboard journey")
    kb.tab()
    kb.expect("#incident-delete-confirm", "the confirm button")
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: d.current_url.endswith(f"/register?deleted={incident_id}"),
        "confirming the delete did not go back to the register",
    )
    with db.session() as s:
        assert s.get(Incident, incident_id).deleted_at is not None
    wait(driver, lambda d: text_of(d, "#register-status"), "the register's count never appeared")
    settled(dash_duo)

    # 11. Export the register's view: the export form is below the grid (whose cells each take a
    #     Tab), so go round the other way with Shift+Tab; give a reason, Tab to Export, Enter,
    #     and the CSV arrives with its handling line and column headings.
    kb.tab_to("#register-export-reason", backwards=True)
    kb.type("Checking the export works by keyboard")
    kb.tab()
    kb.expect("#register-export-button", "the Export button")
    kb.press(Keys.ENTER)
    wait(
        driver,
        lambda d: "Exported" in text_of(d, "#register-export-status"),
        "the export did not finish",
    )

    def arrived(_d) -> Path | None:
        files = [p for p in downloads.iterdir() if p.suffix == ".csv" and p.stat().st_size > 0]
        return files[0] if files else None

    content = wait(driver, arrived, "the exported CSV did not arrive").read_text(
        encoding="utf-8-sig"
    )
    lines = list(csv.reader(io.StringIO(content)))
    assert lines[0][0].startswith("TLP:") and "most restrictive marking" in lines[0][0]
    assert lines[1][:4] == ["Ref", "Date", "Date precision", "District"]
    assert len(lines) > 3
    assert title not in content  # the deleted incident is left out

    assert dash_duo.get_logs() == []
    assert kb.stops > 100  # (the walk did pass many elements)
    problems = [*journey_problems, *([kb.report()] if kb.problems else [])]
    assert not problems, "\n\n".join(problems)
