"""The demo catalogue: styles in six categories, each sold in a few colours and a size run.

A SKU is one colour and size of a style, as at a fashion-and-home retailer. Demand is uneven the
way retail demand is: styles follow a Zipf law, and within a style the lead colour and the middle
sizes sell best. That popularity is returned with the SKUs because stock depth follows it, and so
should the baskets a benchmark draws.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from openoms.demo.assortment import CATEGORIES, Category, Product, Word
from openoms.domain.catalog import Sku

_AUDIENCE_TAGS = {"Men's": "audience:men", "Women's": "audience:women", "Kids'": "audience:kids"}
_GS1_COMPANY_PREFIX = "3770012"
"""A French (GS1 300-379) company prefix; the five digits after it number the SKUs."""
_ZIPF_EXPONENT = 0.9
_MAX_COLOURS = 4
_BULKY_GRAMS = 4_000
_BULKY_MM = 600
_BESTSELLER_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class _Style:
    category: Category
    product: Product
    audience: str
    line: Word
    qualifier: Word


@dataclass(frozen=True, slots=True)
class _Variant:
    sku: Sku
    style: int
    appeal: float
    """Popularity relative to the other variants of its style."""


def build_catalog(rng: random.Random, count: int) -> tuple[list[Sku], dict[str, float]]:
    """`count` SKUs and each one's share of demand (the shares sum to 1)."""
    if count < 1:
        raise ValueError(f"sku count must be at least 1, not {count}")
    style_numbers = itertools.count(10_001)
    variants = [
        variant
        for category, quota in _quotas(count).items()
        for variant in _category_variants(category, quota, style_numbers, rng)
    ]
    popularity = _popularity(variants, rng)
    skus = [_with_barcode(v.sku, n) for n, v in enumerate(variants, start=1)]
    return _tag_bestsellers(skus, popularity), popularity


def _quotas(count: int) -> dict[Category, int]:
    quotas = {category: round(spec.share * count) for category, spec in CATEGORIES.items()}
    quotas[Category.APPAREL] += count - sum(quotas.values())
    return quotas


def _category_variants(
    category: Category, quota: int, style_numbers: Iterator[int], rng: random.Random
) -> list[_Variant]:
    variants: list[_Variant] = []
    for style in _styles(category, rng):
        if len(variants) >= quota:
            return variants
        variants.extend(_style_variants(style, next(style_numbers), rng)[: quota - len(variants)])
    if len(variants) < quota:
        raise ValueError(f"the {category} word lists cannot name {quota} SKUs")
    return variants


def _styles(category: Category, rng: random.Random) -> list[_Style]:
    """Every name the word lists allow, shuffled: no two styles share a name."""
    spec = CATEGORIES[category]
    styles = [
        _Style(category, product, audience, line, qualifier)
        for product in spec.products
        for audience in product.audiences
        for line in spec.lines
        for qualifier in product.qualifiers
    ]
    rng.shuffle(styles)
    return styles


def _style_variants(style: _Style, number: int, rng: random.Random) -> list[_Variant]:
    product = style.product
    colours = rng.sample(product.colors, rng.randint(1, min(_MAX_COLOURS, len(product.colors))))
    colour_appeal = [1.0] + [rng.uniform(0.3, 0.8) for _ in colours[1:]]
    price = _charm(product.price * style.line[1] * style.qualifier[1] * rng.uniform(0.85, 1.2))
    weight = product.weight_g * rng.uniform(0.9, 1.1)
    dims = tuple(round(side * rng.uniform(0.95, 1.05)) for side in product.dims_mm)
    prefix = CATEGORIES[style.category].prefix
    tags = _tags(style, weight, dims)
    variants: list[_Variant] = []
    for (c, colour), (s, size) in itertools.product(enumerate(colours), enumerate(product.sizes)):
        offset = _size_offset(s, len(product.sizes))
        sku = Sku(
            code=f"{prefix}-{number}-{len(variants) + 1:02d}",
            name=_name(style, colour, size),
            weight_g=round(weight * (1 + 0.08 * offset)),
            length_mm=dims[0],
            width_mm=dims[1],
            height_mm=dims[2],
            price=price,
            category=style.category.value,
            tags=tags,
        )
        variants.append(_Variant(sku, number, colour_appeal[c] * (1 - 0.5 * abs(offset))))
    return variants


def _size_offset(index: int, count: int) -> float:
    """Where a size sits in its run, from -1 (smallest) to 1 (largest); 0 for a single size."""
    middle = (count - 1) / 2
    return (index - middle) / middle if middle else 0.0


def _charm(cents: float) -> int:
    """Retail price points: 24.99, 59.99, and 129.99 rather than 127.99 above 100 euros."""
    step = 500 if cents >= 10_000 else 100
    return max(1, round(cents / step)) * step - 1


def _name(style: _Style, colour: str, size: str) -> str:
    words = (style.audience, style.line[0], style.qualifier[0], style.product.noun, colour, size)
    return " ".join(word for word in words if word)


def _tags(style: _Style, weight: float, dims: tuple[int, ...]) -> frozenset[str]:
    tags = {f"category:{style.category}"}
    if style.audience:
        tags.add(_AUDIENCE_TAGS[style.audience])
    if weight >= _BULKY_GRAMS or max(dims) >= _BULKY_MM:
        tags.add("bulky")
    return frozenset(tags)


def _popularity(variants: list[_Variant], rng: random.Random) -> dict[str, float]:
    styles = sorted({v.style for v in variants})
    ranks = list(range(1, len(styles) + 1))
    rng.shuffle(ranks)
    style_weight = {s: rank**-_ZIPF_EXPONENT for s, rank in zip(styles, ranks, strict=True)}
    weights = {v.sku.code: style_weight[v.style] * v.appeal for v in variants}
    total = sum(weights.values())
    return {code: weight / total for code, weight in weights.items()}


def _tag_bestsellers(skus: list[Sku], popularity: dict[str, float]) -> list[Sku]:
    top = max(1, round(len(skus) * _BESTSELLER_SHARE))
    bestsellers = set(sorted(popularity, key=popularity.__getitem__, reverse=True)[:top])
    return [
        replace(sku, tags=sku.tags | {"bestseller"}) if sku.code in bestsellers else sku
        for sku in skus
    ]


def _with_barcode(sku: Sku, number: int) -> Sku:
    digits = f"{_GS1_COMPANY_PREFIX}{number:05d}"
    return replace(sku, barcode=digits + str(ean13_check_digit(digits)))


def ean13_check_digit(first_twelve: str) -> int:
    """GS1 check digit: weights 1 and 3 alternate from the left over the first twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return (10 - total % 10) % 10
