"""PDF layout with ReportLab (BSD licence): a title, the key facts, then tables. Knows nothing of billing;
service.py builds the content from the data, with the figures already formatted.

Text is escaped before ReportLab's mini-markup sees it, so a description with `<` or `&` prints as written.
Output is reproducible (`invariant`): the same data gives the same bytes."""

from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

COMPANY = "Billing support"


@dataclass
class Section:
    heading: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    widths: list[float] | None = None  # fractions of the text width, one per column
    empty: str = "None."
    note: str | None = None


@dataclass
class Document:
    title: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    footer: str = ""


_STYLES = getSampleStyleSheet()
_CELL = ParagraphStyle("cell", parent=_STYLES["BodyText"], fontSize=9, leading=11)
_CELL_RIGHT = ParagraphStyle("cell_right", parent=_CELL, alignment=TA_RIGHT)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="Helvetica-Bold")
_HEAD_RIGHT = ParagraphStyle("head_right", parent=_HEAD, alignment=TA_RIGHT)
_SMALL = ParagraphStyle("small", parent=_STYLES["Normal"])


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(value), style)


def _table(section: Section, width: float) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph(escape(section.heading), _STYLES["Heading3"])]
    if section.note:
        flow.append(_text(section.note, _CELL))
    if not section.rows:
        flow.append(_text(section.empty, _CELL))
        return flow
    last = len(section.columns) - 1
    data = [[_text(c, _HEAD_RIGHT if i == last else _HEAD) for i, c in enumerate(section.columns)]]
    data += [
        [_text(c, _CELL_RIGHT if i == last else _CELL) for i, c in enumerate(row)] for row in section.rows
    ]
    fractions = section.widths or [1 / len(section.columns)] * len(section.columns)
    table = Table(data, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    flow.append(table)
    return flow


def render(document: Document) -> bytes:
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, title=document.title, author=COMPANY, leftMargin=18 * mm, rightMargin=18 * mm,
        topMargin=16 * mm, bottomMargin=16 * mm, invariant=True,
    )
    flow: list[Flowable] = [
        _text(COMPANY, _SMALL),
        Paragraph(escape(document.title), _STYLES["Title"]),
    ]
    facts = Table(
        [[_text(name, _HEAD), _text(value, _CELL)] for name, value in document.facts],
        colWidths=[pdf.width * 0.3, pdf.width * 0.7],
    )
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    flow.append(facts)
    for section in document.sections:
        flow.append(Spacer(1, 4 * mm))
        flow.extend(_table(section, pdf.width))
    if document.footer:
        flow += [Spacer(1, 6 * mm), _text(document.footer, _CELL)]
    pdf.build(flow)
    return buffer.getvalue()
