"""Importing incidents from a CSV or Excel (XLSX) file, all or nothing.

A file is first checked as a whole (size, type by its content and its name, text encoding,
zip bombs, macros, the column headings) and refused with one plain message when it cannot be
read safely. Then every row is checked with the same rules as the incident form, and every
problem is listed by row (as numbered in the file, the headings being row 1), column and reason.
Only when no row has a problem are the incidents added, in the caller's transaction, with bulk
inserts: their strands, recipients and listed organisations, a history entry each ("imported"),
the monthly counts and one audit event. Old Northamptonshire district codes are mapped to the
districts that replaced them (area_successions), and the report says which rows were mapped.

Workbooks are read part by part with defusedxml (its expat parser, with DTDs, entities and
external references refused), streaming the sheet, after the archive itself has been checked
(sizes and compression ratios from its directory, no macros); a cell holding a formula is a row
error, never a value. This reads 100,000 rows in about 12 s, where openpyxl takes about 60 s.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import posixpath
import re
import time
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from defusedxml import DefusedXmlException
from sqlalchemy import func, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from . import audit, cache, rollups, search
from .access import PARTNERSHIP_ROLES, Viewer
from .geography import SUCCESSIONS_TABLE
from .models import (
    Area,
    AreaSuccession,
    Incident,
    IncidentCategory,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    Organisation,
    RecordChange,
    Strand,
    User,
    incident_organisations,
    incident_recipients,
    incident_strands,
    utcnow,
)
from .reference import (
    AUDIENCE_CLEAR,
    AUDIENCE_PARTNERS,
    SEVERITY_LABELS,
    DatePrecision,
    LocationPrecision,
    Marking,
    MembershipStatus,
    UserStatus,
    Verification,
    map_cell,
    precise_day,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # all parts of a workbook, unpacked
MAX_RATIO = 100  # unpacked size / packed size of a part over RATIO_CHECKED_FROM
RATIO_CHECKED_FROM = 1024 * 1024
MAX_PARTS = 1_000
MAX_COLUMNS = 60
MAX_LISTED_ERRORS = 1_000
EXCEL_MAX_ROWS = 1_048_576

# The incident form's limits (dashboard/incidents.py), checked here row by row.
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
EARLIEST_DAY = date(2000, 1, 1)
LATITUDE_RANGE = (51.8, 53.7)
LONGITUDE_RANGE = (-3.3, 0.4)
COORDINATE_DECIMALS = 6

RECORD_TYPE = "incident"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or an encrypted workbook


@dataclass(frozen=True)
class TemplateColumn:
    name: str
    required: bool
    description: str
    example: str


TEMPLATE_COLUMNS: list[TemplateColumn] = [
    TemplateColumn("title", True, f"A few words saying what happened (at most {TITLE_MAX} characters).",
                   "Leaflets left at a mosque"),
    TemplateColumn("occurred_on", True,
                   "The date it happened, as YYYY-MM-DD or DD/MM/YYYY (or an Excel date); not in the "
                   "future, not before 2000.", "2026-11-03"),
    TemplateColumn("date_precision", False,
                   "How exact the date is: day, week (sometime that week) or month (sometime that "
                   "month), kept as that week's Monday or that month's first day. Blank: day.", "day"),
    TemplateColumn("area_code", True,
                   "The district's GSS code, or its name exactly as the dashboard writes it. Old "
                   "Northamptonshire district codes (E07000150 to E07000156) are changed to North or "
                   "West Northamptonshire, and the report says which rows were.", "E06000016"),
    TemplateColumn("category", True, "The category's code or name (any capitals), e.g. literature or "
                   "\u201cLiterature and leaflets\u201d.", "literature"),
    TemplateColumn("strands", False, "Hate-crime strands, codes or names separated by ; (blank: none).",
                   "race; religion"),
    TemplateColumn("description", False, f"What happened, in more detail (at most {DESCRIPTION_MAX:,} characters).",
                   "About 40 leaflets were posted through doors on Melton Road."),
    TemplateColumn("latitude", False,
                   f"Where it happened: latitude in decimal degrees ({LATITUDE_RANGE[0]} to "
                   f"{LATITUDE_RANGE[1]}); give longitude too, or neither.", "52.6536"),
    TemplateColumn("longitude", False,
                   f"Longitude in decimal degrees ({LONGITUDE_RANGE[0]} to {LONGITUDE_RANGE[1]}; west is "
                   "negative).", "-1.1198"),
    TemplateColumn("location_precision", False,
                   "How exact the location is: exact, approximate or area (area only). Needed when a "
                   "latitude and longitude are given; blank without them: area.", "approximate"),
    TemplateColumn("severity", False, "1 (low), 2 (moderate), 3 (serious) or 4 (critical), or the word. "
                   "Blank: 1.", "2"),
    TemplateColumn("verification", False, "reported, corroborated or confirmed. Blank: reported.", "reported"),
    TemplateColumn("marking", False,
                   "The handling marking: TLP:RED, TLP:AMBER+STRICT, TLP:AMBER, TLP:GREEN or TLP:CLEAR "
                   "(RED, AMBER and so on are accepted). Blank: TLP:GREEN.", "TLP:GREEN"),
    TemplateColumn("recipients", False,
                   "For TLP:RED only, and needed then: the e-mail addresses of the partners who may see "
                   "it, separated by ;.", "sam.jones@police.example; ali.khan@council.example"),
    TemplateColumn("listed_organisations", False,
                   "For TLP:AMBER only: the names of the member organisations it is shared with besides "
                   "yours, separated by ;.", "Leicester City Council; Citizens Advice (Midlands)"),
]
COLUMN_NAMES = [c.name for c in TEMPLATE_COLUMNS]
REQUIRED_COLUMNS = [c.name for c in TEMPLATE_COLUMNS if c.required]
# Other spellings of a heading that are accepted.
_ALIASES = {"category_code": "category", "area": "area_code", "district": "area_code",
            "district_code": "area_code", "date": "occurred_on", "listed_organizations": "listed_organisations"}


@dataclass(frozen=True)
class RowError:
    row: int  # as numbered in the file: the headings are row 1
    column: str
    message: str

    def line(self) -> str:
        where = f"Row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    rows: int
    imported: int
    errors: list[RowError]  # at most MAX_LISTED_ERRORS of them (error_count says how many in all)
    refused: str | None
    mapped_codes: list[tuple[int, str, str]]  # (row, old code, new code)
    seconds: float
    error_count: int = 0
    rows_with_errors: int = 0
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.refused is None and not self.error_count and not self.errors

    def summary(self) -> str:
        if self.refused:
            return f"{self.file_name} was not imported: {self.refused}"
        total = self.error_count or len(self.errors)
        if total:
            problems = "1 problem" if total == 1 else f"{total:,} problems"
            rows = self.rows_with_errors or len({e.row for e in self.errors})
            in_rows = "1 row" if rows == 1 else f"{rows:,} rows"
            listed = f" (the first {len(self.errors):,} are listed)" if len(self.errors) < total else ""
            return (
                f"{self.file_name} was not imported: {problems} in {in_rows} of {self.rows:,}{listed}. "
                "Nothing was added. Correct them and import the whole file again."
            )
        mapped = ""
        if self.mapped_codes:
            n = len(self.mapped_codes)
            mapped = f" {n:,} row{'s' if n != 1 else ''} had an old district code, changed to its successor."
        noun = "incident" if self.imported == 1 else "incidents"
        return f"Imported {self.imported:,} {noun} from {self.file_name} in {self.seconds:.1f} s.{mapped}"


class _Refused(Exception):
    """The whole file is refused; the message says why and what to do."""


# --- reading the file -----------------------------------------------------------------------------


def size_refusal(size: int) -> str | None:
    """The message for a file of `size` bytes that is too large (None when it is not)."""
    if size > MAX_BYTES:
        return (
            f"The file is {size / 1024 / 1024:.1f} MB; the largest accepted is {MAX_BYTES // 1024 // 1024} MB. "
            "Split it into smaller files."
        )
    return None


def _kind(file_name: str, content: bytes) -> str:
    """"csv" or "xlsx", from the name and the content (which must agree)."""
    name = file_name.lower().strip()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension in ("xlsm", "xltm", "xlsb"):
        raise _Refused("Macro-enabled and binary workbooks are not accepted. Save it as an Excel Workbook (.xlsx).")
    if extension == "xls" or content.startswith(_OLE_MAGIC):
        raise _Refused(
            "The file is an old-style Excel file (.xls) or a password-protected workbook. Open it in "
            "Excel and save it as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8."
        )
    if extension not in ("csv", "xlsx"):
        raise _Refused(
            f"Only .csv and .xlsx files can be imported; \u201c{file_name}\u201d is neither. Use the "
            "template, saved as CSV UTF-8 or as an Excel Workbook (.xlsx)."
        )
    zipped = content.startswith(_ZIP_MAGIC)
    if extension == "xlsx" and not zipped:
        raise _Refused(
            "The file is named .xlsx but is not an Excel workbook. If it is a CSV file, name it .csv; "
            "otherwise save it from Excel as an Excel Workbook (.xlsx)."
        )
    if extension == "csv" and zipped:
        raise _Refused(
            "The file is named .csv but is a zip file or an Excel workbook. Name a workbook .xlsx, or "
            "save it from Excel as CSV UTF-8 (Comma delimited)."
        )
    return extension


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    """(row number, cells) of a CSV file; refuses binary files and text that is not UTF-8."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Refused(
            "The file is saved as Unicode text (UTF-16). In Excel choose Save As, then "
            "\u201cCSV UTF-8 (Comma delimited)\u201d, and import that file."
        )
    nul = content.find(b"\x00")
    if nul >= 0:
        line = content.count(b"\n", 0, nul) + 1
        raise _Refused(
            f"The file holds binary data (a NUL byte on line {line:,}), so it is not a CSV text file. "
            "Save it from your spreadsheet as CSV UTF-8."
        )
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8):]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise _Refused(
            f"The file is not UTF-8 text (the first character that is not is on line {line:,}). In "
            "Excel choose Save As, then \u201cCSV UTF-8 (Comma delimited)\u201d, and import that file."
        ) from None
    first_line = text.split("\n", 1)[0]
    if "," not in first_line and (";" in first_line or "\t" in first_line):
        separator = "semicolons" if ";" in first_line else "tabs"
        raise _Refused(
            f"The columns are separated by {separator}, not commas. Save the file as CSV UTF-8 "
            "(Comma delimited), or use the .xlsx template."
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = "a value is far longer than any column allows"
        raise _Refused(f"The file could not be read as CSV after row {number:,} (line {reader.line_num:,}): "
                       f"{message}. Save it again as CSV UTF-8.") from None


def _check_workbook_archive(content: bytes) -> None:
    """Refuse what is not a workbook, zip bombs and macros, before anything is unpacked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _Refused(
            "The file is not a valid Excel workbook (it may be damaged, or only partly uploaded). "
            "Open it in Excel and save it again as an Excel Workbook (.xlsx)."
        ) from None
    with archive:
        if len(parts) > MAX_PARTS:
            raise _Refused("The workbook has too many parts to be a spreadsheet of incidents; it was not opened.")
        unpacked = sum(p.file_size for p in parts)
        if unpacked > MAX_UNCOMPRESSED:
            raise _Refused(
                f"The workbook would unpack to {unpacked / 1024 / 1024:,.0f} MB, more than the "
                f"{MAX_UNCOMPRESSED // 1024 // 1024} MB allowed, so it was not opened. Split it into smaller files."
            )
        for part in parts:
            if part.file_size > RATIO_CHECKED_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
                raise _Refused(
                    "The workbook is compressed far more than a spreadsheet can be (a \u201czip bomb\u201d), "
                    "so it was not opened."
                )
        names = {p.filename for p in parts}
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise _Refused(
                "The workbook contains macros, which are not accepted. Save it as an Excel Workbook "
                "(.xlsx) without macros, or as CSV UTF-8."
            )
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise _Refused(
                "The file is a zip file but not an Excel workbook. Save it from Excel as an Excel Workbook (.xlsx)."
            )
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels")):
                with archive.open(part) as handle:
                    start = handle.read(4096)
                if b"<!DOCTYPE" in start.upper() or b"<!ENTITY" in start.upper():
                    raise _Refused("The workbook contains XML declarations that are not allowed, so it was not opened.")


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the workbook's sheet called "Incidents", or else its first sheet;
    a formula cell comes as a `_Formula`, never as a value, and date cells as datetimes."""
    _check_workbook_archive(content)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            book = _Workbook.read(archive)
            rows = _SheetRows(archive, book)
            first = True
            for number, cells in rows:
                if first and number != 1:
                    yield 1, []  # (row 1 is blank: it holds no headings)
                first = False
                yield number, cells
            if first:
                yield 1, []
    except _Refused:
        raise
    except DefusedXmlException:
        raise _Refused("The workbook contains XML declarations that are not allowed, so it was not opened.") from None
    except Exception:  # noqa: BLE001 - a damaged workbook fails in many ways
        raise _Refused(
            "The workbook could not be read (it may be damaged). Open it in Excel and save it again "
            "as an Excel Workbook (.xlsx), or as CSV UTF-8."
        ) from None


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class _Workbook:
    """What reading a sheet needs: which part holds it, the shared strings, which cell styles
    are dates, and the workbook's date system. (Read with defusedxml: no DTDs or entities.)"""

    sheet_part: str
    shared_strings: list[str]
    date_styles: frozenset[int]
    epoch: datetime

    @classmethod
    def read(cls, archive: zipfile.ZipFile) -> _Workbook:
        from defusedxml.ElementTree import fromstring
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        names = set(archive.namelist())
        workbook = fromstring(archive.read("xl/workbook.xml"))
        sheets = [(el.get("name"), el.get(_DOC_REL)) for el in workbook.iter(f"{_MAIN_NS}sheet")]
        if not sheets:
            raise _Refused("The workbook has no sheets.")
        targets, shared_part = {}, None
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in fromstring(archive.read("xl/_rels/workbook.xml.rels")).iter(f"{_PKG_NS}Relationship"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[rel.get("Id")] = path
                if rel.get("Type", "").endswith("/sharedStrings"):
                    shared_part = path
        name, rel_id = next((s for s in sheets if s[0] == "Incidents"), sheets[0])
        sheet_part = targets.get(rel_id, "")
        if sheet_part not in names:
            raise _Refused(f"The workbook's sheet \u201c{name}\u201d could not be found in it; save it again from Excel.")
        if shared_part is None and "xl/sharedStrings.xml" in names:
            shared_part = "xl/sharedStrings.xml"
        shared = _shared_strings(archive, shared_part) if shared_part in names else []
        date_styles: set[int] = set()
        if "xl/styles.xml" in names:
            styles = fromstring(archive.read("xl/styles.xml"))
            custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in styles.iter(f"{_MAIN_NS}numFmt")}
            cell_formats = styles.find(f"{_MAIN_NS}cellXfs")
            for index, xf in enumerate(cell_formats if cell_formats is not None else ()):
                number_format = int(xf.get("numFmtId", 0))
                code = custom.get(number_format) or BUILTIN_FORMATS.get(number_format)
                if code and is_date_format(code):
                    date_styles.add(index)
        pr = workbook.find(f"{_MAIN_NS}workbookPr")
        mac = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
        return cls(sheet_part, shared, frozenset(date_styles), CALENDAR_MAC_1904 if mac else CALENDAR_WINDOWS_1900)


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _feed(parser, archive: zipfile.ZipFile, part: str) -> Iterator[None]:
    """Feed a part to an incremental parser a piece at a time (yielding after each piece)."""
    with archive.open(part) as stream:
        while piece := stream.read(1 << 16):
            parser.feed(piece)
            yield
    parser.close()
    yield


def _shared_strings(archive: zipfile.ZipFile, part: str) -> list[str]:
    from xml.sax.handler import ContentHandler

    from defusedxml.expatreader import DefusedExpatParser

    strings: list[str] = []

    class Handler(ContentHandler):
        text: list[str] = []
        keep = False
        phonetic = 0

        def startElement(self, name, attrs):  # noqa: N802 - SAX's names
            local = _local(name)
            if local == "si":
                self.text = []
            elif local == "rPh":
                self.phonetic += 1  # (pronunciation guides are not the cell's text)
            elif local == "t" and not self.phonetic:
                self.keep = True

        def endElement(self, name):  # noqa: N802
            local = _local(name)
            if local == "t":
                self.keep = False
            elif local == "rPh":
                self.phonetic -= 1
            elif local == "si":
                strings.append("".join(self.text))

        def characters(self, content):
            if self.keep:
                self.text.append(content)

    parser = DefusedExpatParser(forbid_dtd=True)
    parser.setContentHandler(Handler())
    for _ in _feed(parser, archive, part):
        pass
    return strings


def _column_number(ref: str) -> int:
    number = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            number = number * 26 + ord(ch) - 64
        else:
            break
    return number


class _SheetRows:
    """The rows of a worksheet, streamed: (row number, values by column, up to the widest)."""

    def __init__(self, archive: zipfile.ZipFile, book: _Workbook) -> None:
        self.archive = archive
        self.book = book

    def __iter__(self) -> Iterator[tuple[int, list]]:
        from xml.sax.handler import ContentHandler

        from defusedxml.expatreader import DefusedExpatParser
        from openpyxl.utils.datetime import from_excel

        book = self.book
        done: list[tuple[int, list]] = []
        width_limit = MAX_COLUMNS + 6

        class Handler(ContentHandler):
            row = 0
            cells: dict[int, object] = {}
            column = 0
            kind = "n"
            style = 0
            formula = False
            keep = False
            inline = False
            phonetic = 0
            text: list[str] = []

            def startElement(self, name, attrs):  # noqa: N802 - SAX's names
                local = _local(name)
                if local == "c":
                    ref = attrs.get("r")
                    self.column = _column_number(ref) if ref else self.column + 1
                    self.kind = attrs.get("t", "n")
                    self.style = int(attrs.get("s", 0))
                    self.formula = self.keep = False
                    self.text = []
                elif local == "v" or (local == "t" and self.inline and not self.phonetic):
                    self.keep = True
                elif local == "is":
                    self.inline = True
                elif local == "rPh":
                    self.phonetic += 1
                elif local == "f":
                    self.formula = True
                elif local == "row":
                    number = attrs.get("r")
                    self.row = int(number) if number else self.row + 1
                    self.cells = {}
                    self.column = 0

            def endElement(self, name):  # noqa: N802
                local = _local(name)
                if local in ("v", "t"):
                    self.keep = False
                elif local == "is":
                    self.inline = False
                elif local == "rPh":
                    self.phonetic -= 1
                elif local == "c":
                    if self.column <= width_limit:
                        self.cells[self.column] = self.value()
                elif local == "row":
                    if self.cells:
                        values = [None] * max(self.cells)
                        for column, value in self.cells.items():
                            values[column - 1] = value
                        done.append((self.row, values))

            def characters(self, content):
                if self.keep:
                    self.text.append(content)

            def value(self):
                if self.formula:
                    return _Formula("formula")
                text = "".join(self.text)
                kind = self.kind
                if kind == "s":
                    return book.shared_strings[int(text)] if text else None
                if kind in ("inlineStr", "str", "e"):
                    return text
                if kind == "b":
                    return text == "1"
                if kind == "d":
                    return datetime.fromisoformat(text) if text else None
                if not text:
                    return None
                number = float(text)
                if self.style in book.date_styles:
                    return from_excel(number, book.epoch)
                return int(number) if number.is_integer() and "E" not in text.upper() and "." not in text else number

        parser = DefusedExpatParser(forbid_dtd=True)
        parser.setContentHandler(Handler())
        for _ in _feed(parser, self.archive, book.sheet_part):
            yield from done
            done.clear()


def _filled(value) -> bool:
    return isinstance(value, _Formula) or bool(_text(value))


@dataclass(frozen=True)
class _Formula:
    text: str


# --- checking rows ----------------------------------------------------------------------------------


def _heading(value) -> str:
    text = str(value if value is not None else "").strip().lower().rstrip("*").strip()
    text = re.sub(r"[\s\-]+", "_", text)
    return _ALIASES.get(text, text)


def _columns(headings: list) -> list[str | None]:
    """The column each position holds (None for a blank heading); refuses unknown, missing and
    repeated headings."""
    names = [_heading(h) or None for h in headings]
    unknown = [str(h).strip() for h, n in zip(headings, names, strict=True) if n and n not in COLUMN_NAMES]
    if unknown:
        quoted = ", ".join(f"\u201c{u}\u201d" for u in unknown)
        raise _Refused(
            f"The file has column headings the template does not: {quoted}. Use the template's "
            f"headings ({', '.join(COLUMN_NAMES)}), or remove those columns."
        )
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise _Refused(f"These columns appear more than once: {', '.join(repeated)}. Keep one of each.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise _Refused(
            f"The file has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}, which every "
            "incident needs. Use the template's headings in the first row."
        )
    return names


def _text(value) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    return str(value).strip()


@dataclass
class _Lookups:
    """The vocabularies rows are checked against, read once per import."""

    areas: dict[str, str]  # code -> name
    area_names: dict[str, str]  # lower-case name -> code
    successions: dict[str, tuple[str, str]]  # old code -> (new code, old name)
    old_names: dict[str, tuple[str, str]]  # lower-case old name -> (old code, new code)
    split_codes: dict[str, str]  # old codes with no single successor -> what replaced them
    categories: dict[str, str]  # lower-case code or label -> code (active ones)
    retired_categories: set[str]
    strands: dict[str, str]  # lower-case code or label -> code (active ones)
    strand_bits: dict[str, int]
    people: dict[str, int]  # lower-case e-mail -> user id (active partner users)
    organisations: dict[str, int]  # lower-case name or short name -> id (active members)

    @classmethod
    def load(cls, session: Session) -> _Lookups:
        areas = dict(session.execute(select(Area.code, Area.name)).all())
        successions = {
            old: (new, name)
            for old, new, name in session.execute(
                select(AreaSuccession.old_code, AreaSuccession.new_code, AreaSuccession.old_name)
            ).all()
        }
        categories, retired = {}, set()
        for code, label, active in session.execute(
            select(IncidentCategory.code, IncidentCategory.label, IncidentCategory.active)
        ):
            if active:
                categories[code.lower()] = code
                categories[label.lower()] = code
            else:
                retired.update({code.lower(), label.lower()})
        strands, bits = {}, {}
        for code, label, active, bit in session.execute(
            select(Strand.code, Strand.label, Strand.active, Strand.bit)
        ):
            bits[code] = bit
            if active:
                strands[code.lower()] = code
                strands[label.lower()] = code
        people = dict(
            session.execute(
                select(func.lower(User.email), User.id)
                .join(Organisation, Organisation.id == User.organisation_id)
                .where(
                    User.status == UserStatus.ACTIVE.value,
                    User.role.in_([r.value for r in PARTNERSHIP_ROLES]),
                    Organisation.membership_status == MembershipStatus.ACTIVE.value,
                )
            ).all()
        )
        organisations = {}
        for org_id, name, short in session.execute(
            select(Organisation.id, Organisation.name, Organisation.short_name)
            .where(Organisation.membership_status == MembershipStatus.ACTIVE.value)
        ):
            organisations[name.lower()] = org_id
            if short:
                organisations.setdefault(short.lower(), org_id)
        return cls(
            areas=areas,
            area_names={name.lower(): code for code, name in areas.items()},
            successions=successions,
            old_names={name.lower(): (old, new) for old, (new, name) in successions.items()},
            split_codes=_split_codes(),
            categories=categories,
            retired_categories=retired,
            strands=strands,
            strand_bits=bits,
            people=people,
            organisations=organisations,
        )


def _split_codes() -> dict[str, str]:
    """Old codes that were replaced by more than one district (they cannot be mapped)."""
    found = {}
    with SUCCESSIONS_TABLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if ";" in row["new_code"]:
                pairs = zip(row["new_code"].split(";"), row["new_name"].split(";"), strict=False)
                found[row["old_code"]] = (
                    f"{row['old_name']}, which was replaced by "
                    + " and ".join(f"{name} ({code})" for code, name in pairs)
                )
    return found


_MARKINGS = {
    "RED": Marking.RED.value,
    "AMBER+STRICT": Marking.AMBER_STRICT.value,
    "AMBERSTRICT": Marking.AMBER_STRICT.value,
    "AMBER": Marking.AMBER.value,
    "GREEN": Marking.GREEN.value,
    "CLEAR": Marking.CLEAR.value,
}
_SEVERITIES = {str(level): level for level in SEVERITY_LABELS} | {
    label.lower(): level for level, label in SEVERITY_LABELS.items()
}
_DATE_PRECISIONS = frozenset(p.value for p in DatePrecision)
_LOCATION_PRECISIONS = frozenset(p.value for p in LocationPrecision)
_VERIFICATIONS = frozenset(v.value for v in Verification)
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")


def _marking(raw: str) -> str | None:
    key = re.sub(r"\s+", "", raw.upper()).removeprefix("TLP:").removeprefix("TLP")
    return _MARKINGS.get(key.replace("_", "+"))


def _split(raw: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in raw.split(";") if p.strip()))


