"""Privacy 保护客户隐私: phones and ID numbers masked on lists and on the customer 360 for everyone, revealed in
full by a logged click for the roles that need them; technicians see no digits at all."""

import pytest
from django.core.exceptions import PermissionDenied

from crm.choices import Role
from crm.models import Customer, RevealLog
from crm.privacy import customer_reveal, id_number_mask
from crm.segments import segment_save

from ..conftest import api_client_for
from ..factories import CustomerFactory

FULL = "+86 138 1234 5678"
MASKED = "+86 138****5678"
ID_NUMBER = "31011519900307123X"


@pytest.fixture
def customer(rooftop):
    return CustomerFactory(
        dealership=rooftop,
        full_name="王小明",
        mobile="+8613812345678",
        other_phone="+862161234567",
        id_number=ID_NUMBER,
        tags=["VIP"],
    )


def test_the_customer_list_masks_phones_for_everyone_and_shows_technicians_none(client, staff, customer):
    for role in (Role.SERVICE_ADVISOR, Role.MANAGER, Role.CUSTOMER_SPECIALIST):
        client.force_login(staff[role])
        html = client.get("/customers/").content.decode()
        assert MASKED in html and FULL not in html and "+8613812345678" not in html, role
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get("/customers/").content.decode()
    assert "王小明" in html and "5678" not in html and "138" not in html


def test_the_header_search_masks_phones(client, staff, customer):
    client.force_login(staff[Role.SERVICE_ADVISOR])
    html = client.get("/search/", {"q": "13812345678"}).content.decode()
    assert "王小明" in html and MASKED in html and FULL not in html
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get("/search/", {"q": "王小明"}).content.decode()
    assert "王小明" in html and "5678" not in html


def test_the_360_masks_and_an_advisor_reveals_by_a_logged_click(client, advisor, customer):
    client.force_login(advisor)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert MASKED in html and FULL not in html
    assert "310***********123X" in html and ID_NUMBER not in html
    assert f'hx-post="/customers/{customer.pk}/reveal/mobile/"' in html
    assert not RevealLog.objects.exists()  # looking at the page reveals nothing

    response = client.post(f"/customers/{customer.pk}/reveal/mobile/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert FULL in response.content.decode() and 'href="tel:+8613812345678"' in response.content.decode()
    log = RevealLog.objects.get()
    assert (log.user, log.customer, log.field, log.dealership_id) == (
        advisor,
        customer,
        "mobile",
        customer.dealership_id,
    )

    assert ID_NUMBER in client.post(f"/customers/{customer.pk}/reveal/id_number/").content.decode()
    assert "+86 21 6123 4567" in client.post(f"/customers/{customer.pk}/reveal/other_phone/").content.decode()
    assert list(RevealLog.objects.order_by("id").values_list("field", flat=True)) == [
        "mobile",
        "id_number",
        "other_phone",
    ]


def test_a_technician_sees_no_digits_and_may_not_reveal(client, staff, customer):
    technician = staff[Role.TECHNICIAN]
    client.force_login(technician)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "王小明" in html and "5678" not in html and "123X" not in html and "reveal" not in html
    assert "not shown to your role" in html
    for field in ("mobile", "other_phone", "id_number"):
        assert client.post(f"/customers/{customer.pk}/reveal/{field}/").status_code == 403
    with pytest.raises(PermissionDenied):
        customer_reveal(actor=technician, customer_id=customer.pk, field="mobile")
    assert not RevealLog.objects.exists()


def test_another_rooftops_customer_is_404_and_nothing_logged(client, advisor, other_rooftop):
    theirs = CustomerFactory(dealership=other_rooftop, mobile="+8613900001111")
    client.force_login(advisor)
    response = client.post(f"/customers/{theirs.pk}/reveal/mobile/")
    assert response.status_code == 404 and "1111" not in response.content.decode()
    with pytest.raises(Customer.DoesNotExist):
        customer_reveal(actor=advisor, customer_id=theirs.pk, field="mobile")
    assert not RevealLog.objects.exists()


def test_odd_reveals_log_nothing(client, advisor, customer, rooftop):
    client.force_login(advisor)
    assert client.post(f"/customers/{customer.pk}/reveal/email/").status_code == 404
    assert client.post(f"/customers/{customer.pk + 999}/reveal/mobile/").status_code == 404
    assert client.get(f"/customers/{customer.pk}/reveal/mobile/").status_code == 405
    empty = CustomerFactory(dealership=rooftop, other_phone="")
    assert client.post(f"/customers/{empty.pk}/reveal/other_phone/").status_code == 200
    client.logout()
    assert client.post(f"/customers/{customer.pk}/reveal/mobile/").status_code == 302  # to the login page
    assert not RevealLog.objects.exists()


def test_the_reveal_log_is_for_managers(client, staff, advisor, customer):
    client.force_login(advisor)
    client.post(f"/customers/{customer.pk}/reveal/mobile/")
    assert client.get("/customers/reveals/").status_code == 403
    client.force_login(staff[Role.MANAGER])
    html = client.get("/customers/reveals/").content.decode()
    assert str(advisor) in html and "王小明" in html and "Mobile" in html
    assert "王小明" in client.get("/customers/reveals/", {"customer": customer.pk}).content.decode()
    assert "王小明" not in client.get("/customers/reveals/", {"customer": customer.pk + 1}).content.decode()


def test_segment_pages_and_api_mask_phones(client, staff, customer, rooftop):
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    client.force_login(manager)
    html = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "王小明" in html and MASKED in html and FULL not in html
    row = api_client_for(manager).get(f"/api/segments/{segment.pk}/customers/").data["results"][0]
    assert row["mobile"] == MASKED


def test_other_work_pages_show_technicians_no_digits(client, staff, customer, vehicle):
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get(vehicle.get_absolute_url()).content.decode()
    assert "王小明" in html and "5678" not in html


@pytest.mark.parametrize(
    ("value", "masked"), [("", ""), ("31011519900307123X", "310***********123X"), ("A12345", "******")]
)
def test_id_number_mask(value, masked):
    assert id_number_mask(value) == masked
