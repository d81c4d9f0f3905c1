"""Shared fixtures: two rooftops and a staff member in every role, on the real PostgreSQL."""

import pytest
from rest_framework.test import APIClient

from crm.choices import Role

from .factories import CustomerFactory, DealershipFactory, UserFactory, VehicleFactory


@pytest.fixture
def rooftop(db):
    return DealershipFactory(code="SH01", name="上海浦东4S店")


@pytest.fixture
def other_rooftop(db):
    return DealershipFactory(code="BJ01", name="北京朝阳4S店")


@pytest.fixture
def staff(rooftop):
    """One user per role, each assigned to ``rooftop`` only."""
    return {role: UserFactory(username=role.name.lower(), role=role, rooftops=[rooftop]) for role in Role}


@pytest.fixture
def advisor(staff):
    return staff[Role.SERVICE_ADVISOR]


@pytest.fixture
def api(advisor):
    client = APIClient()
    client.force_authenticate(advisor)
    return client


def api_client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def customer(rooftop):
    return CustomerFactory(dealership=rooftop, full_name="王小明", mobile="+8613812345678")


@pytest.fixture
def vehicle(rooftop, customer):
    return VehicleFactory(dealership=rooftop, owner=customer, vin="1M8GDM9AXKP042788", plate="沪A12345")
