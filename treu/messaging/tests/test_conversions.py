"""Orders attributed to the last marketing mail before them, within the window."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from treu.commerce.models import Order
from treu.commerce.tests.factories import ShopFactory
from treu.messaging import selectors, services
from treu.messaging.models import MessagePurpose, MessageStatus, OutboundMessage
from treu.messaging.selectors import Conversions

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
NOW = T0 + timedelta(days=60)


def mail(customer, key: str, sent: datetime, *, purpose=MessagePurpose.MARKETING, status=None):
    services.enqueue_messages(
        [
            services.NewMessage(
                key=key,
                to_email=customer.email,
                customer_id=customer.pk,
                subject="Hallo",
                text_body="x",
                purpose=purpose,
            )
        ]
    )
    OutboundMessage.objects.filter(key=key).update(
        status=status or MessageStatus.SENT, sent_at=sent if status is None else None
    )


_n = iter(range(1, 10_000))


def order(customer, placed: datetime, cents: int, *, refunded: int = 0, status="paid"):
    n = next(_n)
    return Order.objects.create(
        shop=ShopFactory(), external_id=f"C{n}", number=f"#{n}", customer=customer,
        status=status, subtotal_cents=cents, total_cents=cents, tax_cents=0, net_cents=cents,
        refunded_cents=refunded, placed_at=placed,
        cancelled_at=placed if status == "cancelled" else None,
    )  # fmt: skip


def test_last_touch_within_the_window(anna, ben):
    mail(anna, f"campaign:7:customer:{anna.pk}", T0)
    mail(anna, f"campaign:8:customer:{anna.pk}", T0 + timedelta(days=2))
    mail(ben, f"campaign:7:customer:{ben.pk}", T0)
    order(anna, T0 + timedelta(days=1), 1000)  # only campaign 7 was sent yet
    order(anna, T0 + timedelta(days=3), 2500, refunded=500)  # 8 is the later touch
    order(anna, T0 + timedelta(days=8), 9900)  # 6 days after 8: too late
    order(ben, T0 + timedelta(days=4, hours=23), 1490)  # inside 5 days
    order(ben, T0 - timedelta(hours=1), 700)  # before the mail: not its doing
    assert selectors.conversions_by_prefix(placed_before=NOW) == {
        "campaign:7": Conversions("campaign:7", orders=2, revenue_cents=2490),
        "campaign:8": Conversions("campaign:8", orders=1, revenue_cents=2000),
    }


def test_the_window_is_a_setting_and_an_argument(anna, settings):
    mail(anna, f"campaign:7:customer:{anna.pk}", T0)
    order(anna, T0 + timedelta(days=6), 1000)
    assert selectors.conversions_by_prefix(["campaign:7"], placed_before=NOW) == {
        "campaign:7": Conversions("campaign:7", 0, 0)
    }
    settings.MESSAGING_ATTRIBUTION_DAYS = 7
    assert selectors.conversions_by_prefix(placed_before=NOW)["campaign:7"].orders == 1
    result = selectors.conversions_by_prefix(placed_before=NOW, window=timedelta(days=1))
    assert result == {}


def test_only_sent_marketing_mails_and_live_orders_count(anna):
    mail(anna, f"order:1:customer:{anna.pk}", T0, purpose=MessagePurpose.TRANSACTIONAL)
    mail(anna, f"campaign:9:customer:{anna.pk}", T0, status=MessageStatus.FAILED)
    order(anna, T0 + timedelta(days=1), 1000)
    assert selectors.conversions_by_prefix(placed_before=NOW) == {}
    mail(anna, f"flow:3:step:2:customer:{anna.pk}", T0)
    order(anna, T0 + timedelta(days=2), 800, status="cancelled")
    assert selectors.conversions_by_prefix(placed_before=NOW) == {
        "flow:3:step:2": Conversions("flow:3:step:2", 1, 1000)
    }


def test_an_order_counts_once_and_a_mail_at_the_same_moment_counts(anna):
    mail(anna, f"campaign:7:customer:{anna.pk}", T0)
    mail(anna, f"campaign:8:customer:{anna.pk}", T0)
    order(anna, T0, 1200)
    result = selectors.conversions_by_prefix(placed_before=NOW)
    # Equal send times: the later row (higher id) is the last touch.
    assert result == {"campaign:8": Conversions("campaign:8", 1, 1200)}
    assert selectors.attributed_orders(placed_before=NOW).count() == 1


def test_a_key_without_a_customer_part_is_its_own_prefix(anna):
    mail(anna, "welcome-test", T0)
    order(anna, T0 + timedelta(hours=2), 500)
    assert selectors.conversions_by_prefix(placed_before=NOW)["welcome-test"].orders == 1
