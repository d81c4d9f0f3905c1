"""The customer, vehicle and dealership API: validation, duplicates, scoping, pagination, query counts."""

import pytest

from crm.choices import Role
from crm.models import Customer, Vehicle, VehicleOwnership

from ..conftest import api_client_for
from ..factories import CustomerFactory, VehicleFactory


def test_create_customer_normalises_mobile(api, rooftop):
    response = api.post(
        "/api/customers/", {"dealership": rooftop.pk, "full_name": "李雷", "mobile": "139 0000 1111"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["mobile"] == "+8613900001111"
    assert Customer.objects.get(pk=response.data["id"]).mobile == "+8613900001111"


def test_bad_fields_get_messages_and_nothing_is_written(api, rooftop):
    response = api.post(
        "/api/customers/",
        {
            "dealership": rooftop.pk,
            "full_name": "",
            "mobile": "12345",
            "email": "not-an-email",
            "born_on": "1990-13-40",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data) >= {"full_name", "email", "born_on"}
    assert Customer.objects.count() == 0


def test_invalid_mobile_is_a_field_error(api, rooftop):
    response = api.post(
        "/api/customers/", {"dealership": rooftop.pk, "full_name": "韩梅梅", "mobile": "12345"}, format="json"
    )
    assert response.status_code == 400
    assert "mobile" in response.data
    assert Customer.objects.count() == 0


def test_duplicate_mobile_is_refused_with_a_link_to_the_existing_customer(api, customer):
    response = api.post(
        "/api/customers/",
        {"dealership": customer.dealership_id, "full_name": "另一个人", "mobile": "138-1234-5678"},
        format="json",
    )
    assert response.status_code == 400
    assert f"/customers/{customer.pk}/" in response.data["mobile"][0]
    assert customer.full_name in response.data["mobile"][0]
    assert Customer.objects.count() == 1


def test_same_mobile_at_another_rooftop_is_allowed(customer, other_rooftop, advisor):
    advisor.dealerships.add(other_rooftop)
    response = api_client_for(advisor).post(
        "/api/customers/",
        {"dealership": other_rooftop.pk, "full_name": "王小明", "mobile": "13812345678"},
        format="json",
    )
    assert response.status_code == 201


def test_database_constraint_backs_the_duplicate_check(customer):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(dealership=customer.dealership, full_name="绕过表单", mobile=customer.mobile)


@pytest.mark.parametrize(
    ("vin", "rule"),
    [("1M8GDM9A1KP042788", "check digit"), ("1M8GDM9AXKP04278O", "I, O or Q"), ("1M8GDM9AXKP0427", "17 characters")],
)
def test_vehicle_vin_errors_say_which_rule_failed(api, rooftop, vin, rule):
    response = api.post(
        "/api/vehicles/", {"dealership": rooftop.pk, "vin": vin, "make": "Volkswagen", "model": "Lavida"}, format="json"
    )
    assert response.status_code == 400
    assert rule in response.data["vin"][0]
    assert Vehicle.objects.count() == 0


def test_vin_check_switched_off_per_rooftop(api, rooftop):
    rooftop.vin_check_digit_required = False
    rooftop.save()
    response = api.post(
        "/api/vehicles/",
        {"dealership": rooftop.pk, "vin": "WVWZZZ1JZ3W386752", "make": "VW", "model": "Golf"},
        format="json",
    )
    assert response.status_code == 201, response.data


def test_duplicate_vin_is_refused_with_link(api, vehicle):
    response = api.post(
        "/api/vehicles/",
        {"dealership": vehicle.dealership_id, "vin": vehicle.vin.lower(), "make": "VW", "model": "Golf"},
        format="json",
    )
    assert response.status_code == 400
    assert f"/vehicles/{vehicle.pk}/" in response.data["vin"][0]


def test_vehicle_with_owner_and_odometer_records_history(api, customer):
    response = api.post(
        "/api/vehicles/",
        {
            "dealership": customer.dealership_id,
            "vin": "1HGCM82633A004352",
            "plate": "沪b 88888",
            "make": "Honda",
            "model": "Accord",
            "owner": customer.pk,
            "odometer_km": 12000,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["plate"] == "沪B88888"
    assert response.data["odometer_km"] == 12000
    assert VehicleOwnership.objects.filter(
        vehicle_id=response.data["id"], customer=customer, ended_on__isnull=True
    ).exists()


def test_change_owner_keeps_history(api, vehicle, rooftop):
    new_owner = CustomerFactory(dealership=rooftop)
    VehicleOwnership.objects.create(
        dealership=rooftop, vehicle=vehicle, customer=vehicle.owner, started_on="2024-01-01"
    )
    response = api.post(
        f"/api/vehicles/{vehicle.pk}/change-owner/", {"customer": new_owner.pk, "on": "2026-11-01"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["owner"] == new_owner.pk
    history = list(
        VehicleOwnership.objects.filter(vehicle=vehicle).order_by("started_on").values_list("customer_id", "ended_on")
    )
    assert [row[0] for row in history] == [vehicle.owner_id, new_owner.pk]
    assert str(history[0][1]) == "2026-11-01" and history[1][1] is None


def test_odometer_going_back_needs_a_reason(api, vehicle):
    assert (
        api.post(
            f"/api/vehicles/{vehicle.pk}/odometer/", {"reading_km": 20000, "read_on": "2026-10-01"}, format="json"
        ).status_code
        == 201
    )
    refused = api.post(
        f"/api/vehicles/{vehicle.pk}/odometer/", {"reading_km": 15000, "read_on": "2026-11-01"}, format="json"
    )
    assert refused.status_code == 400
    assert "reading_km" in refused.data
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == 20000
    corrected = api.post(
        f"/api/vehicles/{vehicle.pk}/odometer/",
        {"reading_km": 15000, "read_on": "2026-11-01", "correction_reason": "cluster replaced"},
        format="json",
    )
    assert corrected.status_code == 201


def test_stale_version_is_refused_and_keeps_the_first_change(api, customer, staff):
    other = api_client_for(staff[Role.SALES_CONSULTANT])
    first = other.patch(f"/api/customers/{customer.pk}/", {"email": "first@example.cn", "version": 1}, format="json")
    assert first.status_code == 200, first.data
    second = api.patch(f"/api/customers/{customer.pk}/", {"email": "second@example.cn", "version": 1}, format="json")
    assert second.status_code == 400
    assert "reload" in str(second.data)
    customer.refresh_from_db()
    assert customer.email == "first@example.cn"
    assert customer.version == 2


# --- scoping and roles ----------------------------------------------------------------


def test_other_rooftops_records_are_404_and_unchanged(api, other_rooftop):
    stranger = CustomerFactory(dealership=other_rooftop, full_name="外店客户")
    car = VehicleFactory(dealership=other_rooftop)
    assert api.get(f"/api/customers/{stranger.pk}/").status_code == 404
    assert api.patch(f"/api/customers/{stranger.pk}/", {"full_name": "改掉"}, format="json").status_code == 404
    assert api.get(f"/api/vehicles/{car.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/vehicles/{car.pk}/odometer/", {"reading_km": 1, "read_on": "2026-01-01"}, format="json"
        ).status_code
        == 404
    )
    stranger.refresh_from_db()
    assert stranger.full_name == "外店客户"
    assert api.get("/api/customers/").data["count"] == 0


def test_creating_in_another_rooftop_is_refused(api, other_rooftop):
    response = api.post(
        "/api/customers/", {"dealership": other_rooftop.pk, "full_name": "越权", "mobile": "13900001111"}, format="json"
    )
    assert response.status_code == 400
    assert "dealership" in response.data
    assert Customer.objects.count() == 0


def test_technician_cannot_create_customers_and_sees_no_phone_digits(staff, customer):
    technician = api_client_for(staff[Role.TECHNICIAN])
    response = technician.post(
        "/api/customers/", {"dealership": customer.dealership_id, "full_name": "x"}, format="json"
    )
    assert response.status_code == 403
    listed = technician.get("/api/customers/")
    assert listed.status_code == 200
    assert listed.data["results"][0]["mobile"] == ""  # as on the pages: technicians see no numbers


def test_advisor_sees_full_phone(api, customer):
    assert api.get(f"/api/customers/{customer.pk}/").data["mobile"] == "+8613812345678"


def test_anonymous_gets_401_or_403(db):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/customers/").status_code in (401, 403)


def test_only_administrator_edits_rooftop_settings(staff, rooftop):
    advisor = api_client_for(staff[Role.SERVICE_ADVISOR])
    assert (
        advisor.patch(f"/api/dealerships/{rooftop.pk}/", {"labour_rate_amount": "1.00"}, format="json").status_code
        == 403
    )
    admin = api_client_for(staff[Role.ADMINISTRATOR])
    response = admin.patch(f"/api/dealerships/{rooftop.pk}/", {"labour_rate_amount": "420.00"}, format="json")
    assert response.status_code == 200
    rooftop.refresh_from_db()
    assert str(rooftop.labour_rate_amount) == "420.00"


def test_token_authentication(advisor, customer):
    from rest_framework.test import APIClient

    client = APIClient()
    token = client.post(
        "/api/token/", {"username": advisor.username, "password": "pw-for-tests-1"}, format="json"
    ).data["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/customers/").data["count"] == 1


# --- filters, ordering, pagination -----------------------------------------------------


def test_filters_ordering_and_pages(api, rooftop):
    for index, name in enumerate(["张三", "李四", "王五", "赵六", "王小五"]):
        CustomerFactory(dealership=rooftop, full_name=name, source="referral" if index % 2 else "web")
    assert api.get("/api/customers/", {"source": "referral"}).data["count"] == 2
    assert {row["full_name"] for row in api.get("/api/customers/", {"q": "王"}).data["results"]} == {"王五", "王小五"}
    ordered = api.get("/api/customers/", {"ordering": "full_name", "page_size": 2})
    assert ordered.data["count"] == 5 and len(ordered.data["results"]) == 2 and ordered.data["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": 999},
        {"page": "abc"},
        {"ordering": "nonexistent"},
        {"bogus": "1"},
        {"source": "not-a-source"},
        {"dealership": "abc"},
        {"page_size": "-5"},
        {"created_after": "yesterday"},
    ],
)
def test_odd_query_parameters_never_give_500(api, customer, params):
    response = api.get("/api/customers/", params)
    assert response.status_code in (200, 400, 404)


def test_schema_lists_the_endpoints(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"] if hasattr(response, "json") else {}
    assert {"/api/customers/", "/api/vehicles/", "/api/dealerships/", "/api/vehicles/{id}/change-owner/"} <= set(paths)


@pytest.mark.parametrize("page_size", [5, 50])
def test_customer_list_query_count_does_not_grow(api, rooftop, django_assert_max_num_queries, page_size):
    for _ in range(50):
        customer = CustomerFactory(dealership=rooftop)
        VehicleFactory(dealership=rooftop, owner=customer)
    with django_assert_max_num_queries(6):
        response = api.get("/api/customers/", {"page_size": page_size})
    assert len(response.data["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 50])
def test_vehicle_list_query_count_does_not_grow(api, rooftop, django_assert_max_num_queries, page_size):
    for _ in range(50):
        VehicleFactory(dealership=rooftop, owner=CustomerFactory(dealership=rooftop))
    with django_assert_max_num_queries(6):
        response = api.get("/api/vehicles/", {"page_size": page_size})
    assert len(response.data["results"]) == page_size
    assert all(row["owner_name"] for row in response.data["results"])
