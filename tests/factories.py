"""factory_boy factories for rooftops, staff, customers and vehicles."""

import random

import factory
from django.contrib.auth.models import Group

from crm import demo
from crm.choices import Role
from crm.models import Customer, Dealership, User, Vehicle

_rng = random.Random(7)


class DealershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dealership
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"测试4S店 {n}")
    time_zone = "Asia/Shanghai"
    phone_region = "CN"
    labour_rate_amount = "380.00"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    full_name = factory.Sequence(lambda n: f"员工{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=Role(extracted).value))

    @factory.post_generation
    def rooftops(self, create, extracted, **kwargs):
        if extracted:
            self.dealerships.set(extracted)
        self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    dealership = factory.SubFactory(DealershipFactory)
    full_name = factory.LazyFunction(lambda: demo.person_name(_rng))
    mobile = factory.LazyFunction(lambda: demo.mainland_mobile(_rng))


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    dealership = factory.SubFactory(DealershipFactory)
    vin = factory.LazyFunction(lambda: demo.vin(_rng, "LSV", 2022))
    plate = factory.LazyFunction(lambda: demo.mainland_plate(_rng, "沪", "A"))
    make = "Volkswagen"
    model = "Lavida"
    year = 2022
