"""Raw webhook payloads hold the shop's customer data (names, emails, addresses)."""

from __future__ import annotations

from treu.connectors.models import InboundDelivery, ShopConnection
from treu.connectors.services import PAYLOAD_RETENTION_DAYS, deliveries_about, erase_deliveries_of
from treu.core import privacy


def _export(customer) -> list[dict]:
    rows = InboundDelivery.objects.filter(deliveries_about(customer)).order_by("received_at")
    return list(rows.values("connection__shop__name", "topic", "received_at", "status", "body"))


privacy.register(
    InboundDelivery,
    customer="customer",
    fields=["connection__shop__name", "topic", "received_at", "status", "body"],
    erasure=privacy.Erasure.DELETE,
    exporter=_export,
    eraser=erase_deliveries_of,
    retention=(
        f"Rohdaten der Shop-Webhooks werden {PAYLOAD_RETENTION_DAYS} Tage nach Eingang geleert; "
        "bei Löschung des Kunden sofort (über Kundenverknüpfung oder E-Mail-Adresse)."
    ),
)
privacy.not_personal(ShopConnection, reason="A shop's connection settings, not about a person.")
