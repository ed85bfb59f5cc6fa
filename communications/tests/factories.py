"""factory_boy factories for communications models, shared by every app's tests."""

import factory

from communications.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    # Distinct, valid US numbers: +1 332 555 NNNN. Tests pick their own customers' numbers in 212
    # (and others), so a factory-made customer never takes a number a test spells out.
    phone = factory.Sequence(lambda n: f"+1332555{n % 10000:04d}")
    email = factory.LazyAttribute(lambda c: f"{c.name.lower().replace(' ', '.').replace(chr(39), '')}{c.phone[-4:]}@example.com")
