"""The printed documents, read back as a person and a scanner would (tests/pdf_reading.py)."""

from __future__ import annotations

from datetime import date

import pytest

from openoms.documents import (
    Address,
    Manifest,
    ManifestParcel,
    PackingSlip,
    ReturnLabel,
    ShippingLabel,
    SlipLine,
    label_pdf,
    manifest_pdf,
    packing_slip_pdf,
    return_label_pdf,
)
from tests.pdf_reading import code128_values, page_sizes_mm, pdf_text

STORE = Address("Boutique Lyon Part-Dieu", ("17 rue du Docteur Bouchut", "69003 Lyon", "FR"))
CUSTOMER = Address("Élodie Martin", ("Lyon 45.7600, 4.8500", "FR"))
RETURN_ID = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def a_label(**changes: object) -> ShippingLabel:
    fields: dict[str, object] = {
        "tracking_number": "CO4812345678901",
        "carrier_service": "Colissimo Domicile",
        "weight_g": 1234,
        "parcel": 2,
        "parcels": 3,
        "sender": STORE,
        "addressee": CUSTOMER,
        "order_id": "0193a1b2-0000-7000-8000-000000000001",
    }
    fields.update(changes)
    return ShippingLabel(**fields)  # type: ignore[arg-type]


def test_a_label_is_100_by_150_mm_and_its_barcode_scans_as_the_tracking_number() -> None:
    pdf = label_pdf(a_label())

    assert page_sizes_mm(pdf) == [(100.0, 150.0)]
    assert code128_values(pdf, dpi=203) == ["CO4812345678901"]


def test_a_label_prints_service_weight_rank_sender_and_addressee() -> None:
    text = pdf_text(label_pdf(a_label()))

    for expected in (
        "CO4812345678901",
        "Colissimo Domicile",
        "1,234 kg",
        "Colis 2 sur 3",
        "EXPÉDITEUR",
        "Boutique Lyon Part-Dieu",
        "17 rue du Docteur Bouchut",
        "DESTINATAIRE",
        "Élodie Martin",
        "Lyon 45.7600, 4.8500",
    ):
        assert expected in text
    assert text.index("Boutique Lyon Part-Dieu") < text.index("Élodie Martin")


def test_a_label_in_english_says_parcel_k_of_n_and_grams_with_a_point() -> None:
    text = pdf_text(label_pdf(a_label(language="en", weight_g=250, parcel=1, parcels=1)))

    assert "Parcel 1 of 1" in text
    assert "0.250 kg" in text
    assert "FROM" in text
    assert "TO" in text


def test_the_same_label_gives_the_same_bytes() -> None:
    assert label_pdf(a_label()) == label_pdf(a_label())


def test_a_tracking_number_too_long_to_scan_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        label_pdf(a_label(tracking_number="X" * 60))


def test_a_packing_slip_is_a4_with_the_lines_as_packed_in_french() -> None:
    slip = PackingSlip(
        order_id="order-17",
        fulfilment_id="fulfilment-3",
        packed_on=date(2026, 12, 1),
        sender=STORE,
        addressee=CUSTOMER,
        lines=(
            SlipLine("SKU-RED-42", "Baskets rouges & blanches", 2),
            SlipLine("SKU-SOCK", "Chaussettes <laine>", 3),
        ),
    )
    pdf = packing_slip_pdf(slip)
    text = pdf_text(pdf)

    assert page_sizes_mm(pdf) == [(210.0, 297.0)]
    for expected in (
        "Bon de livraison",
        "Commande order-17",
        "Préparée le 2026-12-01",
        "SKU-RED-42",
        "Baskets rouges & blanches",
        "Chaussettes <laine>",
        "Total des articles",
    ):
        assert expected in text
    assert text.split("Total des articles")[1].split()[0] == "5"


def test_a_packing_slip_in_english_speaks_english() -> None:
    slip = PackingSlip("o", "f", date(2026, 12, 1), STORE, CUSTOMER, (SlipLine("A", "B", 1),), "en")
    text = pdf_text(packing_slip_pdf(slip))

    assert "Packing slip" in text
    assert "Quantity" in text
    assert "Total items" in text
    assert "Bon de livraison" not in text


def test_a_manifest_lists_every_parcel_with_totals_over_pages_and_signature_boxes() -> None:
    parcels = tuple(ManifestParcel(f"CO{i:013d}", 500 + i, f"order-{i}") for i in range(1, 81))
    manifest = Manifest("pickup-9", "Colissimo", STORE, date(2026, 12, 1), parcels)
    pdf = manifest_pdf(manifest)
    text = pdf_text(pdf)

    assert len(page_sizes_mm(pdf)) > 1
    assert set(page_sizes_mm(pdf)) == {(210.0, 297.0)}
    assert "Bordereau de remise" in text
    assert "Transporteur: Colissimo" in text
    assert "Date: 2026-12-01" in text
    for parcel in parcels:
        assert parcel.tracking_number in text
        assert parcel.order_id in text
    assert "Total : 80 colis" in text
    assert f"{sum(p.weight_g for p in parcels) / 1000:.3f} kg".replace(".", ",") in text
    assert "Remis par (nom, signature)" in text
    assert "Reçu par le transporteur (nom, signature)" in text


def test_a_return_label_scans_as_the_return_id_from_the_customer_to_the_location() -> None:
    label = ReturnLabel(RETURN_ID, "order-17", CUSTOMER, STORE, "Colissimo Retour", "en")
    pdf = return_label_pdf(label)
    text = pdf_text(pdf)

    assert page_sizes_mm(pdf) == [(100.0, 150.0)]
    assert code128_values(pdf, dpi=203) == [RETURN_ID]
    assert "RETURN" in text
    assert "Order order-17" in text
    assert "Colissimo Retour" in text
    assert text.index("FROM") < text.index("Élodie Martin") < text.index("TO")
    assert text.index("TO") < text.index("Boutique Lyon Part-Dieu")