def _day(value, today: date) -> tuple[date | None, str | None]:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return None, ("is a number, not a date: format the cells as dates, or type the date as "
                      "YYYY-MM-DD or DD/MM/YYYY.")
    else:
        text = _text(value)
        if not text:
            return None, "Enter the date the incident happened, as YYYY-MM-DD or DD/MM/YYYY."
        try:
            iso, dmy = _ISO.match(text), _DMY.match(text)
            if iso:
                day = date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif dmy:
                day = date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
            else:
                return None, f"\u201c{text}\u201d is not a date: write it as YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-11-03)."
        except ValueError:
            return None, f"\u201c{text}\u201d is not a real date."
    if day < EARLIEST_DAY:
        return None, f"The date {day.isoformat()} is before {EARLIEST_DAY.year}; check the year."
    if day > today:
        return None, f"The date {day.isoformat()} is in the future (today is {today.isoformat()})."
    return day, None


def _coordinate(value, name: str, bounds: tuple[float, float]) -> tuple[float | None, str | None]:
    text = _text(value)
    if not text:
        return None, None
    message = f"{name} must be a number between {bounds[0]} and {bounds[1]} (the Midlands)"
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float(text)
    except ValueError:
        return None, f"{message}; \u201c{text}\u201d is not a number."
    if not (math.isfinite(number) and bounds[0] <= number <= bounds[1]):
        return None, f"{message}; {text} is not."
    return round(number, COORDINATE_DECIMALS), None


