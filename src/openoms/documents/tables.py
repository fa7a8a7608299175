"""The A4 documents' building blocks: an address block and a grid with a header and a total."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from openoms.documents.common import BOLD, Address


def address_block(heading: str, address: Address) -> list[Flowable]:
    styles = getSampleStyleSheet()
    lines = [f"<b>{_escape(address.name)}</b>", *(_escape(line) for line in address.lines)]
    return [
        Paragraph(_escape(heading), styles["Heading4"]),
        Paragraph("<br/>".join(lines), styles["BodyText"]),
    ]


def grid(
    header: list[str], rows: list[list[object]], total: list[str], widths: list[float]
) -> Table:
    """A table repeating its header on every page, its last row the total in bold."""
    table = Table([header, *rows, total], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), BOLD),
                ("FONTNAME", (0, -1), (-1, -1), BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _escape(text: str) -> str:
    """Paragraphs read a little XML: a name with "&" or "<" must print as it is written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def paragraph(text: str, style: str = "BodyText") -> Paragraph:
    return Paragraph(_escape(text), getSampleStyleSheet()[style])
