"""The shipping label stuck on a parcel: 100 x 150 mm, the tracking number as Code 128."""

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
    kilograms,
)

_TEXT = {
    "fr": {"from": "EXPÉDITEUR", "to": "DESTINATAIRE", "parcel": "Colis", "of": "sur"},
    "en": {"from": "FROM", "to": "TO", "parcel": "Parcel", "of": "of"},
}


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    tracking_number: str
    carrier_service: str
    """As the carrier names its product, e.g. "Colissimo Domicile"."""
    weight_g: int
    parcel: int
    """This parcel's rank, from 1, among the `parcels` of its fulfilment."""
    parcels: int
    sender: Address
    addressee: Address
    order_id: str
    language: Language = "fr"


def label_pdf(label: ShippingLabel) -> bytes:
    text = _TEXT[label.language]
    width, height = LABEL_SIZE
    margin = 5 * mm
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)
    canvas.setTitle(f"{label.carrier_service} {label.tracking_number}")

    canvas.setFont(BOLD, 13)
    canvas.drawString(margin, height - margin - 11, label.carrier_service)
    canvas.setFont(FONT, 9)
    canvas.drawRightString(
        width - margin,
        height - margin - 11,
        f"{text['parcel']} {label.parcel} {text['of']} {label.parcels}",
    )
    canvas.drawRightString(
        width - margin, height - margin - 23, kilograms(label.weight_g, label.language)
    )
    canvas.line(margin, height - 32 * mm, width - margin, height - 32 * mm)

    y = draw_address(canvas, text["from"], label.sender, x=margin, top=height - 36 * mm, size=8)
    canvas.line(margin, y, width - margin, y)
    draw_address(canvas, text["to"], label.addressee, x=margin, top=y - 5 * mm, size=12)

    canvas.line(margin, 52 * mm, width - margin, 52 * mm)
    draw_code128(
        canvas, label.tracking_number, x=margin, y=18 * mm, width=width - 2 * margin, height=30 * mm
    )
    canvas.setFont(BOLD, 12)
    canvas.drawCentredString(width / 2, 12 * mm, label.tracking_number)
    canvas.setFont(FONT, 7)
    canvas.drawCentredString(width / 2, 6 * mm, label.order_id)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