class _Checker:
    """Checks rows one by one into incident values, collecting every problem."""

    def __init__(self, lookups: _Lookups, viewer: Viewer, today: date) -> None:
        self.lookups = lookups
        self.viewer = viewer
        self.today = today
        self.errors: list[RowError] = []
        self.error_count = 0
        self.rows_with_errors = 0
        self.mapped: list[tuple[int, str, str]] = []
        self.valid: list[dict] = []

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(row, column, message))

    def check(self, number: int, row: dict) -> None:
        """Check one row ({column: cell}); its values join `valid`, or its problems `errors`."""
        before = self.error_count
        look = self.lookups
        values: dict = {}
        get = row.get
        for column, value in row.items():
            if isinstance(value, _Formula):
                self.error(number, column, "holds a formula; paste values only (Copy, then Paste Special > Values).")
        if self.error_count > before:
            self.rows_with_errors += 1
            return

        title = " ".join(_text(get("title")).split())
        if not title:
            self.error(number, "title", "Enter a title: a few words saying what happened.")
        elif len(title) > TITLE_MAX:
            self.error(number, "title", f"The title must be {TITLE_MAX} characters or fewer (it has {len(title)}).")
        elif _CONTROL.search(title):
            self.error(number, "title", "The title holds a control character; remove it.")
        values["title"] = title

        day, problem = _day(get("occurred_on"), self.today)
        if problem:
            self.error(number, "occurred_on", problem)
        values["occurred_on"] = day

        precision = _text(get("date_precision")).lower() or DatePrecision.DAY.value
        if precision not in _DATE_PRECISIONS:
            self.error(number, "date_precision", f"\u201c{precision}\u201d is not one of day, week or month.")
        elif day:
            values["occurred_on"] = precise_day(day, precision)
        values["date_precision"] = precision

        raw_area = _text(get("area_code"))
        code = raw_area.upper()
        if not raw_area:
            self.error(number, "area_code", "Enter the district's GSS code (for example E06000016) or its name.")
        elif code in look.areas:
            values["area_code"] = code
        elif code in look.successions:
            values["area_code"] = look.successions[code][0]
            self.mapped.append((number, code, values["area_code"]))
        elif raw_area.lower() in look.area_names:
            values["area_code"] = look.area_names[raw_area.lower()]
        elif raw_area.lower() in look.old_names:
            old, new = look.old_names[raw_area.lower()]
            values["area_code"] = new
            self.mapped.append((number, old, new))
        elif code in look.split_codes:
            self.error(number, "area_code", f"{code} is {look.split_codes[code]}: give the district it happened in.")
        else:
            self.error(number, "area_code", f"\u201c{raw_area}\u201d is not a Midlands district code or name.")

        raw_category = _text(get("category"))
        category = look.categories.get(raw_category.lower())
        if not raw_category:
            self.error(number, "category", "Enter the category (its code or name).")
        elif category is None:
            why = "is no longer in use" if raw_category.lower() in look.retired_categories else "is not a category"
            self.error(number, "category", f"\u201c{raw_category}\u201d {why}; see the template's list of categories.")
        values["category_code"] = category

        strands = []
        unknown = []
        for part in _split(_text(get("strands"))):
            code_ = look.strands.get(part.lower())
            if code_:
                strands.append(code_)
            else:
                unknown.append(part)
        if unknown:
            listed = ", ".join(f"\u201c{u}\u201d" for u in unknown)
            self.error(number, "strands", f"Not a hate-crime strand: {listed}. Separate strands with ;.")
        values["strands"] = list(dict.fromkeys(strands))

        description = _text(get("description")).replace("\r\n", "\n").replace("\r", "\n")
        if len(description) > DESCRIPTION_MAX:
            self.error(number, "description",
                       f"The description must be {DESCRIPTION_MAX:,} characters or fewer (it has {len(description):,}).")
        elif _CONTROL.search(description):
            self.error(number, "description", "The description holds a control character; remove it.")
        values["description"] = description

        latitude, problem = _coordinate(get("latitude"), "Latitude", LATITUDE_RANGE)
        if problem:
            self.error(number, "latitude", problem)
        longitude, problem2 = _coordinate(get("longitude"), "Longitude", LONGITUDE_RANGE)
        if problem2:
            self.error(number, "longitude", problem2)
        if not problem and not problem2:
            if latitude is None and longitude is not None:
                self.error(number, "latitude", "Enter the latitude as well as the longitude, or leave both blank.")
            elif longitude is None and latitude is not None:
                self.error(number, "longitude", "Enter the longitude as well as the latitude, or leave both blank.")
        values["latitude"], values["longitude"] = latitude, longitude
        has_point = latitude is not None and longitude is not None
        location = _text(get("location_precision")).lower()
        if location == "area only":
            location = LocationPrecision.AREA.value
        if not location:
            if has_point:
                self.error(number, "location_precision",
                           "Say how exact the location is: exact, approximate or area.")
            location = LocationPrecision.AREA.value
        elif location not in _LOCATION_PRECISIONS:
            self.error(number, "location_precision", f"\u201c{location}\u201d is not one of exact, approximate or area.")
        elif location != LocationPrecision.AREA.value and not has_point and not problem and not problem2:
            self.error(number, "location_precision",
                       f"An {location} location needs a latitude and longitude; without them write area.")
        values["location_precision"] = location

        raw_severity = _text(get("severity")).lower()
        severity = _SEVERITIES.get(raw_severity or "1")
        if severity is None:
            self.error(number, "severity", f"\u201c{raw_severity}\u201d is not a severity: use 1 (low) to 4 (critical).")
        values["severity"] = severity

        verification = _text(get("verification")).lower() or Verification.REPORTED.value
        if verification not in _VERIFICATIONS:
            self.error(number, "verification",
                       f"\u201c{verification}\u201d is not one of reported, corroborated or confirmed.")
        values["verification"] = verification

        raw_marking = _text(get("marking"))
        marking = _marking(raw_marking) if raw_marking else Marking.GREEN.value
        if marking is None:
            self.error(number, "marking", f"\u201c{raw_marking}\u201d is not a marking: use TLP:RED, "
                       "TLP:AMBER+STRICT, TLP:AMBER, TLP:GREEN or TLP:CLEAR.")
        values["marking"] = marking

        emails = _split(_text(get("recipients")).lower())
        if emails and marking != Marking.RED.value:
            self.error(number, "recipients", "Recipients are for TLP:RED records only: leave this blank, or mark the record TLP:RED.")
        recipients = []
        if marking == Marking.RED.value:
            unknown = [e for e in emails if e not in look.people]
            if unknown:
                self.error(number, "recipients", f"Not an active partner: {', '.join(unknown)}.")
            elif not emails:
                self.error(number, "recipients",
                           "A TLP:RED record needs at least one recipient: the e-mail addresses of the "
                           "partners who may see it, separated by ;.")
            recipients = [look.people[e] for e in emails if e in look.people]
        values["recipients"] = list(dict.fromkeys(recipients))

        orgs = _split(_text(get("listed_organisations")))
        if orgs and marking != Marking.AMBER.value:
            self.error(number, "listed_organisations",
                       "Listed organisations are for TLP:AMBER records only: leave this blank, or mark the record TLP:AMBER.")
        listed = []
        if marking == Marking.AMBER.value:
            unknown = [o for o in orgs if o.lower() not in look.organisations]
            if unknown:
                quoted = ", ".join(f"\u201c{o}\u201d" for o in unknown)
                self.error(number, "listed_organisations", f"Not a member organisation: {quoted}.")
            listed = [look.organisations[o.lower()] for o in orgs if o.lower() in look.organisations]
        values["listed_organisations"] = [
            o for o in dict.fromkeys(listed) if o != self.viewer.organisation_id
        ]

        if self.error_count > before:
            self.rows_with_errors += 1
        else:
            values["row"] = number
            self.valid.append(values)


