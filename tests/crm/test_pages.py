"""Server-rendered pages: login, home per role, lists, the customer 360, forms and their errors."""

import pytest
from django.urls import reverse

from crm.choices import Role
from crm.models import Customer, Vehicle

from ..factories import CustomerFactory, VehicleFactory


def test_login_page_and_redirect(client, db):
    assert client.get("/").status_code == 302
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="username"' in page.content


def test_login_with_password_lands_on_home(client, advisor):
    response = client.post("/login/", {"username": advisor.username, "password": "pw-for-tests-1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert advisor.full_name in response.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_home_page(client, staff, role):
    client.force_login(staff[role])
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    if role in (Role.MANAGER, Role.ADMINISTRATOR):
        assert "Your dealerships" in html
    if role in (Role.SERVICE_ADVISOR, Role.SALES_CONSULTANT):
        assert "New customer" in html and "My customers" in html
    if role == Role.TECHNICIAN:
        assert "New customer" not in html


@pytest.mark.parametrize("per_page", [25, 100])
def test_customer_list_query_count_does_not_grow(client, advisor, rooftop, django_assert_max_num_queries, per_page):
    for _ in range(120):
        VehicleFactory(dealership=rooftop, owner=CustomerFactory(dealership=rooftop))
    client.force_login(advisor)
    with django_assert_max_num_queries(12):
        response = client.get("/customers/", {"per_page": per_page})
    assert response.status_code == 200
    assert response.content.decode().count('href="/customers/') >= per_page


def test_customer_list_filters_sorts_and_survives_odd_parameters(client, advisor, rooftop):
    CustomerFactory(dealership=rooftop, full_name="王大锤", source="referral")
    CustomerFactory(dealership=rooftop, full_name="李雷", source="web")
    client.force_login(advisor)
    html = client.get("/customers/", {"q": "王大"}).content.decode()
    assert "王大锤" in html and "李雷" not in html
    assert "李雷" in client.get("/customers/", {"source": "web"}).content.decode()
    for params in (
        {"page": 99},
        {"page": "x"},
        {"sort": "nonsense"},
        {"per_page": "7"},
        {"source": "bogus"},
        {"x": "1"},
    ):
        assert client.get("/customers/", params).status_code == 200, params
    sorted_page = client.get("/customers/", {"sort": "full_name"}).content.decode()
    assert sorted_page.index("李雷") < sorted_page.index("王大锤")  # 李 (U+674E) sorts before 王 (U+738B)


def test_htmx_request_gets_only_the_table(client, advisor, customer):
    client.force_login(advisor)
    response = client.get("/customers/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert customer.full_name in html and "<nav" not in html


def test_customer_360_shows_contact_and_vehicles(client, advisor, vehicle):
    client.force_login(advisor)
    html = client.get(vehicle.owner.get_absolute_url()).content.decode()
    # the phone is masked until revealed by a logged click (tests/crm/test_privacy.py)
    assert "王小明" in html and "+86 138****5678" in html and "1M8GDM9AXKP042788" in html
    revealed = client.post(f"/customers/{vehicle.owner.pk}/reveal/mobile/").content.decode()
    assert "+86 138 1234 5678" in revealed


def test_customer_360_shows_technician_no_digits(client, staff, customer):
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "王小明" in html and "5678" not in html


def test_other_rooftops_pages_are_404(client, advisor, other_rooftop):
    stranger = CustomerFactory(dealership=other_rooftop)
    car = VehicleFactory(dealership=other_rooftop, owner=stranger)
    client.force_login(advisor)
    for url in (
        stranger.get_absolute_url(),
        car.get_absolute_url(),
        f"/customers/{stranger.pk}/edit/",
        f"/vehicles/{car.pk}/edit/",
        f"/vehicles/{car.pk}/owner/",
        f"/vehicles/new/?owner={stranger.pk}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/customers/{stranger.pk}/edit/", {"full_name": "改名", "kind": "person"})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.full_name != "改名"


def test_forbidden_pages_are_403(client, staff, customer):
    client.force_login(staff[Role.TECHNICIAN])
    assert client.get("/customers/new/").status_code == 403
    assert client.get(f"/customers/{customer.pk}/edit/").status_code == 403
    assert client.post("/customers/new/", {"full_name": "x"}).status_code == 403
    assert Customer.objects.count() == 1


def customer_form(rooftop, **overrides):
    data = {
        "dealership": rooftop.pk,
        "kind": "person",
        "salutation": "",
        "full_name": "赵敏",
        "mobile": "13600001234",
        "other_phone": "",
        "email": "",
        "preferred_channel": "phone",
        "source": "walk_in",
        "notes": "",
    }
    return {**data, **overrides}


def test_create_customer_from_the_form(client, advisor, rooftop):
    client.force_login(advisor)
    response = client.post("/customers/new/", customer_form(rooftop))
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert customer.mobile == "+8613600001234" and customer.owner == advisor


def test_form_shows_field_errors_and_writes_nothing(client, advisor, rooftop):
    client.force_login(advisor)
    response = client.post(
        "/customers/new/",
        customer_form(rooftop, mobile="12345", email="nope", born_on="2024-02-30", contact_from="09:00"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"mobile", "email", "born_on", "contact_until"} <= set(errors)
    assert Customer.objects.count() == 0
    assert "is-invalid" in response.content.decode()


def test_duplicate_mobile_form_error_links_the_existing_customer(client, advisor, customer):
    client.force_login(advisor)
    response = client.post("/customers/new/", customer_form(customer.dealership, mobile="138 1234 5678"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/customers/{customer.pk}/"' in html
    assert Customer.objects.count() == 1


def test_edit_with_stale_version_says_who_changed_it(client, advisor, staff, customer):
    from crm.services import customer_update

    client.force_login(advisor)
    form = customer_form(
        customer.dealership, full_name="王小明", mobile="13812345678", email="mine@example.cn", version=1
    )
    customer_update(actor=staff[Role.SALES_CONSULTANT], customer_id=customer.pk, data={"email": "theirs@example.cn"})
    response = client.post(f"/customers/{customer.pk}/edit/", form)
    assert response.status_code == 200
    assert "reload" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "theirs@example.cn"


def test_vehicle_form_vin_error_and_success(client, advisor, customer):
    client.force_login(advisor)
    url = f"/vehicles/new/?owner={customer.pk}"
    data = {
        "dealership": customer.dealership_id,
        "vin": "1HGCM82643A004352",
        "plate": "沪C 54321",
        "make": "Honda",
        "model": "Accord",
        "odometer_km": "5000",
    }
    bad = client.post(url, data)
    assert bad.status_code == 200 and "check digit" in bad.content.decode()
    assert Vehicle.objects.count() == 0
    good = client.post(url, {**data, "vin": "1HGCM82633A004352"})
    vehicle = Vehicle.objects.get()
    assert good["Location"] == vehicle.get_absolute_url()
    assert vehicle.owner == customer and vehicle.plate == "沪C54321" and vehicle.odometer_km == 5000


def test_change_owner_page_keeps_history(client, advisor, vehicle, rooftop):
    new_owner = CustomerFactory(dealership=rooftop, mobile="+8613700007777")
    client.force_login(advisor)
    response = client.post(f"/vehicles/{vehicle.pk}/owner/", {"mobile": "137 0000 7777", "on": "2026-11-20"})
    assert response.status_code == 302
    page = client.get(vehicle.get_absolute_url()).content.decode()
    assert new_owner.full_name in page and vehicle.owner.full_name in page


def test_language_switch_to_simplified_chinese(client, advisor):
    client.force_login(advisor)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get("/customers/").content.decode()
    assert "客户" in html and 'lang="zh-hans"' in html


def test_the_address_and_tags_are_edited_on_the_customer_form(client, advisor, customer):
    client.force_login(advisor)
    form = customer_form(
        customer.dealership,
        full_name="王小明",
        mobile="13812345678",
        version=customer.version,
        address="上海市浦东新区张江路 88 号",
        tags="VIP, 车队客户",
    )
    response = client.post(f"/customers/{customer.pk}/edit/", form)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.address == "上海市浦东新区张江路 88 号" and customer.tags == ["VIP", "车队客户"]
