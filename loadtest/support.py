"""The load test's helpers that need no locust (so tests can import them without gevent)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str | None) -> bool:
    """True for an http(s) address whose host is a loopback address (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(host or "")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def layout_values(tree) -> dict[str, object]:
    """Every component property in a Dash layout (JSON), as {"id.property": value}."""
    found: dict[str, object] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props") if "type" in node and "namespace" in node else None
            if isinstance(props, dict):
                if isinstance(props.get("id"), str):
                    for name, value in props.items():
                        found[f"{props['id']}.{name}"] = value
                stack.extend(props.values())
            else:
                stack.extend(node.values())
    return found
