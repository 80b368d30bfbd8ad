"""Event kinds loyalty publishes, for messaging, webhooks and the customer timeline."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treu.core import events
from treu.core.events import TimelineEntry

POINTS_CHANGED = "loyalty.points_changed"
MEMBER_JOINED = "loyalty.member_joined"


def _member_url(event) -> str:
    member_id = event.payload.get("member_id")
    return reverse("loyalty:member_detail", args=[member_id]) if member_id else ""


def _points_changed(event) -> TimelineEntry:
    p = event.payload
    available, pending = int(p.get("available_change", 0)), int(p.get("pending_change", 0))
    names = {"points": p.get("point_name") or "Punkte"}
    kind, rule = p.get("kind"), p.get("rule")
    if kind == "release":
        title = _("%(count)s %(points)s now available") % {**names, "count": available}
    elif kind == "earn" and rule == "welcome":
        title = _("%(count)s %(points)s welcome bonus") % {**names, "count": available}
    elif kind == "earn" and rule in _action_titles():
        title = _action_titles()[rule] % {**names, "count": available}
    elif kind == "earn":
        title = _("%(count)s %(points)s earned") % {**names, "count": available + pending}
    elif kind == "redeem":
        title = _("%(count)s %(points)s redeemed") % {**names, "count": -available}
    elif kind == "expire":
        title = _("%(count)s %(points)s expired") % {**names, "count": -available}
    elif kind == "reverse":
        title = _("%(count)s %(points)s taken back") % {**names, "count": -(available + pending)}
    else:
        title = _("%(points)s adjusted by %(count)+d") % {**names, "count": available + pending}
    detail = _("Balance %(balance)s, pending %(pending)s") % {
        "balance": p.get("balance", 0),
        "pending": p.get("pending", 0),
    }
    return TimelineEntry(title=title, detail=detail, url=_member_url(event), icon="star")


def _action_titles() -> dict[str, str]:
    # Points from an earning rule for an action (PointsEntry.source_rule is the action).
    return {
        "birthday": _("%(count)s %(points)s for the birthday"),
        "anniversary": _("%(count)s %(points)s for the anniversary of the first purchase"),
        "review": _("%(count)s %(points)s for a product review"),
        "newsletter": _("%(count)s %(points)s for the newsletter sign-up"),
        "survey": _("%(count)s %(points)s for answering a survey"),
        "social": _("%(count)s %(points)s for following or sharing"),
        "custom": _("%(count)s %(points)s for an action"),
    }


def _member_joined(event) -> TimelineEntry:
    return TimelineEntry(
        title=_("Joined the loyalty programme"),
        detail=event.payload.get("program", ""),
        url=_member_url(event),
        icon="star",
    )


events.register_kind(
    POINTS_CHANGED, label=gettext_lazy("Loyalty points changed"), describe=_points_changed
)
events.register_kind(
    MEMBER_JOINED, label=gettext_lazy("Joined the loyalty programme"), describe=_member_joined
)

REWARD_REDEEMED = "loyalty.reward_redeemed"
COUPON_ISSUED = "loyalty.coupon_issued"


def _reward_redeemed(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Reward redeemed: %(reward)s") % {"reward": p.get("reward", "?")},
        detail=_("%(count)s %(points)s spent")
        % {"count": p.get("points", 0), "points": p.get("point_name") or "Punkte"},
        url=_member_url(event),
        icon="star",
        amount_cents=p.get("credit_cents") or None,
    )


def _coupon_issued(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Coupon %(code)s issued") % {"code": p.get("code", "?")},
        detail=_("%(reward)s, valid until %(date)s")
        % {"reward": p.get("reward", "?"), "date": p.get("expires_on", "?")},
        url=_member_url(event),
        icon="star",
    )


events.register_kind(
    REWARD_REDEEMED, label=gettext_lazy("Loyalty reward redeemed"), describe=_reward_redeemed
)
events.register_kind(
    COUPON_ISSUED, label=gettext_lazy("Loyalty coupon issued"), describe=_coupon_issued
)

COUPON_USED = "loyalty.coupon_used"
COUPON_RELEASED = "loyalty.coupon_released"


def _coupon_used(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Coupon %(code)s used") % {"code": p.get("code", "?")},
        detail=_("Order %(order)s in %(shop)s")
        % {"order": p.get("order_external_id", "?"), "shop": p.get("shop", "?")},
        url=_member_url(event),
        icon="star",
        amount_cents=-int(p.get("discount_cents") or 0) or None,
    )


def _coupon_released(event) -> TimelineEntry:
    p = event.payload
    return TimelineEntry(
        title=_("Coupon %(code)s given back") % {"code": p.get("code", "?")},
        detail=_("Order %(order)s in %(shop)s was cancelled")
        % {"order": p.get("order_external_id", "?"), "shop": p.get("shop", "?")},
        url=_member_url(event),
        icon="star",
    )


events.register_kind(COUPON_USED, label=gettext_lazy("Loyalty coupon used"), describe=_coupon_used)
events.register_kind(
    COUPON_RELEASED, label=gettext_lazy("Loyalty coupon given back"), describe=_coupon_released
)

REFERRAL_RECORDED = "loyalty.referral_recorded"
REFERRAL_REWARDED = "loyalty.referral_rewarded"


def _referral_recorded(event) -> TimelineEntry:
    # On the advocate's timeline; the friend is not named there (their data, not the advocate's).
    in_review = event.payload.get("status") == "review"
    return TimelineEntry(
        title=_("Referred a friend"),
        detail=_("Waiting for review") if in_review else _("Waiting for the friend's first order"),
        url=_member_url(event),
        icon="star",
    )


def _referral_rewarded(event) -> TimelineEntry:
    p = event.payload
    if p.get("credit_cents"):
        detail = _("Store credit for a referral")
    else:
        detail = _("%(count)s %(points)s for a referral") % {
            "count": p.get("points", 0),
            "points": p.get("point_name") or "Punkte",
        }
    return TimelineEntry(
        title=_("Referral rewarded"),
        detail=detail,
        url=_member_url(event),
        icon="star",
        amount_cents=p.get("credit_cents") or None,
    )


events.register_kind(
    REFERRAL_RECORDED, label=gettext_lazy("Loyalty referral recorded"), describe=_referral_recorded
)
events.register_kind(
    REFERRAL_REWARDED, label=gettext_lazy("Loyalty referral rewarded"), describe=_referral_rewarded
)


TIER_CHANGED = "loyalty.tier_changed"
TIER_DOWNGRADE_NOTICE = "loyalty.tier_downgrade_notice"
POINTS_EXPIRING = "loyalty.points_expiring"


def _tier_changed(event) -> TimelineEntry:
    p = event.payload
    if p.get("to_tier") is None:
        title = _("Left tier %(tier)s") % {"tier": p.get("from_tier")}
    elif p.get("direction") == "up":
        title = _("Moved up to tier %(tier)s") % {"tier": p.get("to_tier")}
    else:
        title = _("Moved down to tier %(tier)s") % {"tier": p.get("to_tier")}
    detail = _("Assigned by staff") if p.get("cause") == "staff" else ""
    return TimelineEntry(title=title, detail=detail, url=_member_url(event), icon="star")


def _tier_downgrade_notice(event) -> TimelineEntry:
    p = event.payload
    title = _("Tier %(tier)s ends on %(date)s") % {
        "tier": p.get("from_tier"),
        "date": _german_date(p.get("on")),
    }
    return TimelineEntry(title=title, detail="", url=_member_url(event), icon="star")


def _points_expiring(event) -> TimelineEntry:
    p = event.payload
    title = _("%(count)s %(points)s expire on %(date)s") % {
        "count": p.get("points", 0),
        "points": p.get("point_name") or "Punkte",
        "date": _german_date(p.get("expires_on")),
    }
    return TimelineEntry(title=title, detail="", url=_member_url(event), icon="star")


def _german_date(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}.{month}.{year}"


events.register_kind(
    TIER_CHANGED, label=gettext_lazy("Loyalty tier changed"), describe=_tier_changed
)
events.register_kind(
    TIER_DOWNGRADE_NOTICE,
    label=gettext_lazy("Loyalty tier about to end"),
    describe=_tier_downgrade_notice,
)
events.register_kind(
    POINTS_EXPIRING, label=gettext_lazy("Loyalty points about to expire"), describe=_points_expiring
)
