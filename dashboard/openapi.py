"""The OpenAPI 3.0.3 description of the read-only API, generated from the code and the database.

The parameters' allowed values come from the same vocabulary the API checks requests against
(district and category codes, the quarters), so that every request the description allows is
answered with 200, and every request it does not allow with 400. The response schema is the
shape of `summaries.to_dict`.
"""

from __future__ import annotations

from typing import Any

from . import summaries
from .disclosure import CONCEALED, SUPPRESSED

API_VERSION = "1.0.0"
SUMMARY_PATH = "/api/v1/summary"
OPENAPI_PATH = "/api/v1/openapi.json"
MARKING_HEADER = "X-Handling-Marking"
# The earliest quarter the API accepts as `to`; the latest is the last complete quarter.
FIRST_QUARTER = summaries.Quarter(2000, 1)
TABLE_KEYS = ("by_area", "by_quarter", "tension")


def quarter_codes(latest: summaries.Quarter) -> list[str]:
    """The quarters `to` may be, newest first: the latest complete one back to 2000Q1."""
    codes, quarter = [], latest
    while quarter >= FIRST_QUARTER:
        codes.append(quarter.code)
        quarter = quarter.minus(1)
    return codes


def _cell() -> dict:
    """A published figure: 0 or a multiple of 5, or "<5" (1 to 4), or "[c]" (concealed)."""
    return {
        "oneOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "enum": [SUPPRESSED, CONCEALED]},
        ],
        "description": f'0, a count rounded to the nearest 5, "{SUPPRESSED}" (1 to 4) or "{CONCEALED}" '
        "(concealed so that totals cannot reveal a small count)",
    }


def _nullable_cell() -> dict:
    return {"nullable": True, **_cell()}


def _code_label() -> dict:
    return {
        "type": "object",
        "required": ["code", "label"],
        "additionalProperties": False,
        "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
    }


def _strings() -> dict:
    return {"type": "array", "items": {"type": "string"}}


def _error_schema() -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["field", "message"],
                "additionalProperties": False,
                "properties": {
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "The parameter (or header) that is wrong, or null",
                    },
                    "message": {"type": "string", "description": "What is wrong, in words"},
                },
            }
        },
    }


def _table_schema() -> dict:
    return {
        "type": "object",
        "required": ["key", "title", "description", "note", "summary", "row_heading", "columns", "rows",
                     "totals"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string", "enum": list(TABLE_KEYS)},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "note": {"type": "string"},
            "summary": {"type": "string", "description": "One sentence from the published figures"},
            "row_heading": {"type": "string"},
            "columns": {"type": "array", "items": _code_label()},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "label", "values", "total"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        "values": {"type": "array", "items": _cell()},
                        "total": _nullable_cell(),
                    },
                },
            },
            "totals": {
                "type": "object",
                "required": ["values", "total"],
                "additionalProperties": False,
                "properties": {
                    "values": {"type": "array", "items": _cell(), "nullable": True},
                    "total": _nullable_cell(),
                },
            },
        },
    }


def _summary_schema() -> dict:
    quarter = {"type": "string", "pattern": r"^[0-9]{4}Q[1-4]$"}
    return {
        "type": "object",
        "required": ["title", "marking", "generated_at", "period", "filters", "markings_counted", "rules",
                     "tables"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string"},
            "marking": {"type": "string", "enum": ["TLP:GREEN"],
                        "description": "The handling marking of the summary"},
            "generated_at": {"type": "string", "format": "date-time"},
            "period": {
                "type": "object",
                "required": ["from", "to", "start", "end"],
                "additionalProperties": False,
                "properties": {
                    "from": quarter,
                    "to": quarter,
                    "start": {"type": "string", "format": "date"},
                    "end": {"type": "string", "format": "date"},
                },
            },
            "filters": {
                "type": "object",
                "required": ["geography", "breakdown", "areas", "categories"],
                "additionalProperties": False,
                "properties": {
                    "geography": {"type": "string", "enum": [g.value for g in summaries.Geography]},
                    "breakdown": {"type": "string", "enum": [b.value for b in summaries.Breakdown]},
                    "areas": _strings(),
                    "categories": _strings(),
                },
            },
            "markings_counted": {
                "type": "array",
                "items": {"type": "string", "enum": ["TLP:CLEAR", "TLP:GREEN"]},
            },
            "rules": _strings(),
            "tables": {"type": "array", "minItems": len(TABLE_KEYS), "maxItems": len(TABLE_KEYS),
                       "items": {"$ref": "#/components/schemas/SummaryTable"}},
        },
    }


def _enum_array(codes: list[str], what: str) -> dict:
    items: dict[str, Any] = {"type": "string"}
    if codes:
        items["enum"] = codes
    schema: dict[str, Any] = {"type": "array", "items": items}
    if not codes:
        schema["maxItems"] = 0  # nothing to choose from yet
    schema["description"] = what
    return schema


