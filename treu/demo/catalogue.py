"""What the demo roaster sells: two shops and about forty products with real-world prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from treu.commerce.models import Category, Product, Shop, ShopKind

ONLINE_SHOP = {"code": "online", "name": "Onlineshop", "kind": ShopKind.SHOPIFY, "is_store": False}
STORE = {"code": "laden", "name": "Laden Röstkontor", "kind": ShopKind.POS, "is_store": True}
SHOP_CODES = (ONLINE_SHOP["code"], STORE["code"])

CATEGORIES = (
    ("Kaffee", "kaffee"),
    ("Espresso", "espresso"),
    ("Tee", "tee"),
    ("Zubereitung", "zubereitung"),
    ("Maschinen & Mühlen", "maschinen-muehlen"),
    ("Zubehör", "zubehoer"),
    ("Geschenke", "geschenke"),
)

FOOD = 700  # 7 % VAT on coffee and tea
STANDARD = 1900  # 19 % on everything else


@dataclass(frozen=True)
class ProductDef:
    sku: str
    name: str
    category: str  # slug
    price_cents: int
    tax_rate_bp: int
    group: str  # how the generator picks it: filter/espresso/tea/gear/grinder/machine/...
    reorder_days: int | None = None
    grams: int = 0

    @property
    def consumable(self) -> bool:
        return self.reorder_days is not None


def _bean(sku: str, name: str, slug: str, grams: int, price: int) -> ProductDef:
    size = {250: "250 g", 500: "500 g", 1000: "1 kg"}[grams]
    days = {250: 21, 500: 30, 1000: 45}[grams]
    group = "filter" if slug == "kaffee" else "espresso"
    return ProductDef(sku, f"{name}, {size}", slug, price, FOOD, group, days, grams)


PRODUCTS: tuple[ProductDef, ...] = (
    _bean("K-ETH-250", "Äthiopien Yirgacheffe", "kaffee", 250, 990),
    _bean("K-ETH-1000", "Äthiopien Yirgacheffe", "kaffee", 1000, 3290),
    _bean("K-COL-250", "Kolumbien Huila", "kaffee", 250, 890),
    _bean("K-COL-500", "Kolumbien Huila", "kaffee", 500, 1650),
    _bean("K-COL-1000", "Kolumbien Huila", "kaffee", 1000, 2990),
    _bean("K-BRA-250", "Brasilien Cerrado", "kaffee", 250, 790),
    _bean("K-BRA-1000", "Brasilien Cerrado", "kaffee", 1000, 2690),
    _bean("K-GUA-250", "Guatemala Antigua", "kaffee", 250, 950),
    _bean("K-KEN-250", "Kenia AA Kiambu", "kaffee", 250, 1190),
    _bean("K-PER-250", "Peru Bio Cajamarca", "kaffee", 250, 850),
    _bean("K-PER-500", "Peru Bio Cajamarca", "kaffee", 500, 1590),
    _bean("E-HAUS-250", "Espresso Hausmischung", "espresso", 250, 890),
    _bean("E-HAUS-500", "Espresso Hausmischung", "espresso", 500, 1690),
    _bean("E-HAUS-1000", "Espresso Hausmischung", "espresso", 1000, 2990),
    _bean("E-MIL-250", "Espresso Milano", "espresso", 250, 950),
    _bean("E-MIL-1000", "Espresso Milano", "espresso", 1000, 3190),
    _bean("E-DEC-250", "Espresso Decaf (Wasserprozess)", "espresso", 250, 990),
    _bean("E-CRE-500", "Caffè Crema Röstkontor", "espresso", 500, 1490),
    _bean("E-CRE-1000", "Caffè Crema Röstkontor", "espresso", 1000, 2790),
    ProductDef("T-DARJ", "Darjeeling First Flush, 100 g", "tee", 1290, FOOD, "tea", 60),
    ProductDef("T-EARL", "Earl Grey, 100 g", "tee", 790, FOOD, "tea", 60),
    ProductDef("T-SENC", "Grüner Sencha, 100 g", "tee", 990, FOOD, "tea", 60),
    ProductDef("T-ROOI", "Rooibos Vanille, 100 g", "tee", 690, FOOD, "tea", 60),
    ProductDef("T-CHAI", "Masala Chai, 100 g", "tee", 850, FOOD, "tea", 60),
    ProductDef("Z-V60", "Handfilter V60 Keramik", "zubereitung", 2490, STANDARD, "gear"),
    ProductDef("Z-FRENCH", "French Press 1 l", "zubereitung", 3490, STANDARD, "gear"),
    ProductDef("Z-WAAGE", "Kaffeewaage mit Timer", "zubereitung", 3990, STANDARD, "gear"),
    ProductDef("Z-KESSEL", "Wasserkocher mit Schwanenhals", "zubereitung", 7900, STANDARD, "gear"),
    ProductDef("Z-MILCH", "Milchkännchen 350 ml", "zubereitung", 1990, STANDARD, "gear"),
    ProductDef("Z-TAMPER", "Tamper 58 mm", "zubereitung", 2990, STANDARD, "gear"),
    ProductDef("M-HAND", "Handmühle Edelstahl", "maschinen-muehlen", 14900, STANDARD, "grinder"),
    ProductDef(
        "M-MUEHLE",
        "Elektrische Kaffeemühle Kegelmahlwerk",
        "maschinen-muehlen",
        24900,
        STANDARD,
        "grinder",
    ),
    ProductDef(
        "M-SIEB1",
        "Siebträgermaschine Einkreiser",
        "maschinen-muehlen",
        79900,
        STANDARD,
        "machine",
    ),
    ProductDef(
        "M-SIEB2",
        "Siebträgermaschine Dualboiler",
        "maschinen-muehlen",
        164900,
        STANDARD,
        "machine",
    ),
    ProductDef("A-FILTER", "Filterpapier V60, 100 Stück", "zubehoer", 690, STANDARD, "paper", 60),
    ProductDef(
        "A-REIN",
        "Reinigungstabletten Siebträger, 100 Stück",
        "zubehoer",
        1290,
        STANDARD,
        "care",
        120,
    ),
    ProductDef("A-ENTK", "Entkalker, 500 ml", "zubehoer", 990, STANDARD, "care", 90),
    ProductDef("A-BECHER", "Keramikbecher Röstkontor", "zubehoer", 1690, STANDARD, "mug"),
    ProductDef("A-THERMO", "Thermobecher 0,35 l", "zubehoer", 2490, STANDARD, "mug"),
    ProductDef("A-DOSE", "Kaffeedose mit Aromaventil", "zubehoer", 2990, STANDARD, "mug"),
    ProductDef("G-PROBIER", "Probierset Single Origin, 3 × 100 g", "geschenke", 1790, FOOD, "gift"),
    ProductDef("G-WEIH", "Weihnachtsmischung, 250 g", "geschenke", 1090, FOOD, "gift", 21, 250),
    ProductDef(
        "ABO-MONAT",
        "Kaffee-Abo Monatslieferung, 2 × 250 g",
        "kaffee",
        1690,
        FOOD,
        "abo",
        30,
        500,
    ),
)

BY_SKU = {p.sku: p for p in PRODUCTS}


def group(name: str, *, grams: int | None = None) -> tuple[ProductDef, ...]:
    """Products of one behaviour group, in catalogue order (deterministic)."""
    return tuple(p for p in PRODUCTS if p.group == name and (grams is None or p.grams == grams))


@dataclass(frozen=True)
class Catalogue:
    online: Shop
    store: Shop
    product_ids: dict[str, int]


def ensure_catalogue(*, since: datetime) -> Catalogue:
    """Create or refresh the demo shops, categories and products (idempotent)."""
    shops = {}
    for spec in (ONLINE_SHOP, STORE):
        shop, _ = Shop.objects.update_or_create(
            code=spec["code"],
            defaults={**spec, "active": True, "created_at": since, "updated_at": since},
        )
        shops[spec["code"]] = shop
    categories = {}
    for name, slug in CATEGORIES:
        categories[slug], _ = Category.objects.update_or_create(slug=slug, defaults={"name": name})
    product_ids = {}
    for p in PRODUCTS:
        product, _ = Product.objects.update_or_create(
            sku=p.sku,
            defaults={
                "name": p.name,
                "category": categories[p.category],
                "price_cents": p.price_cents,
                "tax_rate_bp": p.tax_rate_bp,
                "is_consumable": p.consumable,
                "reorder_interval_days": p.reorder_days,
                "active": True,
                "created_at": since,
                "updated_at": since,
            },
        )
        product_ids[p.sku] = product.pk
    return Catalogue(
        online=shops[ONLINE_SHOP["code"]], store=shops[STORE["code"]], product_ids=product_ids
    )
