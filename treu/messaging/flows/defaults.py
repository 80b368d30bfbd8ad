"""treu's eleven default automations: ready to switch on, switched off until the owner does.

Each sends one of the German default mail templates (`mail_templates/defaults.py`, by its
key). Created after every migrate when missing (`services.ensure_default_flows`); once
created they belong to the owner and are never written again.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from treu.messaging.models import FlowTrigger

# The figures each trigger reads (key: (lowest, highest, German message)).
TRIGGER_SETTINGS = {
    FlowTrigger.OVERDUE: {
        "days": (0, 365, _("Past the expected order by 0 to 365 days.")),
    },
    FlowTrigger.RUNNING_OUT: {
        "within_days": (1, 30, _("Remind 1 to 30 days before it runs out.")),
    },
    FlowTrigger.UNENGAGED: {
        "days": (30, 730, _("Without opening or clicking for 30 to 730 days.")),
        "min_mails": (1, 100, _("After 1 to 100 marketing mails in that time.")),
    },
}


def _send(template: str) -> tuple[str, dict]:
    return ("send", {"template": template})


def _wait(days: int = 0, hours: int = 0, anchor: str = "") -> tuple[str, dict]:
    return ("wait", {"days": days, "hours": hours, "anchor": anchor})


DEFAULT_FLOWS: list[dict] = [
    {
        "key": "welcome",
        "name": "Willkommensstrecke",
        "description": "Begrüßt neue Newsletter-Abonnentinnen und -Abonnenten, sobald sie ihre "
        "Anmeldung bestätigt haben. Wer nach einer Woche noch nichts bestellt hat, bekommt "
        "die Markierung „Abonnent ohne Kauf“ für spätere Kampagnen.",
        "trigger": FlowTrigger.NEWSLETTER_CONFIRMED,
        "control_percent": 0,
        "steps": [
            _send("welcome"),
            _wait(days=7),
            ("condition", {"test": "ordered", "expect": False}),
            ("tag", {"tag": "Abonnent ohne Kauf"}),
        ],
    },
    {
        "key": "post_purchase",
        "name": "Danke nach dem ersten Einkauf",
        "description": "Ein Dankeschön mit Tipps zur Zubereitung, einen Tag nach der ersten "
        "Bestellung.",
        "trigger": FlowTrigger.FIRST_ORDER,
        "control_percent": 10,
        "steps": [_wait(days=1), _send("first_purchase_thanks")],
    },
    {
        "key": "review_request",
        "name": "Bitte um Bewertung",
        "description": "Fragt fünf Tage nach der Zustellung einer Bestellung freundlich nach "
        "einer Bewertung (nie mehrere Anfragen gleichzeitig).",
        "trigger": FlowTrigger.ORDER,
        "control_percent": 0,
        "steps": [_wait(days=5, anchor="delivery"), _send("review_request")],
    },
    {
        "key": "account_invitation",
        "name": "Einladung zum Kundenkonto",
        "description": "Lädt Erstkäuferinnen und Erstkäufer zwei Tage nach der ersten "
        "Bestellung ein, ein Kundenkonto anzulegen.",
        "trigger": FlowTrigger.FIRST_ORDER,
        "control_percent": 0,
        "steps": [_wait(days=2), _send("account_invitation")],
    },
    {
        "key": "birthday",
        "name": "Geburtstag mit Gutschein",
        "description": "Am Geburtstag ein Gruß mit einem Gutschein über 5 € (für Mitglieder "
        "des Treueprogramms; alle anderen bekommen den Gruß ohne Gutschein).",
        "trigger": FlowTrigger.BIRTHDAY,
        "control_percent": 10,
        "steps": [
            (
                "coupon",
                {
                    "value": "amount",
                    "amount_cents": 500,
                    "valid_days": 30,
                    "label": "Geburtstagsgutschein",
                },
            ),
            _send("birthday"),
        ],
    },
    {
        "key": "anniversary",
        "name": "Jahrestag des ersten Einkaufs",
        "description": "Erinnert am Jahrestag der ersten Bestellung daran, wie lange man "
        "sich schon kennt.",
        "trigger": FlowTrigger.ANNIVERSARY,
        "control_percent": 10,
        "steps": [_send("first_purchase_anniversary")],
    },
    {
        "key": "winback",
        "name": "Wir vermissen Sie",
        "description": "Für Stammkundinnen und -kunden, deren nächste Bestellung laut "
        "Prognose seit 30 Tagen überfällig ist: ein Gruß mit 10 % Gutschein. Wer danach "
        "vier Wochen nicht bestellt, wird als „nicht zurückgewonnen“ markiert.",
        "trigger": FlowTrigger.OVERDUE,
        "trigger_settings": {"days": 30},
        "control_percent": 10,
        "steps": [
            (
                "coupon",
                {"value": "percent", "percent": 10, "valid_days": 30, "label": "Willkommen zurück"},
            ),
            _send("winback"),
            _wait(days=28),
            ("condition", {"test": "ordered", "expect": False}),
            ("tag", {"tag": "Nicht zurückgewonnen"}),
        ],
    },
    {
        "key": "replenishment",
        "name": "Erinnerung zum Nachbestellen",
        "description": "Wenn ein Verbrauchsprodukt laut bisherigem Kaufrhythmus in den "
        "nächsten fünf Tagen zur Neige geht.",
        "trigger": FlowTrigger.RUNNING_OUT,
        "trigger_settings": {"within_days": 5},
        "control_percent": 10,
        "steps": [_send("replenishment")],
    },
    {
        "key": "points_expiring",
        "name": "Punkte verfallen bald",
        "description": "Erinnert Mitglieder 30 und 7 Tage vor dem Verfall ihrer Punkte.",
        "trigger": FlowTrigger.POINTS_EXPIRING,
        "control_percent": 0,
        "steps": [_send("points_expiring")],
    },
    {
        "key": "tier_reached",
        "name": "Neue Stufe erreicht",
        "description": "Gratuliert zur höheren Stufe und legt eine Aufgabe an: eine "
        "handgeschriebene Dankeskarte an diese Top-Kundin, diesen Top-Kunden.",
        "trigger": FlowTrigger.TIER_REACHED,
        "control_percent": 0,
        "steps": [
            _send("tier_reached"),
            ("task", {"title": "Handgeschriebene Dankeskarte schicken", "due_days": 7}),
        ],
    },
    {
        "key": "sunset",
        "name": "Abschied von Stillen (Sunset)",
        "description": "Wer ein halbes Jahr mindestens fünf Newsletter bekam und keinen "
        "geöffnet oder angeklickt hat, bekommt die Frage „Möchten Sie weiter von uns "
        "hören?“. Ohne Klick in 14 Tagen endet die Werbeeinwilligung — das schützt den "
        "Ruf Ihrer Absenderadresse.",
        "trigger": FlowTrigger.UNENGAGED,
        "trigger_settings": {"days": 180, "min_mails": 5},
        "control_percent": 0,
        "steps": [
            _send("sunset"),
            _wait(days=14),
            ("condition", {"test": "clicked", "expect": False}),
            ("end_marketing", {}),
        ],
    },
]
