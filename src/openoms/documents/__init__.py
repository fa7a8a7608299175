"""Printed documents as PDF: pure functions from small frozen dataclasses to bytes.

No database and no clock: a service gathers what a document shows and calls one of
`label_pdf`, `packing_slip_pdf`, `manifest_pdf`, `return_label_pdf`. Rendering is deterministic
(reportlab's invariant mode), so the same data gives the same bytes.
"""

from openoms.documents.common import Address, Language
from openoms.documents.label import ShippingLabel, label_pdf
from openoms.documents.manifest import Manifest, ManifestParcel, manifest_pdf
from openoms.documents.packing_slip import PackingSlip, SlipLine, packing_slip_pdf
from openoms.documents.return_label import ReturnLabel, return_label_pdf

__all__ = [
    "Address",
    "Language",
    "Manifest",
    "ManifestParcel",
    "PackingSlip",
    "ReturnLabel",
    "ShippingLabel",
    "SlipLine",
    "label_pdf",
    "manifest_pdf",
    "packing_slip_pdf",
    "return_label_pdf",
]
