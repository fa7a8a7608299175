"""The packing slip put in the parcel: the order and its lines as packed, on A4."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from openoms.documents.common import Address, Language
from openoms.documents.tables import address_block, grid, paragraph

_TEXT = {
    "fr": {
        "title": "Bon de livraison",
        "order": "Commande",
        "packed": "Préparée le",
        "from": "Expéditeur",
        "to": "Destinataire",
        "sku": "Référence",
        "name": "Article",
        "quantity": "Quantité",
        "total": "Total des articles",
    },
    "en": {
        "title": "Packing slip",
        "order": "Order",
        "packed": "Packed on",
        "from": "From",
        "to": "To",
        "sku": "SKU",
        "name": "Item",
        "quantity": "Quantity",
        "total": "Total items",
    },
}


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PackingSlip:
    order_id: str
    fulfilment_id: str
    packed_on: date
    sender: Address
    addressee: Address
    lines: tuple[SlipLine, ...]
    language: Language = "fr"


def packing_slip_pdf(slip: PackingSlip) -> bytes:
    text = _TEXT[slip.language]
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=True,
        title=f"{text['title']} {slip.order_id}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    rows: list[list[object]] = [
        [line.sku, paragraph(line.name), str(line.quantity)] for line in slip.lines
    ]
    total = sum(line.quantity for line in slip.lines)
    story: list[Flowable] = [
        Paragraph(text["title"], styles["Title"]),
        paragraph(f"{text['order']} {slip.order_id}", "Heading3"),
        Paragraph(f"{text['packed']} {slip.packed_on.isoformat()}", styles["BodyText"]),
        Spacer(0, 6 * mm),
        Table(
            [[address_block(text["from"], slip.sender), address_block(text["to"], slip.addressee)]],
            colWidths=[90 * mm, 90 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
        Spacer(0, 8 * mm),
        grid(
            [text["sku"], text["name"], text["quantity"]],
            rows,
            [text["total"], "", str(total)],
            [45 * mm, 105 * mm, 30 * mm],
        ),
    ]
    document.build(story)
    return buffer.getvalue()
