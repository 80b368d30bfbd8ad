"""The block editor as a plain form: fields per block, actions as submit buttons (no JS)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from treu.customers import selectors as customer_selectors
from treu.messaging.mail_templates import blocks as b
from treu.messaging.models import MailTemplate, MessagePurpose


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=MessagePurpose.choices,
        help_text=_(
            "Marketing mails carry the unsubscribe link and need consent; transactional mails "
            "(an order, the points balance) do not."
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    preheader = forms.CharField(
        label=_("Preheader"),
        max_length=200,
        required=False,
        help_text=_("The line mail programs show after the subject."),
    )


def initial_for(mail_template: MailTemplate | None) -> dict:
    if mail_template is None:
        return {"kind": MessagePurpose.MARKETING}
    return {
        "name": mail_template.name,
        "kind": mail_template.kind,
        "subject": mail_template.subject,
        "preheader": mail_template.preheader,
    }


def blocks_from_post(post) -> list[dict]:
    """The blocks as posted, in order (unvalidated: the service checks them)."""
    try:
        count = min(int(post.get("block_count", 0)), b.MAX_BLOCKS + 1)
    except ValueError:
        count = 0
    blocks = []
    for index in range(count):
        kind = post.get(f"b-{index}-type")
        if kind not in b.BLOCK_TYPES:
            continue
        _label, fields = b.BLOCK_TYPES[kind]
        blocks.append(
            {"type": kind} | {name: post.get(f"b-{index}-{name}", "") for name, *_ in fields}
        )
    return blocks


def apply_action(blocks: list[dict], action: str, new_type: str = "") -> list[dict]:
    """Add, move or remove a block; anything else leaves the list as it is."""
    blocks = list(blocks)
    verb, _sep, argument = action.partition(":")
    if verb == "add" and new_type in b.BLOCK_TYPES and len(blocks) < b.MAX_BLOCKS:
        blocks.append({"type": new_type, **b.NEW_BLOCK[new_type]})
        return blocks
    if not argument.isdigit() or int(argument) >= len(blocks):
        return blocks
    index = int(argument)
    if verb == "remove":
        del blocks[index]
    elif verb == "up" and index > 0:
        blocks[index - 1], blocks[index] = blocks[index], blocks[index - 1]
    elif verb == "down" and index < len(blocks) - 1:
        blocks[index + 1], blocks[index] = blocks[index], blocks[index + 1]
    return blocks


@dataclass(frozen=True)
class BlockField:
    name: str
    label: str
    kind: str
    value: object


@dataclass(frozen=True)
class BlockRow:
    index: int
    type: str
    label: str
    fields: list[BlockField]
    last: bool


def editor_rows(blocks: list[dict]) -> list[BlockRow]:
    rows = []
    for index, block in enumerate(blocks):
        label, fields = b.BLOCK_TYPES[block["type"]]
        rows.append(
            BlockRow(
                index,
                block["type"],
                str(label),
                [BlockField(n, str(lab), k, block.get(n, "")) for n, lab, k, _m in fields],
                index == len(blocks) - 1,
            )
        )
    return rows


def block_type_choices() -> list[tuple[str, str]]:
    return [(kind, str(label)) for kind, (label, _fields) in b.BLOCK_TYPES.items()]


def customer_from_text(text: str):
    """A customer who has not been erased, by number ('K00042', '42') or email; else None."""
    text = (text or "").strip()
    if not text:
        return None
    if "@" in text:
        customer = customer_selectors.customer_by_email(text)
    else:
        number = customer_selectors.customer_number_in(text)
        customer = customer_selectors.customer_by_number(number) if number is not None else None
    return customer if customer is not None and not customer.erased_at else None
