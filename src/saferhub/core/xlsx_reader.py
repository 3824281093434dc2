"""Fast reading of the cell values of XLSX workbooks, row by row, for importers. openpyxl builds
an object per cell and reads a 20,000-row tracker in tens of seconds; this streams the sheet XML."""
from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class WorkbookUnreadable(Exception):
    """The file is not an XLSX workbook this reader understands."""


def _text(element) -> str:
    """The text of a shared or inline string: its own <t> or its runs' <t>, without phonetic runs."""
    own = element.find(f"{MAIN}t")
    if own is not None:
        return own.text or ""
    return "".join(t.text or "" for run in element.iter(f"{MAIN}r") for t in run.iter(f"{MAIN}t"))


_COLUMNS: dict[str, int] = {}


def _column_index(reference: str) -> int:
    """0 for column A of a cell reference such as 'A12'."""
    letters = reference.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        index = _COLUMNS[letters] = index - 1
    return index


class XlsxWorkbook:
    """The sheets of one workbook and their cell values: text, numbers, booleans, and dates
    (as datetime) wherever the cell's number format is a date format."""

    def __init__(self, path: str | Path):
        try:
            self._zip = zipfile.ZipFile(path)
            workbook = fromstring(self._zip.read("xl/workbook.xml"))
            relations = fromstring(self._zip.read("xl/_rels/workbook.xml.rels"))
        except (zipfile.BadZipFile, KeyError, OSError, SyntaxError) as error:
            raise WorkbookUnreadable(str(error)) from error
        targets, kinds = {}, {}
        for relation in relations.iter(f"{PKG_RELS}Relationship"):
            target = relation.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[relation.get("Id")] = target
            kinds[relation.get("Type", "").rsplit("/", 1)[-1]] = target
        self._sheets: dict[str, str] = {}
        for sheet in workbook.iter(f"{MAIN}sheet"):
            target = targets.get(sheet.get(f"{DOC_RELS}id"))
            if target:
                self._sheets[sheet.get("name", "")] = target
        properties = workbook.find(f"{MAIN}workbookPr")
        uses_1904 = properties is not None and properties.get("date1904") in {"1", "true"}
        self._epoch = CALENDAR_MAC_1904 if uses_1904 else CALENDAR_WINDOWS_1900
        self._strings = self._shared_strings(kinds.get("sharedStrings"))
        self._date_styles = self._date_style_indexes(kinds.get("styles"))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> XlsxWorkbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self._sheets)

    def _shared_strings(self, part: str | None) -> list[str]:
        if not part or part not in self._zip.namelist():
            return []
        strings = []
        with self._zip.open(part) as stream:
            for _event, element in iterparse(stream):
                if element.tag == f"{MAIN}si":
                    strings.append(_text(element))
                    element.clear()
        return strings

    def _date_style_indexes(self, part: str | None) -> set[int]:
        if not part or part not in self._zip.namelist():
            return set()
        styles = fromstring(self._zip.read(part))
        custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in styles.iter(f"{MAIN}numFmt")}
        cell_formats = styles.find(f"{MAIN}cellXfs")
        dates = set()
        for index, xf in enumerate(cell_formats if cell_formats is not None else []):
            number_format = int(xf.get("numFmtId", 0))
            code = custom.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
            if code and is_date_format(code):
                dates.add(index)
        return dates

    def rows(self, sheet_name: str) -> Iterator[tuple[int, list[Any]]]:
        """Each row that has cells, as (spreadsheet row number, values by column from A)."""
        part = self._sheets[sheet_name]
        row_tag, cell_tag = f"{MAIN}row", f"{MAIN}c"
        value_tag, inline_tag = f"{MAIN}v", f"{MAIN}is"
        with self._zip.open(part) as stream:
            number = 0
            for _event, element in iterparse(stream):
                if element.tag != row_tag:
                    continue
                number = int(element.get("r") or number + 1)
                values: list[Any] = []
                for cell in element.iter(cell_tag):
                    reference = cell.get("r")
                    column = _column_index(reference) if reference else len(values)
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    values.append(self._value(cell, value_tag, inline_tag))
                element.clear()
                yield number, values

    def _value(self, cell, value_tag: str, inline_tag: str) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(inline_tag)
            return _text(inline) if inline is not None else None
        raw = cell.findtext(value_tag)
        if raw is None:
            return None
        if kind == "s":
            return self._strings[int(raw)]
        if kind in {"str", "e"}:
            return raw
        if kind == "b":
            return raw == "1"
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(raw)
            except ValueError:
                return raw
        number = float(raw)
        if int(cell.get("s", 0)) in self._date_styles:
            return from_excel(number, self._epoch)
        return int(number) if number.is_integer() else number
