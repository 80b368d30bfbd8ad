"""In a real browser on a tablet: the cashier finds a member and books each action in at
most three taps, undoes the last one, and scans a member card with the camera."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from treu.commerce.models import ShopKind
from treu.commerce.tests.factories import ShopFactory
from treu.loyalty import services
from treu.loyalty.models import Coupon, StampCard, TillAction
from treu.loyalty.tests.conftest import give_points, make_reward
from treu.loyalty.tests.stamps import coffee_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 375, "height": 740}


class Taps:
    """Counts what the cashier touches: every click and every field focused to type."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator) -> None:
        self.count += 1
        locator.click()


@pytest.fixture
def store(program):
    shop = ShopFactory(code="laden", name="Laden am Markt", kind=ShopKind.POS, is_store=True)
    services.update_till_settings(shop=shop, tax_rate_bp=700)
    return shop


def _open_member(page, live_server, member) -> None:
    page.goto(f"{live_server.url}/loyalty/till/")
    page.fill("input[name=q]", f"#{member.customer.number}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/loyalty/till/members/{member.pk}/")


def test_the_three_bookings_take_at_most_three_taps_each_and_the_last_can_be_undone(
    logged_in_page, live_server, cashier, store, anna_member, request_log
):
    from playwright.sync_api import expect

    give_points(anna_member, 250)
    coffee_card()
    make_reward("fixed_amount", name="5 € Rabatt", points_cost=200)
    page = logged_in_page(cashier)
    page.set_viewport_size(TABLET)
    _open_member(page, live_server, anna_member)
    expect(page.locator("#till-member")).to_contain_text("250")

    # 1. A purchase: the amount field, the amount, the button.
    tap = Taps()
    tap(page.locator("#till-purchase input[name=amount]"))
    page.keyboard.type("23,50")
    tap(page.get_by_role("button", name="Einkauf und Bohnen buchen"))
    expect(page.locator("#till-last")).to_contain_text("Einkauf 23,50")
    expect(page.locator("#till-last")).to_contain_text("23 Bohnen")
    expect(page.locator("#till-member")).to_contain_text("23 vorgemerkt")
    assert tap.count <= 3

    # 2. Stamps: one tap on +2.
    tap = Taps()
    tap(page.get_by_role("button", name="+2 auf Kaffeekarte"))
    expect(page.locator("#till-last")).to_contain_text("2 Stempel auf Kaffeekarte")
    expect(page.locator("#till-stamps")).to_contain_text("2 von 10")
    assert tap.count <= 3
    assert StampCard.objects.get().stamps == 2

    # 3. A reward: one tap; the coupon code is shown big.
    tap = Taps()
    tap(page.locator("#till-redeem button", has_text="5 € Rabatt"))
    code = Coupon.objects.get().code
    expect(page.locator("#till-last .till-code")).to_have_text(code)
    expect(page.locator("#till-member")).to_contain_text("50")
    assert tap.count <= 3

    # Undo the redemption: one tap; points back, coupon void.
    tap = Taps()
    tap(page.get_by_role("button", name="Rückgängig"))
    expect(page.locator(".messages")).to_contain_text("Rückgängig gemacht")
    expect(page.locator("#till-last")).to_contain_text("rückgängig gemacht")
    expect(page.locator("#till-member .till-points strong")).to_have_text("250")
    assert tap.count == 1
    assert Coupon.objects.get().voided_at is not None
    assert TillAction.objects.filter(undone_at__isnull=False).count() == 1

    # Touch-sized: every button of the actions at least 44 px high.
    for box in page.locator(".till-actions button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert box >= 44
    hosts = {urlsplit(url).netloc for url in request_log if url.startswith("http")}
    assert hosts == {urlsplit(live_server.url).netloc}  # nothing from any other host


def test_on_a_phone_the_till_fits_the_width(
    logged_in_page, live_server, cashier, store, anna_member
):
    coffee_card()
    page = logged_in_page(cashier)
    page.set_viewport_size(PHONE)
    _open_member(page, live_server, anna_member)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


# A camera and a QR reader the test controls: the page's own script does the rest.
FAKE_SCANNER = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  constructor(options) { this.options = options; this.calls = 0; }
  async detect(source) {
    this.calls += 1;
    return this.calls < 3 ? [] : [{ rawValue: %(code)r, format: "qr_code" }];
  }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  canvas.getContext("2d").fillRect(0, 0, 64, 48);
  return canvas.captureStream(5);
};
"""


def test_scanning_the_member_card_opens_the_member(
    logged_in_page, live_server, cashier, store, anna_member
):
    from playwright.sync_api import expect

    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    page = logged_in_page(cashier)
    page.set_viewport_size(TABLET)
    page.add_init_script(FAKE_SCANNER % {"code": card.code})
    page.goto(f"{live_server.url}/loyalty/till/")
    scan = page.get_by_role("button", name="Karte scannen")
    expect(scan).to_be_visible()
    scan.click()
    page.wait_for_url(f"**/loyalty/till/members/{anna_member.pk}/")
    expect(page.locator("#till-member h1")).to_have_text("Anna Müller")


def test_without_a_barcode_reader_typing_is_all_there_is(
    logged_in_page, live_server, cashier, store, anna_member
):
    from playwright.sync_api import expect

    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    page = logged_in_page(cashier)
    page.add_init_script("delete window.BarcodeDetector;")
    page.goto(f"{live_server.url}/loyalty/till/")
    expect(page.get_by_role("button", name="Karte scannen")).to_be_hidden()
    page.fill("input[name=q]", card.code.lower())
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url(f"**/loyalty/till/members/{anna_member.pk}/")


def test_the_member_card_page_shows_a_printable_card(
    logged_in_page, live_server, cashier, anna_member
):
    from playwright.sync_api import expect

    card = services.issue_member_card(member=anna_member, staff_user=cashier)
    page = logged_in_page(cashier)
    page.goto(f"{live_server.url}/loyalty/members/{anna_member.pk}/card/")
    expect(page.locator("#member-card")).to_contain_text(card.code)
    expect(page.locator("#member-card svg")).to_be_visible()
    expect(page.get_by_role("button", name="Drucken")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".sidebar")).to_be_hidden()
    expect(page.locator("#member-card")).to_be_visible()
