"""Raw payloads hold personal data: registered, exported, erased and pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.connectors import services
from treu.connectors.models import InboundDelivery
from treu.connectors.tests.conftest import payload
from treu.core import privacy

pytestmark = pytest.mark.django_db


def test_deliveries_are_registered_for_export_and_erasure():
    registration = privacy.registration_for(InboundDelivery)
    assert registration is not None
    assert registration.erasure is privacy.Erasure.DELETE
    assert "body" in registration.fields


def test_erasure_deletes_the_payloads_naming_the_customer(connect, send):
    conn = connect("shopify")
    send(conn, payload("shopify_order"), topic="orders/create", delivery="o-1")
    # Not applied yet, but carrying her email: found by it.
    InboundDelivery.objects.create(
        connection=conn,
        topic="customers/update",
        delivery_id="k-9",
        body='{"email": "Anna.Schmidt@example.de"}',
    )
    InboundDelivery.objects.create(
        connection=conn, topic="customers/update", delivery_id="k-10", body='{"email": "b@x.de"}'
    )
    anna = InboundDelivery.objects.get(delivery_id="o-1").customer
    exported = privacy.export_customer(anna)["connectors.InboundDelivery"]
    assert len(exported) == 2
    touched = privacy.erase_customer(anna)
    assert touched["connectors.InboundDelivery"] == 2
    assert list(InboundDelivery.objects.values_list("delivery_id", flat=True)) == ["k-10"]


def test_old_payloads_are_emptied_and_old_log_rows_deleted(connect):
    conn = connect("woocommerce")
    now = timezone.now()
    for key, age in (("new", 1), ("old", 40), ("ancient", 400)):
        delivery = InboundDelivery.objects.create(
            connection=conn, topic="order.created", delivery_id=key, body="{}"
        )
        InboundDelivery.objects.filter(pk=delivery.pk).update(received_at=now - timedelta(days=age))
    assert services.prune_deliveries(now=now) == (2, 1)
    bodies = dict(InboundDelivery.objects.values_list("delivery_id", "body"))
    assert bodies == {"new": "{}", "old": ""}