def _read(kind: str, content: bytes, checker: _Checker) -> int:
    """Check every row of the file; the number of incident rows (blank rows are skipped)."""
    rows = _csv_rows(content) if kind == "csv" else _xlsx_rows(content)
    header = next(rows, None)
    if header is None or not any(_text(v) for v in header[1]):
        raise _Refused("The file is empty: its first row should hold the template's column headings.")
    names = _columns(list(header[1]))
    positions = [(name, i) for i, name in enumerate(names) if name]
    unnamed = [i for i, name in enumerate(names) if name is None]
    count = 0
    for number, cells in rows:
        if not any(_filled(v) for v in cells):
            continue  # a blank row
        count += 1
        if count > MAX_ROWS:
            continue  # (counted, to say how many there are)
        extra = next((i for i in unnamed if i < len(cells) and _filled(cells[i])), None)
        if extra is None and len(cells) > len(names):
            extra = next((i for i in range(len(names), len(cells)) if _filled(cells[i])), None)
        if extra is not None:
            checker.error(number, "", f"Column {extra + 1} holds a value but has no heading; remove it or add the heading.")
            checker.rows_with_errors += 1
            continue

        width = len(cells)
        checker.check(number, {name: cells[i] for name, i in positions if i < width})
    if count > MAX_ROWS:
        raise _Refused(
            f"The file has {count:,} incidents; at most {MAX_ROWS:,} can be imported at once. Split it into smaller files."
        )
    if count == 0:
        raise _Refused("The file has its column headings but no incidents below them.")
    return count


