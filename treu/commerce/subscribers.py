"""What commerce does when other apps report something."""

from __future__ import annotations

from treu.commerce.services import refresh_customer_summary
from treu.core.events import subscribe


@subscribe("customer.merged")
def refresh_summary_after_merge(event) -> None:
    # The duplicate's orders now belong to the survivor: its figures changed.
    refresh_customer_summary(event.customer_id)
