"""The loyalty block on the customer's 360° page (see treu.core.panels)."""

from __future__ import annotations

from treu.loyalty import selectors, stamp_selectors, tier_selectors


def customer_panel(request, customer) -> dict | None:
    """Points, pending points, credit, tier and progress, stamp cards — or not a member."""
    program = selectors.program_settings()
    if program.created_at is None or customer.erased_at:
        return None  # no programme, nothing to say
    member = selectors.member_of(customer.pk)
    if member is None:
        return {"customer": customer, "member": None, "program": program}
    return {
        "customer": customer,
        "member": member,
        "program": program,
        "progress": tier_selectors.tier_progress(member, point_name=program.point_name),
        "stamps": stamp_selectors.member_stamps(member),
    }