# --- the import ----------------------------------------------------------------------------------


def import_incidents(
    session: Session,
    viewer: Viewer,
    file_name: str,
    content: bytes,
    *,
    ip_address: str | None = None,
    today: date | None = None,
) -> ImportReport:
    """Check the file and, when every row is right, add all its incidents in the session's
    transaction (nothing is added otherwise). The report says what happened; refusals and files
    with errors are audited too (the caller commits)."""
    started = time.perf_counter()
    file_name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "the file"
    digest = hashlib.sha256(content or b"").hexdigest()

    def refuse(message: str, rows: int = 0) -> ImportReport:
        return refused_report(session, viewer, file_name, message, rows=rows, sha256=digest,
                              ip_address=ip_address, started=started)

    if not viewer.is_partner:
        return refuse("Only partnership members can import incidents.")
    if not content:
        return refuse("The file is empty.")
    too_big = size_refusal(len(content))
    if too_big:
        return refuse(too_big)
    checker = _Checker(_Lookups.load(session), viewer, today or date.today())
    try:
        rows = _read(_kind(file_name, content), content, checker)
    except _Refused as exc:
        return refuse(str(exc))
    if checker.error_count:
        report = ImportReport(
            file_name, rows, 0, checker.errors, None, checker.mapped, time.perf_counter() - started,
            error_count=checker.error_count, rows_with_errors=checker.rows_with_errors, sha256=digest,
        )
        audit.record(
            session, "incident import refused", user_id=viewer.user_id, actor=viewer.email,
            record_type="import", record_id=file_name, ip_address=ip_address,
            reason=report.summary(),
            detail={"file_name": file_name, "rows": rows, "errors": checker.error_count,
                    "rows_with_errors": checker.rows_with_errors, "sha256": digest,
                    "first_errors": [e.line() for e in checker.errors[:20]]},
        )
        return report
    _insert(session, viewer, file_name, checker.valid, checker.lookups)
    seconds = time.perf_counter() - started
    audit.record(
        session, "incidents imported", user_id=viewer.user_id, actor=viewer.email,
        record_type="import", record_id=file_name, ip_address=ip_address,
        detail={"file_name": file_name, "rows": rows, "sha256": digest,
                "mapped_codes": len(checker.mapped), "seconds": round(seconds, 2)},
    )
    return ImportReport(file_name, rows, rows, [], None, checker.mapped, seconds, sha256=digest)


