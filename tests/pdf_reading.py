"""Reading a PDF the OMS printed, as a person or a scanner would: its text, page size, barcodes.

Shared by the unit tests of the documents and the store app's e2e tests (which download them).
"""

from __future__ import annotations

from io import BytesIO

import pypdfium2
import zxingcpp
from pypdf import PdfReader

POINTS_PER_MM = 72 / 25.4


def pdf_text(pdf: bytes) -> str:
    """The text of every page, in order, as pypdf extracts it."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) of each page in millimetres, rounded to 0.1 mm."""
    return [
        (
            round(float(page.mediabox.width) / POINTS_PER_MM, 1),
            round(float(page.mediabox.height) / POINTS_PER_MM, 1),
        )
        for page in PdfReader(BytesIO(pdf)).pages
    ]


def code128_values(pdf: bytes, page: int = 0, dpi: int = 203) -> list[str]:
    """The Code 128 barcodes a scanner reads on the page rendered at `dpi` (a label printer's 203).

    The page is rasterised by PDFium (Chrome's PDF engine) and read by zxing-cpp: this is the
    barcode as printed, not the string the PDF was made from.
    """
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.Code128)
    )
    return [barcode.text for barcode in found]
