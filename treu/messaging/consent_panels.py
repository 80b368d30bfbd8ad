"""The newsletter block on the customer's 360° page (see treu.core.panels)."""

from __future__ import annotations

from treu.messaging.selectors import consent_of


def customer_panel(request, customer) -> dict | None:
    """The customer's newsletter consent: state, since when, on which basis, and the proof."""
    if customer.erased_at:
        return None
    return {"customer": customer, "consent": consent_of(customer)}