def refused_report(
    session: Session,
    viewer: Viewer,
    file_name: str,
    message: str,
    *,
    rows: int = 0,
    sha256: str = "",
    ip_address: str | None = None,
    started: float | None = None,
) -> ImportReport:
    """A refused import (audited as "incident import refused" with the message as its reason)."""
    audit.record(
        session, "incident import refused", user_id=viewer.user_id or None, actor=viewer.email,
        record_type="import", record_id=file_name, ip_address=ip_address, reason=message,
        detail={"file_name": file_name, "rows": rows, "sha256": sha256},
    )
    seconds = time.perf_counter() - started if started is not None else 0.0
    return ImportReport(file_name, rows, 0, [], message, [], seconds, sha256=sha256)


_CHUNK = 5_000


_INCIDENT_COLUMNS = (
    "id", "category_code", "occurred_on", "date_precision", "area_code", "latitude", "longitude",
    "location_precision", "title", "description", "source_org_id", "reporter_id", "verification",
    "corroborated_by", "severity", "marking", "created_at", "updated_at", "version", "strand_mask", "map_cell",
)
_CHANGE_COLUMNS = ("record_type", "record_id", "version", "at", "user_id", "action", "changes", "note")


def _insert(session: Session, viewer: Viewer, file_name: str, valid: list[dict], lookups: _Lookups) -> None:
    """Bulk inserts of the checked rows (COPY on PostgreSQL, executemany on SQLite), with their
    strands, recipients, listed organisations and history entries; then the count tables."""
    # In date order: each index then takes the new rows in a few places, not all over (twice as
    # fast at a million incidents); rows of the same day keep the file's order.
    valid = sorted(valid, key=lambda v: v["occurred_on"])
    cache.records_changed(session)  # COPY bypasses the session: say so, for the figure cache
    ids = _new_ids(session, len(valid))
    now = utcnow()
    note = f"Imported from {file_name}"[:500]
    org, user = viewer.organisation_id, viewer.user_id
    for v in valid:
        v["strand_mask"] = sum(1 << lookups.strand_bits[s] for s in v["strands"])
    incidents = [
        (i, v["category_code"], v["occurred_on"], v["date_precision"], v["area_code"], v["latitude"],
         v["longitude"], v["location_precision"], v["title"], v["description"], org, user,
         v["verification"], 0, v["severity"], v["marking"], now, now, 1, v["strand_mask"],
         map_cell(v["latitude"], v["longitude"], v["location_precision"]))
        for i, v in zip(ids, valid, strict=True)
    ]
    pairs = list(zip(ids, valid, strict=True))
    with search.new_incidents_indexed_together(session):
        _bulk(session, Incident.__table__, _INCIDENT_COLUMNS, incidents)
        _bulk(session, incident_strands, ("incident_id", "strand_code"),
              [(i, s) for i, v in pairs for s in v["strands"]])
        _bulk(session, incident_recipients, ("record_id", "user_id"),
              [(i, u) for i, v in pairs for u in v["recipients"]])
        _bulk(session, incident_organisations, ("record_id", "organisation_id"),
              [(i, o) for i, v in pairs for o in v["listed_organisations"]])
        _bulk(session, RecordChange.__table__, _CHANGE_COLUMNS,
              [(RECORD_TYPE, i, 1, now, user, "imported", None, note) for i in ids])
    _add_to_counts(session, org, valid)


