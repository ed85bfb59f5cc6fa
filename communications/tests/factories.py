"""factory_boy factories for communications models, shared by every app's tests."""

import factory

from communications.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    # Distinct, valid US numbers in the 555-01xx fiction range and beyond: +1 212 555 NNNN.
    phone = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")
    email = factory.LazyAttribute(lambda c: f"{c.name.lower().replace(' ', '.').replace(chr(39), '')}{c.phone[-4:]}@example.com")
