"""The pickup manifest: what the carrier's driver signs for at a location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from openoms.documents.common import Address, Language, kilograms
from openoms.documents.tables import address_block, grid, paragraph

_TEXT = {
    "fr": {
        "title": "Bordereau de remise",
        "pickup": "Ramasse",
        "carrier": "Transporteur",
        "date": "Date",
        "location": "Lieu d'enlèvement",
        "tracking": "N° de suivi",
        "weight": "Poids",
        "order": "Commande",
        "total": "Total : {n} colis",
        "handed": "Remis par (nom, signature)",
        "received": "Reçu par le transporteur (nom, signature)",
    },
    "en": {
        "title": "Pickup manifest",
        "pickup": "Pickup",
        "carrier": "Carrier",
        "date": "Date",
        "location": "Collected at",
        "tracking": "Tracking number",
        "weight": "Weight",
        "order": "Order",
        "total": "Total: {n} parcels",
        "handed": "Handed over by (name, signature)",
        "received": "Received by the carrier (name, signature)",
    },
}


@dataclass(frozen=True, slots=True)
class ManifestParcel:
    tracking_number: str
    weight_g: int
    order_id: str


@dataclass(frozen=True, slots=True)
class Manifest:
    pickup_id: str
    carrier: str
    location: Address
    day: date
    parcels: tuple[ManifestParcel, ...]
    language: Language = "fr"


def manifest_pdf(manifest: Manifest) -> bytes:
    text = _TEXT[manifest.language]
    language = manifest.language
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=True,
        title=f"{text['title']} {manifest.pickup_id}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    rows: list[list[object]] = [
        [parcel.tracking_number, kilograms(parcel.weight_g, language), parcel.order_id]
        for parcel in manifest.parcels
    ]
    weight = sum(parcel.weight_g for parcel in manifest.parcels)
    total = [text["total"].format(n=len(manifest.parcels)), kilograms(weight, language), ""]
    parcels = grid(
        [text["tracking"], text["weight"], text["order"]], rows, total, [60 * mm, 30 * mm, 90 * mm]
    )
    parcels.setStyle(
        TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("ALIGN", (2, 0), (2, -1), "LEFT")])
    )
    story: list[Flowable] = [
        paragraph(text["title"], "Title"),
        paragraph(f"{text['pickup']} {manifest.pickup_id}", "Heading3"),
        paragraph(f"{text['carrier']}: {manifest.carrier}", "Heading2"),
        paragraph(f"{text['date']}: {manifest.day.isoformat()}"),
        Spacer(0, 4 * mm),
        Table([[address_block(text["location"], manifest.location)]], colWidths=[180 * mm]),
        Spacer(0, 6 * mm),
        parcels,
        Spacer(0, 12 * mm),
        _signatures(text["handed"], text["received"]),
    ]
    document.build(story)
    return buffer.getvalue()


def _signatures(handed: str, received: str) -> Table:
    """Two empty boxes, kept together on the last page."""
    table = Table(
        [[paragraph(handed), paragraph(received)], ["", ""]],
        colWidths=[90 * mm, 90 * mm],
        rowHeights=[None, 30 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 1), (0, 1), 0.75, colors.black),
                ("BOX", (1, 1), (1, 1), 0.75, colors.black),
            ]
        )
    )
    return table
