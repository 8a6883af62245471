"""The load test: partner members signing in and moving through the map, trends and register.

Run by `scripts/load-test` (which makes the demo database, the accounts and the server); by hand:

    LOADTEST_ACCOUNTS=accounts.txt locust -f loadtest/locustfile.py --host http://127.0.0.1:PORT \
        --headless --users 50 --spawn-rate 10 --run-time 2m

Each simulated user signs in through the real form (CSRF token from the page, session cookie),
loads the page and Dash's set-up (/_dash-layout, /_dash-dependencies), then, with 1-3 s of think
time between steps, opens the regional overview, trends and register pages through Dash's router
and sends the callback requests the browser sends (read from the app's own /_dash-dependencies,
with initial values from the page's layout and the X-CSRFToken header from the `_csrf_token`
cookie), and changes a filter or two on each. Requests are named by page and callback, so the
statistics group them. A non-2xx answer, a server error page or a Dash body that is not a callback
answer counts as a failure. Only loopback hosts are accepted: this is never run against a server
that others use.

Every simulated user comes from its own loopback address (127.0.0.2, 127.0.0.3, ...), as people
do from their own machines, so the per-address sign-in limit applies to each one as it would in use.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from support import is_loopback, layout_values

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REFUSALS = ("Your role does not give access to this page", "not found or not available to you")


@events.test_start.add_listener
def _refuse_other_hosts(environment, **_kwargs):
    if not is_loopback(environment.host):
        raise SystemExit(f"The load test runs against a loopback address only, not {environment.host!r}.")


def _accounts() -> list[tuple[str, str]]:
    path = os.environ.get("LOADTEST_ACCOUNTS", "")
    if not path:
        raise SystemExit("Set LOADTEST_ACCOUNTS to the file of 'email password' lines (made by loadtest/accounts.py).")
    with open(path, encoding="utf-8") as handle:
        return [tuple(line.split(" ", 1)) for line in handle.read().splitlines() if line.strip()]


_ACCOUNTS: list[tuple[str, str]] = []
_NEXT = itertools.count()


class _FromAddress(HTTPAdapter):
    """Connections from one given local (loopback) address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def _think_seconds() -> tuple[float, float]:
    """The pause between a person's steps, from LOAD_THINK_SECONDS ("1-3", seconds: the default)."""
    low, _, high = os.environ.get("LOAD_THINK_SECONDS", "1-3").partition("-")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise SystemExit(f"LOAD_THINK_SECONDS must be a range such as 1-3, not {os.environ['LOAD_THINK_SECONDS']!r}.") from None


