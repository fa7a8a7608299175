"""What every document shares: addresses, the two languages, fonts and the barcode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

Language = Literal["fr", "en"]

FONT = "Helvetica"
BOLD = "Helvetica-Bold"

LABEL_SIZE = (100 * mm, 150 * mm)
"""The usual thermal label: 100 x 150 mm (4 x 6 in)."""

MIN_BAR_WIDTH = 0.25 * mm
"""Two dots of a 203 dpi label printer: narrower bars blur and do not scan."""


@dataclass(frozen=True, slots=True)
class Address:
    """A name and the lines under it, as they are printed (street, postal code and city, ...)."""

    name: str
    lines: tuple[str, ...] = ()


def kilograms(weight_g: int, language: Language) -> str:
    """1234 g as "1.234 kg", or "1,234 kg" in French."""
    text = f"{weight_g / 1000:.3f} kg"
    return text.replace(".", ",") if language == "fr" else text


def draw_code128(
    canvas: Canvas,
    value: str,
    *,
    x: float,
    y: float,
    width: float,
    height: float,
    vertical: bool = False,
) -> None:
    """Draws `value` as Code 128 centred in the box, its bars as wide as the box allows.

    `vertical` reads the barcode from the bottom of the box to its top: a long value gets the
    label's length. The quiet zones (10 bars each side) are part of the box. Bars narrower than
    MIN_BAR_WIDTH do not scan: a value too long for the box is refused rather than printed
    unreadable.
    """
    length, bars = (height, width) if vertical else (width, height)
    probe = Code128(value, barWidth=1, quiet=True)
    bar_width = length / probe.width
    if bar_width < MIN_BAR_WIDTH:
        raise ValueError(f"{value!r} is too long for a Code 128 barcode {length / mm:.0f} mm long")
    barcode = Code128(value, barWidth=bar_width, barHeight=bars, quiet=True)
    offset = (length - barcode.width) / 2
    if not vertical:
        barcode.drawOn(canvas, x + offset, y)
        return
    canvas.saveState()
    canvas.translate(x + width, y)
    canvas.rotate(90)
    barcode.drawOn(canvas, offset, 0)
    canvas.restoreState()


def draw_address(
    canvas: Canvas, heading: str, address: Address, *, x: float, top: float, size: float
) -> float:
    """Draws a heading and the address below it from `top`; returns the y under the last line."""
    canvas.setFont(FONT, 7)
    canvas.drawString(x, top, heading)
    y = top - size * 1.3
    canvas.setFont(BOLD, size)
    canvas.drawString(x, y, address.name)
    canvas.setFont(FONT, size)
    for line in address.lines:
        y -= size * 1.25
        canvas.drawString(x, y, line)
    return y - size * 0.6
