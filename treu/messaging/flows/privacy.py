"""Automations' personal data (see treu.core.privacy): who walked through which flow,
what each step did for them, and the staff tasks about them."""

from __future__ import annotations

from treu.core import privacy
from treu.messaging.models import Enrollment, Flow, FlowStep, StaffTask, StepRun

privacy.register(
    Enrollment,
    customer="customer",
    fields=["flow_id", "occasion", "held_out", "status", "enrolled_at", "finished_at", "context"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    StepRun,
    customer="enrollment__customer",
    fields=["step_id", "at", "outcome", "detail"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    StaffTask,
    customer="customer",
    fields=["title", "due_on", "created_at", "done_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.not_personal(Flow, reason="an automation's name, trigger and settings")
privacy.not_personal(FlowStep, reason="a step's kind and settings")
