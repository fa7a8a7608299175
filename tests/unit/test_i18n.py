"""The store app's catalogue: every word the templates ask for exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.reservations import ReservationStatus
from openoms.domain.returns import Grade, Inspection, ReturnReason, ReturnStatus
from openoms.services.fulfilment import RejectReason
from openoms.web.i18n import CATALOGUE, LANGUAGES, negotiate, translate
from openoms.web.reservations import ACTIONS

TEMPLATES = Path(__file__).parents[2] / "src" / "openoms" / "web" / "templates"
KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']\s*[,)]""")


def test_every_key_the_templates_use_is_in_the_catalogue() -> None:
    used = {key for path in TEMPLATES.glob("*.html") for key in KEY.findall(path.read_text())}
    assert len(used) > 50
    assert sorted(used - set(CATALOGUE)) == []


def test_the_keys_built_from_values_exist_for_every_value() -> None:
    built = [f"status.{s.value}" for s in FulfilmentStatus]
    built += [f"method.{m.value}" for m in DeliveryMethod]
    built += [f"reject.{r.value}" for r in RejectReason]
    built += [f"collect.by_{how}" for how in ("code", "name")]
    built += [f"reservations.{s.value}" for s in ReservationStatus]
    built += [f"reservations.{action}" for action in ACTIONS]
    built += [f"returns.{i.value}" for i in Inspection]
    built += [f"returns.grade_{g.value}" for g in Grade]
    built += [f"returns.reason_{r.value}" for r in ReturnReason]
    built += [f"returns.status_{s.value}" for s in ReturnStatus]
    assert [key for key in built if key not in CATALOGUE] == []


def test_every_entry_has_both_languages_and_french_differs_where_words_do() -> None:
    for key, texts in CATALOGUE.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts.values()), key
    assert translate("fr", "sign_in.password") == "Mot de passe"


@pytest.mark.parametrize(
    ("header", "cookie", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", None, "fr"),
        ("de-DE,en;q=0.5,fr;q=0.7", None, "fr"),
        ("de-DE", None, "en"),
        (None, None, "en"),
        ("fr;q=0", None, "en"),
        ("en-GB", "fr", "fr"),
        ("fr", "xx", "fr"),
        ("fr;q=bad,en", None, "en"),
    ],
)
def test_the_language_is_the_one_chosen_else_the_browsers_best(
    header: str | None, cookie: str | None, expected: str
) -> None:
    assert negotiate(header, cookie) == expected
