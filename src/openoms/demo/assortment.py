"""What the demo retailer sells: categories, products and the words that name their styles.

A style's name is built from these lists ("Women's Relaxed Merino Crew Sweater"), and its price
from the product's base price and the factors of the words chosen, so that names stay believable
and prices match them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    APPAREL = "apparel"
    SHOES = "shoes"
    HOME = "home"
    ELECTRONICS = "electronics"
    SPORTS = "sports"
    BEAUTY = "beauty"


Word = tuple[str, float]
"""A word of a style's name and the factor it puts on the price ("Cashmere-Blend" costs more)."""

_BLANK = ("",)
"""An empty slot in a name: no size, no audience, no colour."""
_NO_QUALIFIER: tuple[Word, ...] = (("", 1.0),)


@dataclass(frozen=True, slots=True)
class Product:
    """A product type; `price` (cents) is for plain words, `dims_mm` is the packed size."""

    noun: str
    price: int
    weight_g: int
    dims_mm: tuple[int, int, int]
    qualifiers: tuple[Word, ...]
    colors: tuple[str, ...]
    sizes: tuple[str, ...] = _BLANK
    audiences: tuple[str, ...] = _BLANK


@dataclass(frozen=True, slots=True)
class CategorySpec:
    prefix: str
    share: float
    lines: tuple[Word, ...]
    products: tuple[Product, ...]


_ADULT = ("XS", "S", "M", "L", "XL", "XXL")
_KIDS = ("4Y", "6Y", "8Y", "10Y", "12Y", "14Y")
_WAIST = ("W28", "W30", "W32", "W34", "W36", "W38")
_ADULT_SHOES = tuple(f"EU {n}" for n in range(36, 47))
_KIDS_SHOES = tuple(f"EU {n}" for n in range(28, 36))
_ADULTS = ("Men's", "Women's")
_KIDS_ONLY = ("Kids'",)
_CLOTHES = (
    "Navy",
    "Black",
    "Heather Grey",
    "White",
    "Olive",
    "Burgundy",
    "Camel",
    "Ecru",
    "Sky Blue",
    "Forest Green",
)
_LEATHER = ("Black", "White", "Brown", "Tan", "Navy", "Grey", "Off-White")
_INTERIOR = ("White", "Natural", "Sage", "Terracotta", "Charcoal", "Sand", "Blush", "Ochre")
_DEVICE = ("Black", "White", "Silver", "Midnight Blue")
_SPORT = ("Black", "Red", "Royal Blue", "Neon Yellow", "Grey", "Green")
_SHADES = ("Rouge 01", "Nude 02", "Coral 03", "Berry 04", "Plum 05", "Rose 06")
_SCENTS = ("Amber", "Vetiver", "Iris", "Neroli", "Fig")

