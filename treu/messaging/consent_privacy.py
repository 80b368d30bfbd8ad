"""What the consent part keeps about customers (see treu.core.privacy).

The history is the proof that each marketing mail was allowed (Art. 7(1) DSGVO) and the
defence against a complaint (Art. 17(3)(e)): on erasure marketing stops at once, and the
history stays in minimised form (times, text versions, IP addresses, ways of withdrawal;
the address only as its SHA-256, free-text reasons blanked).
"""

from __future__ import annotations

from treu.core import privacy
from treu.messaging.models import Consent, ConsentRecord, ConsentText, Topic
from treu.messaging.services import erase_consents

RETENTION = (
    "Einwilligungsnachweis (Art. 7 Abs. 1, Art. 17 Abs. 3 lit. e DSGVO): Zeitpunkte, "
    "Textversionen und IP-Adressen bleiben, die Adresse nur als Hash, Freitext-Gründe werden "
    "gelöscht; Werbung endet sofort."
)

privacy.register(
    Consent,
    customer="customer",
    fields=[
        "channel",
        "address",
        "state",
        "legal_basis",
        "source",
        "wording__version",
        "frequency",
        "signed_up_at",
        "confirmation_sent_at",
        "confirmed_at",
        "withdrawn_at",
    ],  # fmt: skip
    erasure=privacy.Erasure.ANONYMISE,
    eraser=erase_consents,
    retention=RETENTION,
)
privacy.register(
    ConsentRecord,
    customer="customer",
    fields=[
        "occurred_at",
        "channel",
        "action",
        "state",
        "legal_basis",
        "source",
        "wording__version",
        "wording__wording",
        "address",
        "ip",
        "method",
        "reason",
        "detail",
    ],  # fmt: skip
    erasure=privacy.Erasure.ANONYMISE,
    # Minimised by erase_consents (the Consent registration) in the same transaction.
    eraser=lambda customer: 0,
    retention=RETENTION,
)
privacy.not_personal(ConsentText, reason="The versioned wording of the consent forms.")
privacy.not_personal(Topic, reason="Newsletter topics the owner offers.")