def _bulk(session: Session, table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert rows (tuples in `columns` order) in the session's transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        def plain(value):  # (timestamps are stored as UTC without a zone, as models.UTCDateTime does)
            return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) and value.tzinfo else value

        raw = session.connection().connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row([plain(v) for v in row])
        return
    for first in range(0, len(rows), _CHUNK):
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows[first:first + _CHUNK]])


def _audience(marking: str, organisation_id: int) -> int | None:
    """models.Incident.audience of a new incident; None for AMBER and RED (not in the counts)."""
    return {
        Marking.CLEAR.value: AUDIENCE_CLEAR,
        Marking.GREEN.value: AUDIENCE_PARTNERS,
        Marking.AMBER_STRICT.value: organisation_id,
    }.get(marking)


def _add_to_counts(session: Session, organisation_id: int, valid: list[dict]) -> None:
    """Add the new incidents to the count tables (rollups.refresh_months would recount whole
    months from every incident: 12-30 s for five years at a million incidents; adding the new
    ones gives the same counts, which tests/test_imports.py checks against a full recount)."""
    monthly: Counter = Counter()
    trend: Counter = Counter()
    for v in valid:
        audience = _audience(v["marking"], organisation_id)
        if audience is None:
            continue
        day = v["occurred_on"]
        monthly[(rollups.month_start(day), v["area_code"], audience)] += 1
        trend[(rollups.bucket_start(day), v["area_code"], audience, v["category_code"], v["strand_mask"])] += 1
    region: Counter = Counter()
    quarter: Counter = Counter()
    for (bucket, area, audience, category, mask), n in trend.items():
        region[(bucket, audience, category, mask)] += n
        quarter[(rollups.quarter_start(bucket), area, audience, category, mask)] += n
    _add_counts(session, IncidentMonthlyCount.__table__, ("month", "area_code", "audience"), monthly)
    _add_counts(session, IncidentTrendCount.__table__,
                ("bucket", "area_code", "audience", "category_code", "strand_mask"), trend)
    _add_counts(session, IncidentRegionTrendCount.__table__,
                ("bucket", "audience", "category_code", "strand_mask"), region)
    _add_counts(session, IncidentQuarterCount.__table__,
                ("quarter", "area_code", "audience", "category_code", "strand_mask"), quarter)


