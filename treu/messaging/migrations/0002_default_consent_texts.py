"""The first version of the two wordings, so the sign-up forms work from the start.

The owner publishes their own versions in the back office (Newsletter-Einwilligung →
Texte); records always point at the version that was shown.
"""

from django.db import migrations

CONSENT = (
    "Ja, ich möchte den Newsletter per E-Mail erhalten: Neuigkeiten, Angebote und "
    "Wissenswertes rund um unsere Produkte. Meine Einwilligung kann ich jederzeit "
    "widerrufen, z. B. über den Abmeldelink in jeder E-Mail. Meine Daten werden nur dafür "
    "verwendet; mehr dazu in der Datenschutzerklärung."
)
OBJECTION_NOTICE = (
    "Wir verwenden Ihre E-Mail-Adresse, um Ihnen Informationen zu eigenen ähnlichen "
    "Produkten zu senden. Sie können dieser Verwendung jederzeit widersprechen, ohne dass "
    "hierfür andere als die Übermittlungskosten nach den Basistarifen entstehen, z. B. über "
    "den Abmeldelink in jeder E-Mail."
)


def add_texts(apps, schema_editor):
    ConsentText = apps.get_model("messaging", "ConsentText")
    for basis, wording in (("consent", CONSENT), ("existing_customer", OBJECTION_NOTICE)):
        if not ConsentText.objects.filter(channel="email", basis=basis).exists():
            ConsentText.objects.create(channel="email", basis=basis, version=1, wording=wording)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(add_texts, migrations.RunPython.noop)]
