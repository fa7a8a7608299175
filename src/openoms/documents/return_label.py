"""The label a customer sticks on a return sent by carrier: the return's id as Code 128."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from openoms.documents.common import (
    BOLD,
    FONT,
    LABEL_SIZE,
    Address,
    Language,
    draw_address,
    draw_code128,
)

_TEXT = {
    "fr": {"title": "RETOUR", "from": "EXPÉDITEUR", "to": "DESTINATAIRE", "order": "Commande"},
    "en": {"title": "RETURN", "from": "FROM", "to": "TO", "order": "Order"},
}


@dataclass(frozen=True, slots=True)
class ReturnLabel:
    return_id: str
    order_id: str
    customer: Address
    """The sender: the customer sends the parcel back."""
    location: Address
    """The addressee: the location that receives and inspects the return."""
    carrier_service: str = ""
    language: Language = "fr"


def return_label_pdf(label: ReturnLabel) -> bytes:
    text = _TEXT[label.language]
    width, height = LABEL_SIZE
    margin = 5 * mm
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)
    canvas.setTitle(f"{text['title']} {label.return_id}")

    # A return id (a UUID) is long: its barcode runs up the label's right edge, the text beside.
    band = 22 * mm
    draw_code128(
        canvas,
        label.return_id,
        x=width - margin - band,
        y=margin,
        width=band,
        height=height - 2 * margin,
        vertical=True,
    )
    right = width - 2 * margin - band
    canvas.setFont(BOLD, 16)
    canvas.drawString(margin, height - margin - 14, text["title"])
    canvas.setFont(FONT, 8)
    canvas.drawString(margin, height - margin - 26, label.return_id)
    canvas.drawString(margin, height - margin - 36, f"{text['order']} {label.order_id}")
    if label.carrier_service:
        canvas.drawString(margin, height - margin - 46, label.carrier_service)
    canvas.line(margin, height - 25 * mm, right, height - 25 * mm)

    y = draw_address(canvas, text["from"], label.customer, x=margin, top=height - 30 * mm, size=8)
    canvas.line(margin, y, right, y)
    draw_address(canvas, text["to"], label.location, x=margin, top=y - 5 * mm, size=10)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