def _add_counts(session: Session, table, keys: Sequence[str], counts: Counter) -> None:
    """counts[key] added to each row of a count table (made when missing)."""
    if not counts:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        # One statement over arrays (an executemany of upserts takes 17 s for 90,000 rows).
        columns = [*keys, "incidents"]
        arrays = list(zip(*[(*key, n) for key, n in counts.items()], strict=True))
        casts = ", ".join(f"CAST(:c{i} AS {table.c[c].type.compile(dialect)}[])" for i, c in enumerate(columns))
        session.execute(
            sql_text(
                f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "  # noqa: S608 - constant names
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET incidents = {table.name}.incidents + excluded.incidents"
            ),
            {f"c{i}": list(values) for i, values in enumerate(arrays)},
        )
        return
    from sqlalchemy.dialects.sqlite import insert as upsert

    statement = upsert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={"incidents": table.c.incidents + statement.excluded.incidents}
    )
    rows = [dict(zip(keys, key, strict=True)) | {"incidents": n} for key, n in counts.items()]
    for first in range(0, len(rows), _CHUNK):
        session.execute(statement, rows[first:first + _CHUNK])


def _new_ids(session: Session, total: int) -> list[int]:
    """Ids for `total` new incidents (rows are inserted with their ids: executemany with
    RETURNING runs row by row on SQLite, and COPY returns nothing).

    PostgreSQL: taken from the incidents' sequence, as any insert would take them. SQLite: the
    transaction first takes the database's write lock (an update that changes nothing), so no
    one else can add incidents until it ends; the ids then follow the largest.
    """
    if session.get_bind().dialect.name == "postgresql":
        return sorted(session.execute(
            select(func.nextval(func.pg_get_serial_sequence("incidents", "id"))).select_from(
                func.generate_series(1, total)
            )
        ).scalars().all())
    session.execute(Incident.__table__.update().where(Incident.id == -1).values(version=Incident.version))
    largest = session.scalar(select(func.max(Incident.id))) or 0
    return list(range(largest + 1, largest + 1 + total))


# --- templates and reports -------------------------------------------------------------------------


def template_csv() -> bytes:
    """The CSV template: the column headings (UTF-8 with a BOM, as Excel writes CSV UTF-8)."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerow(COLUMN_NAMES)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """The Excel template: an "Incidents" sheet with the headings (dates and codes as text), and
    a "Columns" sheet saying what each column holds, whether it is required, and an example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Incidents"
    sheet.append(COLUMN_NAMES)
    for index, column in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = {"title": 40, "description": 60}.get(column.name, 18)
        if column.name in ("area_code", "recipients", "listed_organisations", "strands", "marking"):
            for row in range(2, 1002):
                sheet[f"{letter}{row}"].number_format = "@"  # text, so codes are kept as typed
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("Columns")
    guide.append(["Column", "Required", "What it holds", "Example"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in TEMPLATE_COLUMNS:
        guide.append([column.name, "Required" if column.required else "Optional", column.description, column.example])
    for letter, width in zip("ABCD", (22, 10, 90, 40), strict=True):
        guide.column_dimensions[letter].width = width
    guide.append([])
    guide.append(["Put the incidents on the Incidents sheet, one a row, below the headings; leave the "
                  "headings as they are. The categories and strands accepted are listed on the import page."])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def errors_csv(report: ImportReport) -> bytes:
    """The report's problems as a CSV file (Row, Column, Problem), to work through in a spreadsheet."""
    from .exports import escape_cell

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Row", "Column", "Problem"])
    if report.refused:
        writer.writerow(["", "", escape_cell(report.refused)])
    for e in report.errors:
        writer.writerow([e.row, escape_cell(e.column), escape_cell(e.message)])
    if report.error_count > len(report.errors):
        writer.writerow(["", "", f"... and {report.error_count - len(report.errors):,} more problems"])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def accepted_values(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """(column, [(code, name)]) of the categories and strands the import accepts, for the page
    beside the template."""
    categories = session.execute(
        select(IncidentCategory.code, IncidentCategory.label)
        .where(IncidentCategory.active.is_(True)).order_by(IncidentCategory.sort_order)
    ).all()
    strands = session.execute(
        select(Strand.code, Strand.label).where(Strand.active.is_(True)).order_by(Strand.bit)
    ).all()
    return [("category", list(categories)), ("strands", list(strands))]


__all__: Sequence[str] = [
    "MAX_BYTES", "MAX_ROWS", "TEMPLATE_COLUMNS", "TemplateColumn", "RowError", "ImportReport",
    "import_incidents", "template_csv", "template_xlsx", "errors_csv", "refused_report", "size_refusal",
    "accepted_values",
]