def _parameters(vocabulary: summaries.SummaryChoices, latest: summaries.Quarter) -> list[dict]:
    geographies = ", ".join(f"`{g.value}`" for g in summaries.Geography)
    breakdowns = ", ".join(f"`{b.value}`" for b in summaries.Breakdown)
    return [
        {
            "name": "to",
            "in": "query",
            "required": False,
            "description": "The last quarter of the period, written like 2026Q3: a quarter that has ended, "
            f"from {FIRST_QUARTER.code} to the latest complete quarter (now {latest.code}, the default).",
            "schema": {"type": "string", "enum": quarter_codes(latest), "default": latest.code},
        },
        {
            "name": "quarters",
            "in": "query",
            "required": False,
            "description": f"How many quarters the period covers, ending with `to` (1 to {summaries.MAX_QUARTERS}; "
            f"default {summaries.DEFAULT_QUARTERS}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": summaries.MAX_QUARTERS,
                       "default": summaries.DEFAULT_QUARTERS},
        },
        {
            "name": "geography",
            "in": "query",
            "required": False,
            "description": f"The level of the areas in the by-area table: {geographies} (default `district`).",
            "schema": {"type": "string", "enum": [g.value for g in summaries.Geography],
                       "default": summaries.Geography.DISTRICT.value},
        },
        {
            "name": "breakdown",
            "in": "query",
            "required": False,
            "description": f"What the columns of the incident tables are: {breakdowns} "
            "(default `category`).",
            "schema": {"type": "string", "enum": [b.value for b in summaries.Breakdown],
                       "default": summaries.Breakdown.CATEGORY.value},
        },
        {
            "name": "area",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": "Limit to these districts, by GSS code; repeat the parameter for more than one "
            "(area=E07000032&area=E08000025). Default: all districts.",
            "schema": _enum_array([code for code, _name in vocabulary.districts], "District GSS codes"),
        },
        {
            "name": "category",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": "Limit to these incident categories, by code; repeat the parameter for more than "
            "one. Default: all categories.",
            "schema": _enum_array([code for code, _label in vocabulary.categories], "Incident category codes"),
        },
    ]


def _json(schema_ref: str, description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error_responses() -> dict:
    www_authenticate = {
        "WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                             "description": "Always `Bearer`"},
    }
    retry_after = {
        "Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1},
                        "description": "Seconds to wait before trying again"},
    }
    return {
        "400": _json("Error", "A parameter is wrong or unknown; `field` names it."),
        "401": _json("Error", "No token, or a token that does not work (unknown, revoked, expired, or its "
                     "user or organisation is no longer active). The same answer in every case.",
                     www_authenticate),
        "403": _json("Error", "The token's user may not see national summaries."),
        "429": _json("Error", "Too many calls (per token), or too many failed token checks from your "
                     "address. Wait for the number of seconds in Retry-After.", retry_after),
    }


def document(vocabulary: summaries.SummaryChoices, latest: summaries.Quarter, *, rate_limit: str = "",
             auth_failure_limit: str = "") -> dict:
    """The OpenAPI description. `vocabulary` gives the area and category codes allowed now;
    `latest` is the latest complete quarter (the default `to`); the limits are described."""
    limits = ""
    if rate_limit:
        limits = (f"\n\nRate limits: {rate_limit.replace(';', ', ')} per token; "
                  f"{(auth_failure_limit or 'a few').replace(';', ', ')} failed token checks per address. "
                  "Going over gives 429 with a Retry-After header.")
    marking_header = {
        MARKING_HEADER: {"required": True, "schema": {"type": "string", "enum": ["TLP:GREEN"]},
                         "description": "The handling marking of the response: share it as TLP:GREEN."},
        "Cache-Control": {"required": True, "schema": {"type": "string"},
                          "description": "Always `no-store`"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Midlands Partnership Dashboard: national summaries API",
            "version": API_VERSION,
            "description": (
                "Read-only counts of incidents and tension levels for national policy work, after "
                "disclosure control: only records marked TLP:GREEN or TLP:CLEAR are counted; 0 shows as 0, "
                f'1 to 4 as "{SUPPRESSED}", larger counts are rounded to the nearest 5, and cells that '
                f'could reveal a small count through the totals show as "{CONCEALED}". No record-level '
                "detail is ever returned. Every response is marked TLP:GREEN.\n\n"
                "Authenticate with a token an administrator issues for you (Admin, API tokens): "
                "`Authorization: Bearer pdk_...`. Every call is recorded in the audit log." + limits
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            SUMMARY_PATH: {
                "get": {
                    "operationId": "getSummary",
                    "summary": "National summary tables for a period",
                    "description": "The by-area, by-quarter and tension-level tables of the national "
                    "summaries page, for the same choices. Unknown parameters are refused with 400.",
                    "parameters": _parameters(vocabulary, latest),
                    "responses": {
                        "200": _json("Summary", "The summary, marked TLP:GREEN.", marking_header),
                        **_error_responses(),
                    },
                }
            },
            OPENAPI_PATH: {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This description",
                    "description": "Also readable by anyone signed in to the dashboard in a browser.",
                    "responses": {
                        "200": {"description": "The OpenAPI description",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": _error_responses()["401"],
                        "429": _error_responses()["429"],
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (pdk_...) issued by an administrator.",
                }
            },
            "schemas": {
                "Summary": _summary_schema(),
                "SummaryTable": _table_schema(),
                "Error": _error_schema(),
            },
        },
    }
