"""Analytics: the owner's settings and the aggregate tables the worker fills.

Nothing here is entered by hand except `AnalyticsSettings`. Every other table is
rebuilt as a whole by `services.recompute_analytics` (set-based SQL, one transaction),
so the dashboard reads a few hundred small rows instead of the orders.

Months are Europe/Berlin calendar months, numbered `year * 12 + month - 1` (the
"month index"), so month arithmetic is integer arithmetic in SQL and Python alike.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treu.analytics import metrics
from treu.core.models import TimeStampedModel


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


class Industry(models.TextChoices):
    """Typical customer retention per industry (seed articles), drawn as a reference line."""

    RETAIL = "retail", _("Retail / e-commerce")
    HOSPITALITY = "hospitality", _("Hospitality / gastronomy")
    SERVICES = "services", _("Media / professional services")


INDUSTRY_RETENTION_PCT = {
    Industry.RETAIL: 30,
    Industry.HOSPITALITY: 55,
    Industry.SERVICES: 84,
}


class Segment(models.TextChoices):
    """The standard RFM segments; the score-to-segment grid is in `rfm.py` and docs/metrics.md."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class AnalyticsSettings(models.Model):
    """One row: what counts as an active customer, the owner's targets, the industry."""

    active_window_months = models.PositiveSmallIntegerField(
        _("active window (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text=_(
            "A customer counts as active while their last purchase is at most this many "
            "months back (the current month included)."
        ),
    )
    target_retention_pct = models.PositiveSmallIntegerField(
        _("target retention rate (%)"),
        default=40,
        validators=[MaxValueValidator(100)],
    )
    target_churn_pct = models.PositiveSmallIntegerField(
        _("target churn rate (%)"), default=50, validators=[MaxValueValidator(100)]
    )
    target_clv_cents = models.PositiveBigIntegerField(
        _("target customer lifetime value"), default=100_000
    )
    target_nps = models.SmallIntegerField(
        _("target NPS"), default=30, validators=[MinValueValidator(-100), MaxValueValidator(100)]
    )
    industry = models.CharField(
        _("industry"), max_length=16, choices=Industry.choices, default=Industry.RETAIL
    )
    monthly_report = models.BooleanField(
        _("monthly report by email"),
        default=True,
        help_text=_("In the first days of a month the owners get last month's report by email."),
    )
    clv_discount_pct = models.PositiveSmallIntegerField(
        _("discount rate for the predicted customer value (% a year)"),
        default=10,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "Money expected later is worth less today: each month of the predicted 12-month "
            "value is discounted at the monthly equivalent of this yearly rate."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")
        permissions = [
            ("view_analytics", _("Can view the analytics dashboard")),
            ("recompute_analytics", _("Can start a recompute of the analytics figures")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_window_months__gte=1, active_window_months__lte=36),
                name="analytics_window_range",
            ),
            models.CheckConstraint(
                condition=Q(target_retention_pct__lte=100, target_churn_pct__lte=100),
                name="analytics_target_pct_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @property
    def industry_retention_pct(self) -> int:
        return INDUSTRY_RETENTION_PCT[Industry(self.industry)]


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RunTrigger(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly")
    BUTTON = "button", _("Recompute button")
    DEMO = "demo", _("Demo data loaded")
    COMMAND = "command", _("Command")


class RecomputeRun(TimeStampedModel):
    """One recompute of the figures: when it was asked for, ran and finished (the stamp)."""

    trigger = models.CharField(_("trigger"), max_length=16, choices=RunTrigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    as_of = models.DateTimeField(_("figures as of"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    orders = models.PositiveBigIntegerField(_("orders"), default=0)
    customers = models.PositiveBigIntegerField(_("customers"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-finished_at"], name="analytics_run_done")]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.created_at:%Y-%m-%d %H:%M}"


class PeriodFigures(models.Model):
    """The figures of one period of `months` months ending with month `month_index`.

    `months` is 1, 3 or 12: a month, a quarter, a rolling year. The money is net of
    refunds (gross total less refunded, cancelled orders excluded), in cents. "Customer"
    figures count orders with a customer; the *_all figures include guest orders.
    """

    month_index = models.IntegerField(_("month"))
    months = models.PositiveSmallIntegerField(_("period (months)"))
    month = models.DateField(_("last month of the period"))
    starts_at = models.DateTimeField(_("period starts"))
    ends_at = models.DateTimeField(_("period ends"))
    orders_all = models.PositiveBigIntegerField(default=0)
    revenue_all_cents = models.BigIntegerField(default=0)
    gross_all_cents = models.BigIntegerField(default=0)
    refunded_all_cents = models.BigIntegerField(default=0)
    orders = models.PositiveBigIntegerField(default=0)  # of customers
    revenue_cents = models.BigIntegerField(default=0)  # of customers
    buyers = models.PositiveBigIntegerField(default=0)  # customers with an order in the period
    new_customers = models.PositiveBigIntegerField(default=0)  # first order in the period
    starting = models.PositiveBigIntegerField(default=0)  # S: active at the start
    ending = models.PositiveBigIntegerField(default=0)  # E: active at the end
    retained = models.PositiveBigIntegerField(default=0)  # active at the start and the end
    new_active = models.PositiveBigIntegerField(default=0)  # N: new and active at the end
    reactivated = models.PositiveBigIntegerField(default=0)  # E - N - retained: came back
    customers_to_date = models.PositiveBigIntegerField(default=0)  # >= 1 order by the end
    repeat_to_date = models.PositiveBigIntegerField(default=0)  # >= 2 orders by the end
    revenue_to_date_cents = models.BigIntegerField(default=0)  # of customers, by the end
    second_within_30 = models.PositiveBigIntegerField(default=0)  # of the new customers
    second_within_60 = models.PositiveBigIntegerField(default=0)
    second_within_90 = models.PositiveBigIntegerField(default=0)
    second_orders = models.PositiveBigIntegerField(default=0)  # second orders in the period
    second_days_total = models.PositiveBigIntegerField(default=0)
    second_days_median = models.DecimalField(max_digits=7, decimal_places=1, null=True)
    # The loyalty programme (through loyalty's selectors; see channels.py).
    members_to_date = models.PositiveBigIntegerField(default=0)  # joined by the end
    new_members = models.PositiveBigIntegerField(default=0)  # joined in the period
    ending_members = models.PositiveBigIntegerField(default=0)  # of `ending`: members by then
    member_orders = models.PositiveBigIntegerField(default=0)  # orders placed as members
    member_revenue_cents = models.BigIntegerField(default=0)
    points_issued = models.BigIntegerField(default=0)  # earned and added by hand
    points_taken_back = models.BigIntegerField(default=0)  # reversed and removed by hand
    points_redeemed = models.BigIntegerField(default=0)
    points_expired = models.BigIntegerField(default=0)
    # Email (through messaging's selectors): marketing mails sent in the period, and the
    # orders attributed to the last one before them (last touch), by the month of the order.
    email_mails = models.PositiveBigIntegerField(default=0)
    email_orders = models.PositiveBigIntegerField(default=0)
    email_revenue_cents = models.BigIntegerField(default=0)
    email_campaign_cents = models.BigIntegerField(default=0)  # key prefix "campaign:"
    email_flow_cents = models.BigIntegerField(default=0)  # key prefix "flow:" (automations)

    class Meta:
        verbose_name = _("period figures")
        verbose_name_plural = _("period figures")
        ordering = ["months", "month_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["months", "month_index"], name="analytics_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(retained__lte=models.F("starting")), name="analytics_retained_le_start"
            ),
        ]
        indexes = [models.Index(fields=["months", "starts_at"], name="analytics_period_starts")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.months})"

    @property
    def first_month_index(self) -> int:
        return self.month_index - self.months + 1

    @property
    def lost(self) -> int:
        return self.starting - self.retained

    @property
    def retention_rate(self):
        return metrics.retention_rate(retained=self.retained, starting=self.starting)

    @property
    def churn_rate(self):
        return metrics.churn_rate(retained=self.retained, starting=self.starting)

    @property
    def repeat_rate(self):
        return metrics.repeat_customer_rate(
            repeat=self.repeat_to_date, customers=self.customers_to_date
        )

    @property
    def purchase_frequency(self):
        return metrics.purchase_frequency(orders=self.orders, buyers=self.buyers)

    @property
    def aov_cents(self) -> int | None:
        return metrics.average_order_value_cents(
            revenue_cents=self.revenue_all_cents, orders=self.orders_all
        )

    @property
    def historic_clv_cents(self) -> int | None:
        return metrics.historic_clv_cents(
            revenue_cents=self.revenue_to_date_cents, customers=self.customers_to_date
        )

    @property
    def second_days_mean(self):
        return metrics.mean_days(total_days=self.second_days_total, count=self.second_orders)

    def second_rate(self, days: int):
        within = getattr(self, f"second_within_{days}")
        return metrics.second_purchase_rate(within=within, new_customers=self.new_customers)

    @property
    def second_rate_30(self):
        return self.second_rate(30)

    @property
    def second_rate_60(self):
        return self.second_rate(60)

    @property
    def second_rate_90(self):
        return self.second_rate(90)

    @property
    def member_share(self):
        return metrics.member_share(members=self.ending_members, active=self.ending)

    @property
    def member_revenue_share(self):
        return metrics.revenue_share(
            part_cents=self.member_revenue_cents, all_cents=self.revenue_all_cents
        )

    @property
    def redemption_rate(self):
        return metrics.redemption_rate(redeemed=self.points_redeemed, issued=self.points_issued)

    @property
    def email_revenue_share(self):
        return metrics.revenue_share(
            part_cents=self.email_revenue_cents, all_cents=self.revenue_all_cents
        )

    @property
    def email_other_cents(self) -> int:
        """Attributed to marketing mails that are neither a campaign nor an automation."""
        return self.email_revenue_cents - self.email_campaign_cents - self.email_flow_cents


class CohortCell(models.Model):
    """Customers acquired in `cohort` (first order) who bought again `offset` months later."""

    cohort_index = models.IntegerField(_("cohort"))
    offset = models.PositiveSmallIntegerField(_("months since first order"))
    customers = models.PositiveBigIntegerField(_("customers"))
    revenue_cents = models.BigIntegerField(_("revenue"))

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        ordering = ["cohort_index", "offset"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort_index", "offset"], name="analytics_cohort_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cohort:%Y-%m} +{self.offset}"

    @property
    def cohort(self) -> date:
        return month_start(self.cohort_index)


class CustomerMonth(models.Model):
    """A customer's orders and revenue in one month: the work table the figures come from."""

    # No constraint in the database: a million rows are written per recompute without a
    # lookup each; Django still deletes them with their customer (on_delete=CASCADE).
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    month_index = models.IntegerField()
    orders = models.PositiveIntegerField()
    revenue_cents = models.BigIntegerField()  # gross less refunds
    gross_cents = models.BigIntegerField()
    refunded_cents = models.BigIntegerField()
    first_at = models.DateTimeField()  # the month's first and last order
    last_at = models.DateTimeField()

    class Meta:
        verbose_name = _("customer month")
        verbose_name_plural = _("customer months")
        # One index: every index is paid for by each of the million rows of a recompute.
        indexes = [models.Index(fields=["customer", "month_index"], name="analytics_cm_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.month_index}"


class ActivitySpell(models.Model):
    """A stretch of months in which a customer counted as active, without a gap.

    Active from the month of a purchase until `active window − 1` months after the last
    purchase of the spell; a purchase after the spell ended starts a new spell
    (the customer was lost and came back).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,  # see CustomerMonth
    )
    spell_no = models.PositiveIntegerField()
    first_month = models.IntegerField()
    last_month = models.IntegerField()  # inclusive: the last month the customer counts active

    class Meta:
        verbose_name = _("activity spell")
        verbose_name_plural = _("activity spells")
        indexes = [
            models.Index(fields=["customer", "spell_no"], name="analytics_spell_customer"),
            models.Index(fields=["first_month", "last_month"], name="analytics_spell_months"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.first_month}–{self.last_month}"


class CustomerTotals(models.Model):
    """Work table of the recompute, empty outside it: a customer's totals from their months
    (lifetime, and as of the last two month ends), the input of the RFM scores.

    Kept apart from `CustomerFigures` so the scores are written with the rows, never by an
    UPDATE of a million indexed rows; no foreign-key constraint, for the same reason.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        primary_key=True,
    )
    first_month = models.IntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    orders = models.PositiveIntegerField()
    revenue_cents = models.BigIntegerField()
    first_month_orders = models.PositiveIntegerField()
    first_month_last_at = models.DateTimeField()
    next_month = models.IntegerField(null=True)
    next_month_first_at = models.DateTimeField(null=True)
    month_end_last_at = models.DateTimeField(null=True)
    month_end_orders = models.PositiveIntegerField()
    month_end_revenue_cents = models.BigIntegerField()
    previous_last_at = models.DateTimeField(null=True)
    previous_orders = models.PositiveIntegerField()
    previous_revenue_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("customer totals")
        verbose_name_plural = _("customer totals")

    def __str__(self) -> str:
        return str(self.customer_id)


class CustomerFigures(models.Model):
    """One customer's lifetime figures and RFM scores, as of the last recompute.

    The per-customer RFM segment is kept for messaging (see `selectors.customers_in_segment`).
    Only customers with at least one order and not erased have a row.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        primary_key=True,
        db_constraint=False,  # see CustomerMonth
    )
    first_order_at = models.DateTimeField(_("first order"))
    second_order_at = models.DateTimeField(_("second order"), null=True)
    last_order_at = models.DateTimeField(_("last order"))
    first_month = models.IntegerField()
    second_month = models.IntegerField(null=True)
    orders = models.PositiveIntegerField(_("orders"))
    revenue_cents = models.BigIntegerField(_("revenue"))
    days_to_second = models.PositiveIntegerField(_("days to second order"), null=True)
    recency_score = models.PositiveSmallIntegerField(_("R"))
    frequency_score = models.PositiveSmallIntegerField(_("F"))
    monetary_score = models.PositiveSmallIntegerField(_("M"))
    fm_score = models.PositiveSmallIntegerField(_("FM"))
    segment = models.CharField(_("segment"), max_length=24, choices=Segment.choices)
    # For the month-over-month moves: the segment at the end of the last complete month and
    # at the end of the month before ("" = no order by then).
    month_end_segment = models.CharField(
        _("segment at the end of last month"), max_length=24, choices=Segment.choices, blank=True
    )
    previous_segment = models.CharField(
        _("segment a month earlier"), max_length=24, choices=Segment.choices, blank=True
    )

    class Meta:
        verbose_name = _("customer figures")
        verbose_name_plural = _("customer figures")
        indexes = [
            models.Index(fields=["first_month"], name="analytics_cf_first"),
            models.Index(fields=["second_month"], name="analytics_cf_second"),
            models.Index(fields=["segment", "-revenue_cents"], name="analytics_cf_segment"),
            models.Index(
                fields=["previous_segment", "month_end_segment"], name="analytics_cf_move"
            ),
            models.Index(fields=["recency_score", "fm_score"], name="analytics_cf_rfm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recency_score__gte=1, recency_score__lte=5)
                & Q(frequency_score__gte=1, frequency_score__lte=5)
                & Q(monetary_score__gte=1, monetary_score__lte=5)
                & Q(fm_score__gte=1, fm_score__lte=5),
                name="analytics_rfm_scores_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment}"


class SegmentFigures(models.Model):
    """Customers and lifetime revenue per RFM segment now; customers at the last two month ends."""

    segment = models.CharField(_("segment"), max_length=24, choices=Segment.choices, unique=True)
    customers = models.PositiveBigIntegerField(_("customers"))
    revenue_cents = models.BigIntegerField(_("revenue"))
    month_end_customers = models.PositiveBigIntegerField(_("customers at the end of last month"))
    previous_customers = models.PositiveBigIntegerField(_("customers a month earlier"))

    class Meta:
        verbose_name = _("segment figures")
        verbose_name_plural = _("segment figures")

    def __str__(self) -> str:
        return self.segment


class SegmentMove(models.Model):
    """How many customers moved from one segment to another in the last complete month
    (end of the month before -> end of last month).

    An empty `from_segment` means the customer had no order by the end of the month before.
    """

    from_segment = models.CharField(max_length=24, choices=Segment.choices, blank=True)
    to_segment = models.CharField(max_length=24, choices=Segment.choices)
    customers = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = _("segment move")
        verbose_name_plural = _("segment moves")
        constraints = [
            models.UniqueConstraint(
                fields=["from_segment", "to_segment"], name="analytics_move_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_segment or '-'} → {self.to_segment}"


class RfmCell(models.Model):
    """Customers and revenue per cell of the R × FM grid."""

    recency_score = models.PositiveSmallIntegerField()
    fm_score = models.PositiveSmallIntegerField()
    customers = models.PositiveBigIntegerField()
    revenue_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("RFM cell")
        verbose_name_plural = _("RFM cells")
        constraints = [
            models.UniqueConstraint(
                fields=["recency_score", "fm_score"], name="analytics_rfm_cell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"R{self.recency_score} FM{self.fm_score}"


class ReportMail(models.Model):
    """The monthly report of one month, mailed to the owners once."""

    month_index = models.PositiveIntegerField(_("month"), unique=True)
    sent_at = models.DateTimeField(_("sent"))
    recipients = models.TextField(_("recipients"))  # one address a line

    class Meta:
        verbose_name = _("monthly report mail")
        verbose_name_plural = _("monthly report mails")
        ordering = ["-month_index"]

    def __str__(self) -> str:
        return f"{month_start(self.month_index):%Y-%m}"


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    EVALUATED = "evaluated", _("Evaluated")


class ExperimentDecision(models.TextChoices):
    NONE = "", _("Not decided yet")
    KEEP = "keep", _("Keep it")
    STOP = "stop", _("Stop it")
    EXTEND = "extend", _("Measure longer")


class Experiment(models.Model):
    """One turn of the loop baseline → hypothesis → measure → decide, in the owner's log.

    The baseline is the chosen figure for the months right before the start, taken when
    the experiment is written down; the result is the same figure for the experiment's
    months, taken when it is evaluated. Both are kept, so a later recompute does not
    rewrite what was decided on.
    """

    title = models.CharField(_("title"), max_length=200)
    hypothesis = models.TextField(_("hypothesis"))
    metric = models.CharField(_("figure"), max_length=20)
    first_month = models.PositiveIntegerField(_("first month"))  # month index
    months = models.PositiveSmallIntegerField(_("months"))
    baseline = models.DecimalField(
        _("baseline"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    result = models.DecimalField(
        _("result"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ExperimentStatus.choices,
        default=ExperimentStatus.RUNNING,
    )
    decision = models.CharField(
        _("decision"), max_length=16, choices=ExperimentDecision.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    evaluated_at = models.DateTimeField(_("evaluated"), null=True, blank=True)
    # Measured against a campaign's or automation's random control group (its key prefix in
    # messaging's outbox, "campaign:7" or "flow:3") instead of before and after; the two
    # groups' figures as measured, so a later measurement does not rewrite a decision.
    control_group = models.CharField(_("control group of"), max_length=120, blank=True)
    treated_people = models.PositiveIntegerField(null=True, blank=True)
    treated_converted = models.PositiveIntegerField(null=True, blank=True)
    treated_revenue_cents = models.BigIntegerField(null=True, blank=True)
    treated_squares = models.DecimalField(max_digits=36, decimal_places=0, null=True, blank=True)
    control_people = models.PositiveIntegerField(null=True, blank=True)
    control_converted = models.PositiveIntegerField(null=True, blank=True)
    control_revenue_cents = models.BigIntegerField(null=True, blank=True)
    control_squares = models.DecimalField(max_digits=36, decimal_places=0, null=True, blank=True)

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-first_month", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(months__in=[1, 3, 12]), name="analytics_exp_months")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def last_month(self) -> int:
        return self.first_month + self.months - 1

    @property
    def first_month_date(self):
        return month_start(self.first_month)

    @property
    def last_month_date(self):
        return month_start(self.last_month)


# The recommendations' tables live in their own module (and migration); Django finds models
# through this one.
# The predictive tables (BG/NBD, Gamma-Gamma) live in their own module.
from treu.analytics.prediction_models import (  # noqa: E402, F401
    ChurnRisk,
    CustomerPrediction,
    FitStatus,
    PredictionFit,
)
from treu.analytics.recommendations.models import (  # noqa: E402, F401
    BestSeller,
    CustomerProduct,
    ProductReorder,
    RelatedProduct,
)