CATEGORIES: dict[Category, CategorySpec] = {
    Category.APPAREL: CategorySpec(
        "APP",
        0.35,
        (
            ("Classic", 1.0),
            ("Relaxed", 1.0),
            ("Slim-Fit", 1.0),
            ("Essential", 0.8),
            ("Heritage", 1.2),
            ("Everyday", 0.9),
        ),
        (
            Product(
                "Crew Sweater",
                5999,
                420,
                (320, 260, 50),
                (("Merino", 1.0), ("Lambswool", 0.9), ("Cashmere-Blend", 1.8), ("Cotton", 0.7)),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "T-Shirt",
                1999,
                170,
                (300, 220, 20),
                (("Organic Cotton", 1.0), ("Cotton", 0.8), ("Linen", 1.4)),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Jeans",
                6999,
                650,
                (350, 280, 50),
                (("Stretch Denim", 1.0), ("Raw Denim", 1.3), ("Recycled Denim", 1.1)),
                ("Indigo", "Black", "Stone Wash", "Light Blue"),
                _WAIST,
                _ADULTS,
            ),
            Product(
                "Hoodie",
                4999,
                550,
                (330, 270, 70),
                (("Fleece", 1.0), ("Organic Cotton", 1.1)),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Down Jacket",
                12999,
                750,
                (400, 300, 100),
                (("Recycled Nylon", 1.0), ("Water-Repellent", 1.15)),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Chino Trousers",
                4999,
                480,
                (340, 270, 40),
                (("Cotton Twill", 1.0), ("Stretch Cotton", 1.05)),
                _CLOTHES,
                _WAIST,
                _ADULTS,
            ),
            Product(
                "Oxford Shirt",
                3999,
                300,
                (320, 250, 40),
                (("Cotton", 1.0), ("Linen", 1.3)),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Polo Shirt",
                2999,
                260,
                (300, 240, 30),
                (("Piqué Cotton", 1.0),),
                _CLOTHES,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Scarf",
                2999,
                200,
                (300, 200, 30),
                (("Merino", 1.0), ("Cashmere-Blend", 2.0)),
                _CLOTHES,
            ),
            Product(
                "T-Shirt",
                999,
                100,
                (250, 180, 15),
                (("Organic Cotton", 1.0),),
                _CLOTHES,
                _KIDS,
                _KIDS_ONLY,
            ),
            Product(
                "Raincoat",
                3499,
                380,
                (330, 260, 60),
                (("Recycled Polyester", 1.0),),
                _CLOTHES,
                _KIDS,
                _KIDS_ONLY,
            ),
            Product(
                "Hoodie", 2499, 300, (280, 220, 50), (("Fleece", 1.0),), _CLOTHES, _KIDS, _KIDS_ONLY
            ),
        ),
    ),
    Category.SHOES: CategorySpec(
        "SHO",
        0.15,
        (
            ("Classic", 1.0),
            ("Urban", 1.0),
            ("Comfort", 1.1),
            ("City", 1.0),
            ("Retro", 0.9),
            ("Signature", 1.3),
        ),
        (
            Product(
                "Sneakers",
                8999,
                900,
                (330, 210, 120),
                (("Leather", 1.0), ("Suede", 1.05), ("Canvas", 0.6)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Running Shoes",
                9999,
                600,
                (320, 200, 120),
                (("Mesh", 1.0), ("Knit", 1.1)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Chelsea Boots",
                12999,
                1300,
                (340, 230, 130),
                (("Leather", 1.0), ("Suede", 1.0)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Loafers",
                9999,
                800,
                (320, 200, 110),
                (("Leather", 1.0), ("Suede", 1.0)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Sandals",
                3999,
                500,
                (300, 190, 90),
                (("Leather", 1.0), ("Cork", 0.9)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Hiking Boots",
                11999,
                1400,
                (340, 240, 140),
                (("Waterproof Nubuck", 1.0), ("Gore-Tex", 1.3)),
                _LEATHER,
                _ADULT_SHOES,
                _ADULTS,
            ),
            Product(
                "Sneakers",
                3999,
                450,
                (260, 170, 100),
                (("Canvas", 1.0), ("Leather", 1.3)),
                _LEATHER,
                _KIDS_SHOES,
                _KIDS_ONLY,
            ),
        ),
    ),
    Category.HOME: CategorySpec(
        "HOM",
        0.15,
        (
            ("Atelier", 1.2),
            ("Provence", 1.0),
            ("Nordic", 1.0),
            ("Essential", 0.8),
            ("Riviera", 1.1),
            ("Heritage", 1.3),
        ),
        (
            Product(
                "Duvet Cover",
                5999,
                1200,
                (350, 300, 60),
                (("Washed Linen", 1.6), ("Cotton Percale", 1.0), ("Cotton Sateen", 1.2)),
                _INTERIOR,
                ("140x200", "220x240", "260x240"),
            ),
            Product(
                "Bath Towel",
                1999,
                600,
                (350, 250, 60),
                (("Cotton Terry", 1.0), ("Organic Cotton", 1.2)),
                _INTERIOR,
                ("50x100", "70x140", "100x150"),
            ),
            Product(
                "Dinner Plates Set of 4",
                3999,
                2600,
                (300, 300, 120),
                (("Stoneware", 1.0), ("Porcelain", 1.2)),
                _INTERIOR,
            ),
            Product("Scented Candle", 2499, 450, (110, 110, 120), (("Soy Wax", 1.0),), _SCENTS),
            Product(
                "Table Lamp",
                6999,
                2000,
                (350, 350, 500),
                (("Ceramic", 1.0), ("Brass", 1.6), ("Rattan", 0.9)),
                _INTERIOR,
            ),
            Product(
                "Casserole 24 cm",
                12999,
                4500,
                (330, 280, 180),
                (("Enamelled Cast Iron", 1.0),),
                _INTERIOR,
            ),
            Product(
                "Cushion Cover 45x45",
                1999,
                250,
                (300, 300, 30),
                (("Linen", 1.3), ("Velvet", 1.1), ("Cotton", 1.0)),
                _INTERIOR,
            ),
            Product(
                "Tumblers Set of 6",
                1999,
                1500,
                (280, 200, 120),
                (("Recycled Glass", 1.0),),
                ("Clear", "Amber", "Green"),
            ),
            Product(
                "Throw Blanket 130x170",
                4999,
                1100,
                (400, 300, 80),
                (("Wool", 1.0), ("Cotton", 0.7)),
                _INTERIOR,
            ),
        ),
    ),
    Category.ELECTRONICS: CategorySpec(
        "ELE",
        0.10,
        (
            ("Compact", 0.8),
            ("Pro", 1.4),
            ("Lite", 0.7),
            ("Max", 1.6),
            ("Studio", 1.2),
            ("Sport", 1.0),
        ),
        (
            Product("Wireless Earbuds", 7999, 250, (120, 100, 50), _NO_QUALIFIER, _DEVICE),
            Product(
                "Noise-Cancelling Headphones", 24999, 650, (250, 210, 90), _NO_QUALIFIER, _DEVICE
            ),
            Product(
                "Bluetooth Speaker",
                5999,
                800,
                (200, 120, 100),
                (("Waterproof", 1.1), ("Portable", 1.0)),
                _DEVICE,
            ),
            Product(
                "USB-C Charger",
                2999,
                200,
                (110, 80, 40),
                _NO_QUALIFIER,
                ("Black", "White"),
                ("30 W", "65 W", "100 W"),
            ),
            Product(
                "Smartwatch", 19999, 300, (150, 100, 80), _NO_QUALIFIER, _DEVICE, ("41 mm", "45 mm")
            ),
            Product("4K Action Camera", 29999, 500, (180, 130, 90), _NO_QUALIFIER, ("Black",)),
            Product(
                "Power Bank",
                2999,
                300,
                (150, 90, 40),
                _NO_QUALIFIER,
                _DEVICE,
                ("10,000 mAh", "20,000 mAh"),
            ),
            Product(
                "E-Reader 6-inch",
                12999,
                400,
                (200, 150, 40),
                _NO_QUALIFIER,
                ("Black", "White"),
                ("16 GB", "32 GB"),
            ),
            Product(
                "Tablet 11-inch",
                44999,
                700,
                (300, 220, 50),
                _NO_QUALIFIER,
                ("Space Grey", "Silver"),
                ("128 GB", "256 GB", "512 GB"),
            ),
            Product(
                "Portable SSD",
                8999,
                150,
                (130, 90, 30),
                _NO_QUALIFIER,
                ("Black", "Silver"),
                ("500 GB", "1 TB", "2 TB"),
            ),
            Product(
                "Keyboard",
                7999,
                900,
                (470, 170, 50),
                (("Mechanical", 1.5), ("Low-Profile", 1.0), ("Wireless", 1.1)),
                ("Black", "White"),
                ("AZERTY", "QWERTY"),
            ),
            Product(
                "Mouse",
                3999,
                200,
                (150, 100, 60),
                (("Ergonomic", 1.3), ("Silent", 1.0), ("Wireless", 1.1)),
                _DEVICE,
            ),
            Product("Fitness Tracker", 6999, 150, (130, 80, 50), _NO_QUALIFIER, _DEVICE),
            Product(
                "HDMI 2.1 Cable",
                1499,
                150,
                (200, 120, 30),
                _NO_QUALIFIER,
                ("Black",),
                ("1 m", "2 m", "3 m"),
            ),
        ),
    ),
    Category.SPORTS: CategorySpec(
        "SPO",
        0.15,
        (
            ("Training", 1.0),
            ("Performance", 1.3),
            ("Essential", 0.8),
            ("Pro", 1.5),
            ("Club", 0.9),
            ("Trail", 1.1),
        ),
        (
            Product(
                "Yoga Mat 6 mm",
                2999,
                1200,
                (620, 150, 150),
                (("Natural Rubber", 1.3), ("TPE", 1.0)),
                _SPORT,
            ),
            Product(
                "Running Tights",
                3999,
                200,
                (250, 200, 20),
                (("Recycled Polyester", 1.0),),
                _SPORT,
                _ADULT,
                _ADULTS,
            ),
            Product(
                "Training Shorts",
                2499,
                180,
                (250, 200, 20),
                (("Quick-Dry", 1.0),),
                _SPORT,
                _ADULT,
                _ADULTS,
            ),
            Product("Backpack 20 L", 6999, 700, (450, 300, 150), (("Ripstop", 1.0),), _SPORT),
            Product(
                "Dumbbell 5 kg",
                2499,
                5000,
                (300, 120, 120),
                (("Cast Iron", 1.0), ("Neoprene-Coated", 1.1)),
                ("Black", "Grey"),
            ),
            Product(
                "Tennis Racket",
                8999,
                300,
                (700, 280, 40),
                (("Graphite", 1.0), ("Carbon", 1.5)),
                _SPORT,
                ("Grip 2", "Grip 3", "Grip 4"),
            ),
            Product(
                "Cycling Helmet",
                5999,
                350,
                (300, 230, 190),
                (("In-Mould", 1.0),),
                _SPORT,
                ("S/M", "M/L"),
            ),
            Product(
                "Football Size 5",
                1999,
                430,
                (230, 230, 230),
                (("Hybrid-Stitched", 1.0), ("Thermo-Bonded", 1.6)),
                ("White", "Yellow", "Orange"),
            ),
            Product(
                "Insulated Bottle 750 ml",
                1999,
                350,
                (280, 80, 80),
                (("Stainless Steel", 1.0),),
                _SPORT,
            ),
        ),
    ),
    Category.BEAUTY: CategorySpec(
        "BEA",
        0.10,
        (
            ("Organic", 1.2),
            ("Sensitive", 1.0),
            ("Daily", 0.9),
            ("Intense", 1.2),
            ("Pure", 1.0),
            ("Botanical", 1.1),
        ),
        (
            Product(
                "Face Cream",
                2499,
                120,
                (70, 70, 70),
                (("Hydrating", 1.0), ("Anti-Ageing", 1.6), ("Mattifying", 1.0)),
                _BLANK,
                ("30 ml", "50 ml"),
            ),
            Product(
                "Serum",
                2999,
                90,
                (120, 50, 50),
                (("Vitamin C", 1.0), ("Hyaluronic", 1.0), ("Retinol", 1.3)),
                _BLANK,
                ("15 ml", "30 ml"),
            ),
            Product(
                "Eau de Parfum",
                5999,
                350,
                (130, 90, 70),
                _NO_QUALIFIER,
                _SCENTS,
                ("50 ml", "100 ml"),
            ),
            Product(
                "Shampoo 250 ml",
                899,
                300,
                (190, 70, 50),
                (("Repairing", 1.0), ("Volumising", 1.0), ("Anti-Dandruff", 1.1)),
                ("Argan", "Nettle", "Oat"),
            ),
            Product(
                "Lipstick",
                1999,
                40,
                (90, 30, 30),
                (("Satin", 1.0), ("Matte", 1.0)),
                _SHADES,
            ),
            Product(
                "Hand Cream 75 ml",
                699,
                90,
                (140, 50, 30),
                (("Nourishing", 1.0),),
                ("Almond", "Shea", "Lavender"),
            ),
            Product(
                "Sunscreen SPF 50",
                1599,
                130,
                (160, 60, 40),
                (("Mineral", 1.1), ("Invisible", 1.0)),
                _BLANK,
                ("50 ml", "100 ml", "200 ml"),
            ),
            Product(
                "Shower Gel",
                499,
                280,
                (180, 70, 45),
                (("Moisturising", 1.0), ("Energising", 1.0)),
                ("Citrus", "Vanilla", "Sea Salt", "Verbena"),
                ("250 ml", "500 ml"),
            ),
            Product(
                "Foundation 30 ml",
                2999,
                80,
                (110, 45, 45),
                (("Matte", 1.0), ("Luminous", 1.1)),
                ("Light 10", "Light 20", "Medium 30", "Medium 40", "Tan 50", "Deep 60"),
            ),
            Product(
                "Mascara",
                1799,
                30,
                (140, 30, 30),
                (("Volume", 1.0), ("Lengthening", 1.0), ("Waterproof", 1.1)),
                ("Black", "Brown"),
            ),
            Product(
                "Nail Polish",
                999,
                50,
                (60, 35, 35),
                (("Gel-Effect", 1.2), ("Quick-Dry", 1.0)),
                _SHADES,
            ),
        ),
    ),
}
