"""Background work of the loyalty programme."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from treu.loyalty import services

# The catch-up looks this far back: hourly runs overlap, so a missed hour is not lost.
CATCH_UP = timedelta(hours=3)


@db_periodic_task(crontab(minute="7"))
def release_pending_points() -> None:
    # Hourly: points become available at most an hour after their return window ends.
    services.release_pending_points()


@db_periodic_task(crontab(minute="37"))
def catch_up_points() -> None:
    # Hourly: an order whose event was lost on the way (a crashed process) still earns,
    # and a lost cancellation or return still takes its points back.
    services.catch_up_points(since=timezone.now() - CATCH_UP)


@db_periodic_task(crontab(minute="47"))
def catch_up_stamps() -> None:
    # Hourly, like the points: a lost order event still stamps, a lost return takes back.
    services.catch_up_stamps(since=timezone.now() - CATCH_UP)


@db_periodic_task(crontab(minute="52"))
def reward_referrals() -> None:
    # Hourly: advocates are rewarded at most an hour after the friend's return window ends;
    # hashed IP addresses past their retention are forgotten on the way.
    services.reward_referrals()
    services.forget_old_ip_hashes()


@db_periodic_task(crontab(hour="2", minute="17"))
def recompute_tiers() -> None:
    # Nightly: downgrades at the end of a period, their notices, the VIP rule. Upgrades
    # happen at once after an order (subscribers), this only catches up.
    services.recompute_tiers()


@db_periodic_task(crontab(hour="3", minute="27"))
def expire_points() -> None:
    # Daily: warn 30 and 7 days ahead, then expire what is due. Both count over
    # everything, so a missed night is caught up by the next.
    services.warn_expiring_points()
    services.expire_points()


@db_periodic_task(crontab(hour="4", minute="43"))
def award_birthday_and_anniversary_points() -> None:
    # Daily, early morning in Berlin (huey counts in UTC): points on the day itself. Each
    # run also looks three days back, so a missed run is caught up; nothing twice.
    services.award_birthday_points()
    services.award_anniversary_points()