class Member(HttpUser):
    """A partner member: signs in, then overview, trends and register, over and over."""

    wait_time = between(*_think_seconds())

    def on_start(self) -> None:
        global _ACCOUNTS
        if not is_loopback(self.host):
            raise SystemExit(f"The load test runs against a loopback address only, not {self.host!r}.")
        if not _ACCOUNTS:
            _ACCOUNTS = _accounts()
        n = next(_NEXT)
        self.email, self.password = _ACCOUNTS[n % len(_ACCOUNTS)]
        if urlsplit(self.host).hostname not in {"localhost", "::1"}:
            address = f"127.0.{(n + 2) // 254}.{(n + 2) % 254 or 254}"
            self.client.mount("http://", _FromAddress(address))
        self.dependencies: list[dict] = []
        self.values: dict[str, object] = {}
        self.sign_in()

    # --- the requests -------------------------------------------------------------------------

    def sign_in(self) -> None:
        self.client.cookies.clear()
        with self.client.get("/login", name="sign-in: form", catch_response=True) as page:
            token = CSRF_FIELD.search(page.text or "")
            if page.status_code != 200 or token is None:
                page.failure(f"no sign-in form (HTTP {page.status_code})")
                return
        with self.client.post("/login", name="sign-in: submit", allow_redirects=False, catch_response=True,
                              data={"email": self.email, "password": self.password,
                                    "csrf_token": token.group(1)}) as answer:
            if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
                answer.failure(f"not signed in (HTTP {answer.status_code})")
                return
        self._get("/", "page: / (HTML)")
        self._get("/_dash-layout", "dash: layout")
        deps = self._get("/_dash-dependencies", "dash: dependencies")
        self.dependencies = deps if isinstance(deps, list) else []

    def _get(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as answer:
            if not 200 <= answer.status_code < 300:
                answer.failure(f"HTTP {answer.status_code}")
                return None
            if "json" in answer.headers.get("Content-Type", ""):
                try:
                    return answer.json()
                except ValueError:
                    answer.failure("not JSON")
            return None

    def _spec(self, output: str) -> dict | None:
        """The callback whose first output is `output` ("id.property"; ending in "@", the one
        that shares that output with another callback)."""
        for spec in self.dependencies:
            first = spec["output"].strip(".").split("...")[0]
            if first == output or (output.endswith("@") and first.startswith(output)):
                return spec
        return None

    def callback(self, name: str, output: str, changed: str, values: dict[str, object] | None = None) -> dict:
        """Send one callback request as dash-renderer does; returns {"id.property": value} of the
        answer (and keeps it, as the browser's store of props would)."""
        spec = self._spec(output)
        if spec is None:
            if self.dependencies:  # (no dependencies at all: the sign-in already failed)
                events.request.fire(request_type="POST", name=name, response_time=0, response_length=0,
                                    exception=LookupError(f"no callback for {output}"), context={})
            return {}
        props = self.values | (values or {})
        key = spec["output"]
        outputs = [dict(zip(("id", "property"), part.split("@")[0].rsplit(".", 1), strict=True))
                   for part in key.strip(".").split("...")]

        def filled(items):
            return [{"id": i["id"], "property": i["property"], "value": props.get(f"{i['id']}.{i['property']}")}
                    for i in items]

        body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
                "inputs": filled(spec["inputs"]), "state": filled(spec.get("state", [])),
                "changedPropIds": [changed]}
        token = self.client.cookies.get("_csrf_token", "")
        with self.client.post("/_dash-update-component", name=name, json=body, catch_response=True,
                              headers={"X-CSRFToken": token}) as answer:
            if answer.status_code == 204:  # the callback chose not to update (PreventUpdate)
                return {}
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
                return {}
            try:
                response = answer.json()["response"]
            except (ValueError, KeyError, TypeError):
                answer.failure("not a Dash callback answer")
                return {}
            text = json.dumps(response)
            refused = next((r for r in REFUSALS if r in text), None)
            if refused:
                answer.failure(refused)
                return {}
        got = {f"{component}.{prop}": value for component, changes in response.items()
               for prop, value in changes.items()}
        self.values |= got
        return got

    def open_page(self, path: str, name: str) -> None:
        """Dash's router: the page's content for `path`, whose component values the page's
        callbacks then start from."""
        got = self.callback(f"page: {name} (router)", "_pages_content.children", "_pages_location.pathname",
                            {"_pages_location.pathname": path, "_pages_location.search": ""})
        self.values = layout_values(got.get("_pages_content.children"))

    # --- the walk -------------------------------------------------------------------------------

    @task
    def walk(self) -> None:
        if not self.dependencies:
            self.sign_in()
            return
        self.overview()
        self.wait()
        self.trends()
        self.wait()
        self.register()

    def overview(self) -> None:
        self.open_page("/", "overview")
        self._overview_refresh("overview-period.value")
        self.wait()
        change = random.choice([
            {"overview-period.value": "4w"}, {"overview-period.value": "quarter"},
            {"overview-metric.value": "rate"}, {"overview-metric.value": "tension"},
            {"overview-metric.value": "change"}, {"overview-geography.value": "force"},
            {"overview-layers.value": ["points"]},
        ])
        self.values |= change
        self._overview_refresh(next(iter(change)))
        self.wait()
        districts = [o["value"] for o in self.values.get("overview-area.options") or [] if isinstance(o, dict)]
        if districts:
            self.callback("overview: district drill-down", "overview-area-panel.children", "overview-area.value",
                          {"overview-area.value": random.choice(districts)})

    def _overview_refresh(self, changed: str) -> None:
        got = self.callback("overview: map, summary, headline", "overview-map.figure", changed)
        if "overview-query.data" in got:
            self.callback("overview: locations layer", "overview-map.figure@", "overview-query.data")
            self.callback("overview: drill-down (after filters)", "overview-area-panel.children",
                          "overview-query.data")

    def trends(self) -> None:
        self.open_page("/trends", "trends")
        self._trends_refresh("trends-period.value")
        self.wait()
        change = random.choice([
            {"trends-grain.value": "month"}, {"trends-split.value": "strand"},
            {"trends-compare.value": ["year"]}, {"trends-period.value": "quarter"},
            {"trends-measure.value": "rate"},
        ])
        self.values |= change
        self._trends_refresh(next(iter(change)))

    def _trends_refresh(self, changed: str) -> None:
        got = self.callback("trends: chart and summary", "trends-graph.figure", changed)
        if "trends-query.data" in got:
            self.callback("trends: early warning and events", "trends-warning.children", "trends-query.data")

    def register(self) -> None:
        self.open_page("/register", "register")
        self.callback("register: filters", "register-query.data", "register-period.value")
        first = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
        self.callback("register: rows (first block)", "register-grid.getRowsResponse",
                      "register-grid.getRowsRequest", {"register-grid.getRowsRequest": first})
        self.wait()
        if random.random() < 0.5:
            self.values["register-search.value"] = random.choice(["leaf", "sticker", "rally", "online"])
            self.callback("register: search", "register-query.data", "register-search.n_submit",
                          {"register-search.n_submit": 1})
            self.callback("register: rows (first block)", "register-grid.getRowsResponse",
                          "register-grid.getRowsRequest", {"register-grid.getRowsRequest": first})
        else:
            self.callback("register: rows (next block)", "register-grid.getRowsResponse",
                          "register-grid.getRowsRequest",
                          {"register-grid.getRowsRequest": first | {"startRow": 100, "endRow": 200}})
