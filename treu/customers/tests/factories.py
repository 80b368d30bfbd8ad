from __future__ import annotations

import factory

from treu.customers.models import Address, Customer, Note


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    number = factory.Sequence(lambda n: 500000 + n)
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    email = factory.Sequence(lambda n: f"kunde{n}@example.de")
    language = "de"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    street = factory.Faker("street_address", locale="de_DE")
    postcode = factory.Faker("postcode", locale="de_DE")
    city = factory.Faker("city", locale="de_DE")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    text = "Mag kräftige Röstungen."
