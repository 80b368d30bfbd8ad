"""Experiments measured against a campaign's or automation's random control group."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.analytics import services
from treu.analytics.models import Experiment, ExperimentStatus, month_index
from treu.analytics.tests.helpers import berlin, order
from treu.customers.tests.factories import CustomerFactory
from treu.messaging import selectors as messaging_selectors
from treu.messaging import services as messaging_services
from treu.messaging.models import Holdout, MessageStatus, OutboundMessage

pytestmark = pytest.mark.django_db

SENT = berlin(2025, 5, 5, 10)
MAY = month_index(date(2025, 5, 1))


def campaign(prefix: str, *, recipients: int, buyers: int, held: int, held_buyers: int):
    """A send already out: its recipients (the first `buyers` of them ordered 25 € within the
    window) and its control group (the first `held_buyers` ordered 20 €)."""
    people = CustomerFactory.create_batch(recipients + held)
    messaging_services.enqueue_messages(
        messaging_services.NewMessage(
            key=f"{prefix}:customer:{c.pk}", to_email=c.email, subject="Hallo",
            text_body="x", customer_id=c.pk,
        )
        for c in people[:recipients]
    )  # fmt: skip
    OutboundMessage.objects.update(status=MessageStatus.SENT, sent_at=SENT)
    Holdout.objects.bulk_create(
        Holdout(prefix=prefix, customer=c, at=SENT) for c in people[recipients:]
    )
    for c in people[:buyers]:
        order(c, SENT + timedelta(days=2), 2500)
    for c in people[recipients : recipients + held_buyers]:
        order(c, SENT + timedelta(days=2), 2000)
    order(people[-1], SENT + timedelta(days=20), 9900)  # outside the window: not counted


@pytest.fixture
def named_sends():
    names = lambda: {"campaign:7": "Frühlingsaktion"}  # noqa: E731
    messaging_selectors.register_send_names(names)
    yield
    messaging_selectors.sending._send_names.remove(names)


def start(prefix="campaign:7"):
    return services.start_experiment(
        title="Frühlingsaktion", hypothesis="Die Mail bringt Bestellungen", metric="aov",
        first_month=MAY, months=1, control_group=prefix,
    )  # fmt: skip


def test_recipients_against_the_control_group_give_the_uplift_and_a_verdict(named_sends):
    campaign("campaign:7", recipients=400, buyers=80, held=400, held_buyers=20)
    experiment = services.evaluate_experiment(start(), now=SENT + timedelta(days=30))
    assert (experiment.treated_people, experiment.treated_converted) == (400, 80)
    assert (experiment.control_people, experiment.control_converted) == (400, 20)
    assert experiment.treated_revenue_cents == 80 * 2500
    assert experiment.control_squares == 20 * 2000**2
    assert experiment.status == ExperimentStatus.EVALUATED
    from treu.analytics import selectors

    entry = selectors.experiment_entry(experiment)
    assert entry.control.name == "Frühlingsaktion"
    assert entry.control.conversion.difference == pytest.approx(0.15)
    assert entry.control.conversion.low > 0 and entry.control.verdict == "works"
    assert entry.control.revenue.difference == pytest.approx(500 - 100)


def test_small_groups_get_too_little_data(named_sends):
    campaign("campaign:7", recipients=30, buyers=5, held=10, held_buyers=1)
    experiment = services.evaluate_experiment(start(), now=SENT + timedelta(days=30))
    from treu.analytics import selectors

    assert selectors.experiment_entry(experiment).control.verdict == "too_little_data"


def test_only_sends_with_a_control_group_can_be_chosen(db):
    with pytest.raises(services.AnalyticsError) as error:
        start("campaign:99")
    assert "Kontrollgruppe" in " ".join(error.value.message_dict["control_group"])
    assert not Experiment.objects.exists()
    Holdout.objects.create(prefix="flow:3", customer=CustomerFactory(), at=SENT)
    assert start("flow:3").control_group == "flow:3"  # held people back: measurable


def test_a_decided_experiment_keeps_its_measurement(named_sends):
    campaign("campaign:7", recipients=10, buyers=1, held=10, held_buyers=0)
    experiment = services.evaluate_experiment(start(), now=SENT + timedelta(days=30))
    services.decide_experiment(experiment, decision="keep", notes="")
    with pytest.raises(services.AnalyticsError):
        services.evaluate_experiment(experiment, now=SENT + timedelta(days=40))


def test_the_owner_picks_the_send_on_the_page_and_reads_the_verdict(
    client_of, marketer, named_sends
):
    campaign("campaign:7", recipients=400, buyers=80, held=400, held_buyers=20)
    client = client_of(marketer)
    form = client.get(reverse("analytics:experiments")).content.decode()
    assert "Frühlingsaktion" in form
    response = client.post(
        reverse("analytics:experiments"),
        {
            "title": "Frühlingsaktion", "hypothesis": "Bringt Bestellungen", "metric": "aov",
            "first_month": f"{timezone.localdate():%Y-%m}", "months": "1",
            "control_group": "campaign:7",
        },
    )  # fmt: skip
    experiment = Experiment.objects.get()
    assert experiment.control_group == "campaign:7"
    client.post(response["Location"], {"action": "evaluate"})
    page = client.get(response["Location"]).content.decode()
    assert "Gegen die Kontrollgruppe" in page and "wirkt" in page
    assert "+15,0" in page  # percentage points of conversion
