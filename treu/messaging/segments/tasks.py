"""Background work of segments: a saved segment's refresh and the nightly full refresh."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from treu.messaging.segments import services


@db_task(retries=2, retry_delay=60)
def refresh_segment_task(segment_id: int) -> None:
    services.refresh_segment(segment_id)


# Nightly (UTC; after Berlin midnight all year and after analytics' recompute at 01:43, so
# RFM rules see the new segments): time-based rules ("last order within 90 days") move
# once a Berlin day, which is when "within N days" changes its answer.
@db_periodic_task(crontab(hour="2", minute="33"))
def refresh_all_segments_nightly() -> None:
    services.refresh_all_segments()
