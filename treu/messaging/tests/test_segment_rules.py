"""The rule tree's schema: what is accepted, how it is stored, and German errors for the rest."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.utils import translation

from treu.commerce.tests.factories import ShopFactory
from treu.messaging.segments import fields as F
from treu.messaging.segments import rules

pytestmark = pytest.mark.django_db


def _tree(*conditions, match="all"):
    return {"match": match, "groups": [{"match": "all", "conditions": list(conditions)}]}


def _problems(tree) -> list[str]:
    with translation.override("de"), pytest.raises(rules.RuleError) as caught:
        rules.normalise(tree)
    return caught.value.messages


def test_it_stores_values_normalised():
    shop = ShopFactory()
    tree = rules.normalise(
        _tree(
            {"field": "order_count", "op": "gte", "value": " 3 "},
            {"field": "first_order", "op": "since", "value": "2026-01-05"},
            {"field": "source_shop", "op": "in", "value": [shop.pk, str(shop.pk)]},
            {"field": "postcode", "op": "starts_with", "value": " 80 "},
        )
    )
    assert tree == {
        "version": 1,
        "match": "all",
        "groups": [
            {
                "match": "all",
                "conditions": [
                    {"field": "order_count", "op": "gte", "value": 3},
                    {"field": "first_order", "op": "since", "value": "2026-01-05"},
                    {"field": "source_shop", "op": "in", "value": [str(shop.pk)]},
                    {"field": "postcode", "op": "starts_with", "value": "80"},
                ],
            }
        ],
    }


def test_no_groups_means_every_customer_and_empty_groups_are_dropped():
    tree = rules.normalise({"match": "any", "groups": [{"match": "all", "conditions": []}]})
    assert tree == {"version": 1, "match": "any", "groups": []}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "shoe_size", "op": "gte", "value": 1}, "Unbekanntes Feld „shoe_size“."),
        (
            {"field": "order_count", "op": "within", "value": 1},
            "„Anzahl der Bestellungen“ lässt sich nicht mit „within“ vergleichen; "
            "möglich: „mindestens“, „höchstens“, „genau“.",
        ),
        (
            {"field": "order_count", "op": "gte", "value": "drei"},
            "Die Zahl muss eine ganze Zahl sein.",
        ),
        (
            {"field": "order_count", "op": "gte", "value": True},
            "Die Zahl muss eine ganze Zahl sein.",
        ),
        (
            {"field": "total_spent", "op": "gte", "value": -5},
            "Der Betrag in Cent muss zwischen 0 und 1000000000000 liegen.",
        ),
        (
            {"field": "last_order", "op": "within", "value": 0},
            "Die Zahl der Tage muss zwischen 1 und 36500 liegen.",
        ),
        (
            {"field": "last_order", "op": "before", "value": "31.02.2026"},
            "Datum wie 31.03.2026 eingeben.",
        ),
        ({"field": "tags", "op": "in", "value": []}, "Bitte mindestens einen Wert wählen."),
        (
            {"field": "rfm_segment", "op": "in", "value": ["vip"]},
            "Unbekannter Wert für „RFM-Segment“: vip.",
        ),
        ({"field": "city", "op": "is", "value": "  "}, "Bitte geben Sie einen Text an."),
        ({"field": "order_count", "op": "gte"}, "Die Zahl muss eine ganze Zahl sein."),
        (
            {"field": "order_count", "op": "gte", "value": 1, "x": 1},
            "Eine Bedingung enthält „field“, „op“ und „value“.",
        ),
    ],
)
def test_it_explains_a_bad_condition_in_german_with_its_place(condition, message):
    fine = {"field": "order_count", "op": "gte", "value": 1}
    tree = {"groups": [{"conditions": [fine]}, {"conditions": [fine, condition]}]}
    assert _problems(tree) == [f"Gruppe 2, Bedingung 2: {message}"]


def test_it_lists_every_problem_at_once():
    tree = {
        "match": "some",
        "groups": [
            {"match": "all", "conditions": [{"field": "x", "op": "gte", "value": 1}]},
            "kaputt",
        ],
        "extra": 1,
    }
    assert _problems(tree) == [
        "Unbekannte Schlüssel: extra.",
        "Gruppen mit „all“ oder „any“ verknüpfen.",
        "Gruppe 1, Bedingung 1: Unbekanntes Feld „x“.",
        "Gruppe 2: Eine Gruppe muss ein Objekt mit Bedingungen sein.",
    ]


def test_it_refuses_what_is_not_a_tree():
    assert _problems([1, 2]) == ["Die Regeln müssen ein Objekt mit Gruppen sein."]
    assert _problems({"groups": "alle"}) == ["Die Gruppen müssen eine Liste sein."]
    assert _problems({"version": 2, "groups": []}) == ["Unbekannte Regel-Version 2."]


def test_it_limits_the_size_of_a_tree():
    many = [{"field": "order_count", "op": "gte", "value": 1}] * 51
    assert _problems(_tree(*many)) == ["Höchstens 50 Bedingungen."]


def test_an_rfm_segment_rule_expresses_the_analytics_drill_down():
    # What analytics' drill-down lists ("customers in segment At risk") is a rule here.
    tree = rules.normalise(_tree({"field": "rfm_segment", "op": "in", "value": ["at_risk"]}))
    assert rules.describe(tree) == [("alle von", ["RFM-Segment eines von Gefährdet"])]


def test_a_field_can_be_added_in_a_few_lines_and_is_listened_for():
    heard = []
    F.on_new_trigger(heard.append)
    try:
        F.register_field(
            F.RuleField(
                key="churn_risk_test", label="Abwanderungsrisiko", group="Prognosen",
                kind=F.NUMBER, operators=(F.GTE,),
                compile=lambda op, value, ctx: Q(order_count__gte=value),
                triggers=("analytics.prediction_changed",),
            )
        )  # fmt: skip
        tree = rules.normalise(_tree({"field": "churn_risk_test", "op": "gte", "value": 2}))
        assert tree["groups"][0]["conditions"][0]["value"] == 2
        assert "analytics.prediction_changed" in heard
    finally:
        F._fields.pop("churn_risk_test")
        F._trigger_listeners.remove(heard.append)


def test_describe_reads_conditions_in_german():
    tree = rules.normalise(
        _tree(
            {"field": "total_spent", "op": "gte", "value": 12_345},
            {"field": "last_order", "op": "not_within", "value": 90},
            {"field": "first_order", "op": "before", "value": "2026-01-31"},
            match="any",
        )
    )
    with translation.override("de"):
        assert rules.describe(tree) == [
            (
                "alle von",
                [
                    "Umsatz gesamt mindestens 123,45\xa0€",
                    "Letzte Bestellung: nicht in den letzten 90 Tagen",
                    "Erste Bestellung vor dem 31.01.2026",
                ],
            )
        ]
