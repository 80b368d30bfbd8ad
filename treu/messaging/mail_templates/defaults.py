"""treu's German default mail templates, one per automation: friendly, never pushy, in the
voice of a small business owner (written for a coffee roaster, fitting a bakery or a shop).

Created after every migrate (`services.ensure_default_mail_templates`); an owner edits them
freely and treu never writes an edited one again. Links start with `shop:/`, the online shop.
"""

from __future__ import annotations

GREETING = "{% if vorname %}Hallo {{ vorname }}{% else %}Hallo{% endif %},"


def _t(text: str) -> dict:
    return {"type": "text", "text": text}


def _h(text: str) -> dict:
    return {"type": "heading", "text": text}


def _button(label: str, url: str = "shop:/") -> dict:
    return {"type": "button", "label": label, "url": url}


def _products(title: str = "Das könnte Ihnen auch schmecken", count: int = 3) -> dict:
    return {"type": "products", "title": title, "count": count}


SIGNATURE = _t('Herzliche Grüße\n{{ shopname|default:"Ihr Team" }}')

DEFAULT_TEMPLATES: list[dict] = [
    {
        "key": "welcome",
        "name": "Willkommen",
        "kind": "marketing",
        "subject": "Schön, dass Sie da sind{% if vorname %}, {{ vorname }}{% endif %}!",
        "preheader": "Ein kurzes Hallo aus unserer kleinen Rösterei.",
        "blocks": [
            _h('Willkommen, {{ vorname|default:"liebe Kundin, lieber Kunde" }}!'),
            _t(
                "schön, dass Sie sich für unseren Newsletter eingetragen haben. Wir sind ein "
                "kleines Team und machen jeden Tag mit viel Sorgfalt das, was wir lieben.\n\n"
                "Ab und zu schreiben wir Ihnen, wenn es etwas **wirklich Neues** gibt: eine "
                "neue Ernte, ein Tipp für zu Hause oder eine kleine Überraschung. Versprochen: "
                "nicht zu oft."
            ),
            _button("Unser Sortiment ansehen"),
            SIGNATURE,
        ],
    },
    {
        "key": "first_purchase_thanks",
        "name": "Danke für den ersten Einkauf",
        "kind": "transactional",
        "subject": "Danke für Ihre erste Bestellung!",
        "preheader": "Und ein paar Tipps, damit alles so schmeckt, wie es soll.",
        "blocks": [
            _t(GREETING),
            _t(
                "vielen Dank, dass Sie bei uns bestellt haben. Das bedeutet uns als kleinem "
                "Betrieb wirklich viel.\n\n"
                "Damit Sie lange Freude daran haben, drei kleine Tipps:\n\n"
                "**Richtig lagern:** kühl, trocken und dunkel, am besten in der gut "
                "verschlossenen Verpackung – nicht im Kühlschrank.\n\n"
                "**Frisch genießen:** angebrochene Packungen innerhalb von etwa vier Wochen "
                "aufbrauchen, dann schmeckt es am besten.\n\n"
                "**Fragen?** Antworten Sie einfach auf diese E-Mail, wir helfen gern."
            ),
            SIGNATURE,
        ],
    },
    {
        "key": "review_request",
        "name": "Bitte um Bewertung",
        "kind": "marketing",
        "subject": "Wie hat es Ihnen geschmeckt?",
        "preheader": "Ihre ehrliche Meinung hilft uns – und anderen.",
        "blocks": [
            _t(GREETING),
            _t(
                "Ihre Bestellung ist jetzt ein paar Tage bei Ihnen. Wir sind neugierig: Wie "
                "gefällt sie Ihnen?\n\n"
                "Wenn Sie eine Minute Zeit haben, freuen wir uns über eine kurze Bewertung. "
                "Ehrlich ist uns am liebsten – auch Kritik hilft uns, besser zu werden."
            ),
            _button("Bewertung schreiben"),
            SIGNATURE,
        ],
    },
    {
        "key": "account_invitation",
        "name": "Einladung zum Kundenkonto",
        "kind": "marketing",
        "subject": "Ihr Kundenkonto – wenn Sie mögen",
        "preheader": 'Bestellungen im Blick und {{ punktename|default:"Punkte" }} sammeln.',
        "blocks": [
            _t(GREETING),
            _t(
                "mit einem Kundenkonto sehen Sie Ihre Bestellungen auf einen Blick, bestellen "
                "Ihre Lieblinge mit zwei Klicks nach und sammeln bei jedem Einkauf "
                '{{ punktename|default:"Punkte" }}.\n\n'
                "Das Konto ist kostenlos und in einer Minute angelegt. Und wenn Sie lieber "
                "ohne bestellen: völlig in Ordnung."
            ),
            _button("Konto anlegen"),
            SIGNATURE,
        ],
    },
    {
        "key": "birthday",
        "name": "Geburtstag",
        "kind": "marketing",
        "subject": "Alles Gute zum Geburtstag{% if vorname %}, {{ vorname }}{% endif %}!",
        "preheader": "Eine kleine Aufmerksamkeit von uns.",
        "blocks": [
            _h("Alles Gute zum Geburtstag!"),
            _t(
                '{{ vorname|default:"Liebe Kundin, lieber Kunde" }}, wir wünschen Ihnen '
                "einen wunderbaren Tag und ein Jahr voller guter Momente.\n\n"
                "Als kleines Geschenk haben wir etwas für Sie:"
            ),
            {"type": "coupon", "text": "Ihr Geburtstagsgutschein:"},
            _t("Lösen Sie ihn einfach bei Ihrer nächsten Bestellung ein – ganz ohne Eile."),
            SIGNATURE,
        ],
    },
    {
        "key": "first_purchase_anniversary",
        "name": "Jahrestag des ersten Einkaufs",
        "kind": "marketing",
        "subject": "Heute vor einem Jahr …",
        "preheader": "… haben Sie zum ersten Mal bei uns bestellt.",
        "blocks": [
            _t(GREETING),
            _t(
                "heute vor einem Jahr haben Sie zum ersten Mal bei uns bestellt. Danke, dass "
                "Sie uns seitdem treu sind – ohne Menschen wie Sie gäbe es uns nicht."
            ),
            {
                "type": "points",
                "text": "Übrigens: Sie haben {{ punkte }} {{ punktename }} gesammelt.",
            },
            _products("Vielleicht etwas für das neue Jahr?"),
            SIGNATURE,
        ],
    },
    {
        "key": "winback",
        "name": "Wir vermissen dich",
        "kind": "marketing",
        "subject": "Wir vermissen Sie{% if vorname %}, {{ vorname }}{% endif %}",
        "preheader": "Es ist eine Weile her – schauen Sie doch mal wieder vorbei.",
        "blocks": [
            _t(GREETING),
            _t(
                "es ist eine Weile her, seit Sie zuletzt bei uns bestellt haben. Vielleicht "
                "passt es gerade einfach nicht – das ist völlig in Ordnung.\n\n"
                "Falls Sie Lust haben, wieder etwas Neues zu probieren: Hier ist, was gerade "
                "frisch bei uns ist."
            ),
            _products("Frisch für Sie ausgesucht"),
            _button("Ins Sortiment schauen"),
            SIGNATURE,
        ],
    },
    {
        "key": "replenishment",
        "name": "Erinnerung zum Nachbestellen",
        "kind": "marketing",
        "subject": "Geht Ihr Vorrat zur Neige?",
        "preheader": "Damit Ihnen nichts ausgeht – eine kleine Erinnerung.",
        "blocks": [
            _t(GREETING),
            _t(
                "nach unserer Erfahrung ist Ihre letzte Bestellung bald aufgebraucht. Damit "
                "Sie nicht ohne dastehen, erinnern wir Sie gern rechtzeitig.\n\n"
                "Wenn noch genug da ist: einfach ignorieren."
            ),
            _button("Jetzt nachbestellen"),
            _products("Oder mal etwas anderes?", 2),
            SIGNATURE,
        ],
    },
    {
        "key": "points_expiring",
        "name": "Punkte verfallen bald",
        "kind": "transactional",
        "subject": 'Ihre {{ punktename|default:"Punkte" }} verfallen bald',
        "preheader": "Noch ist Zeit, sie einzulösen.",
        "blocks": [
            _t(GREETING),
            _t(
                "ein kurzer Hinweis, damit nichts verloren geht: Ein Teil Ihrer "
                '{{ punktename|default:"Punkte" }} verfällt demnächst.'
            ),
            {"type": "points", "text": "Ihr Stand: **{{ punkte }} {{ punktename }}**"},
            _t("Sie können sie bei Ihrer nächsten Bestellung gegen eine Prämie eintauschen."),
            _button("Prämien ansehen"),
            SIGNATURE,
        ],
    },
    {
        "key": "tier_reached",
        "name": "Neue Stufe erreicht",
        "kind": "transactional",
        "subject": 'Glückwunsch: Sie sind jetzt {{ stufe|default:"eine Stufe höher" }}!',
        "preheader": "Danke für Ihre Treue.",
        "blocks": [
            _h("Herzlichen Glückwunsch!"),
            _t(
                '{{ vorname|default:"Liebe Kundin, lieber Kunde" }}, Sie haben die Stufe '
                '**{{ stufe|default:"über Ihrer bisherigen" }}** erreicht. Danke, dass Sie '
                "so oft bei uns einkaufen – das freut uns sehr."
            ),
            {"type": "points", "text": "Ihr Punktestand: {{ punkte }} {{ punktename }}"},
            SIGNATURE,
        ],
    },
    {
        "key": "sunset",
        "name": "Sollen wir weiter schreiben?",
        "kind": "marketing",
        "subject": "Sollen wir Ihnen weiter schreiben?",
        "preheader": "Eine ehrliche Frage – ein Klick genügt.",
        "blocks": [
            _t(GREETING),
            _t(
                "wir haben den Eindruck, dass unsere E-Mails Sie gerade nicht so recht "
                "erreichen. Das ist völlig in Ordnung – niemand soll von uns Post bekommen, "
                "die er nicht möchte.\n\n"
                "Wenn Sie weiter von uns hören möchten, klicken Sie einfach auf den Knopf "
                "unten. Sonst hören wir in ein paar Wochen von selbst auf, Ihnen zu schreiben. "
                "Abmelden können Sie sich jederzeit über den Link am Ende dieser E-Mail."
            ),
            _button("Ja, gerne weiter"),
            SIGNATURE,
        ],
    },
]
