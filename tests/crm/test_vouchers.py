"""Vouchers 代金券: issued with a typable code and the type's value and validity, redeemed once on a repair order
or a sales order of their rooftop (two front desks at the same moment: one wins), voided; every refusal
says why and changes nothing. The pages, the customer 360 panel and the API, scoped per role and rooftop."""

import datetime
import random
import re
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from crm import care_panels, demo
from crm.choices import Role, VoucherKind, VoucherStatus
from crm.models import Voucher, VoucherType
from crm.vouchers import CODE_ALPHABET, code_display, voucher_issue, voucher_redeem, voucher_void
from dms.errors import Conflict
from sales import services as sales_services
from sales.models import StockVehicle
from service import services as service_services

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory, VehicleFactory

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOV_30 = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def care_panel():
    care_panels.register()  # crm.apps calls it once that line is in; registering twice is a no-op


@pytest.fixture
def win_back(rooftop):
    return VoucherType.objects.create(
        dealership=rooftop, kind=VoucherKind.WIN_BACK, name="回厂礼券 ¥200", value=Decimal("200.00"), valid_days=30
    )


@pytest.fixture
def specialist(staff):
    return staff[Role.CUSTOMER_SPECIALIST]


def repair_order_for(customer, advisor, **extra):
    vehicle = VehicleFactory(dealership=customer.dealership, owner=customer)
    return service_services.repair_order_open(
        actor=advisor, vehicle=vehicle, concern="保养", odometer_km=20_000, **extra
    )


def sales_order_for(customer, consultant, list_price=Decimal("150000")):
    rng = random.Random(customer.pk)
    car = StockVehicle.objects.create(
        dealership=customer.dealership,
        vin=demo.vin(rng, "LSV", 2026),
        make="Volkswagen",
        model="Tiguan L",
        list_price=list_price,
    )
    lead = sales_services.lead_create(actor=consultant, customer=customer, source="phone")
    quote = sales_services.quote_create(actor=consultant, lead_id=lead.pk, model="Tiguan L", list_price=list_price)
    return sales_services.order_create(
        actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000")
    )


def state(voucher):
    voucher = Voucher.objects.get(pk=voucher.pk)
    return voucher.status, voucher.redeemed_at, voucher.redeemed_on_id, voucher.redeemed_amount


# --- issue ---------------------------------------------------------------------------------------


def test_a_voucher_gets_a_typable_unique_code_the_types_value_and_validity_in_the_rooftops_days(
    rooftop, customer, win_back, specialist
):
    # 23:30 in UTC on the 29th is already the 30th in Shanghai: validity counts the rooftop's days
    with time_machine.travel(datetime.datetime(2026, 11, 29, 23, 30, tzinfo=datetime.UTC), tick=False):
        vouchers = [voucher_issue(actor=specialist, customer=customer, voucher_type=win_back) for _ in range(50)]
    voucher = vouchers[0]
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{10}}", voucher.code)
    assert not set("01OIL") & set(voucher.code)
    assert len({item.code for item in vouchers}) == 50
    assert (voucher.value, voucher.valid_from, voucher.valid_until) == (
        Decimal("200.00"),
        datetime.date(2026, 11, 30),
        datetime.date(2026, 12, 29),  # 30 days, today counted
    )
    assert (voucher.status, voucher.dealership, voucher.issued_by) == (VoucherStatus.ISSUED, rooftop, specialist)
    assert code_display(voucher.code) == f"{voucher.code[:5]}-{voucher.code[5:]}"


def test_issuing_is_refused_for_another_rooftops_type_a_retired_type_or_a_role_without_it(
    rooftop, other_rooftop, customer, win_back, specialist, staff
):
    theirs = VoucherType.objects.create(dealership=other_rooftop, kind="loyalty", name="保养券", value=100)
    with pytest.raises(ValidationError) as refused:
        voucher_issue(actor=specialist, customer=customer, voucher_type=theirs)
    assert "another dealership" in refused.value.message_dict["voucher_type"][0]
    VoucherType.objects.filter(pk=win_back.pk).update(active=False)
    win_back.refresh_from_db()
    with pytest.raises(ValidationError, match="no longer in use"):
        voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    with pytest.raises(PermissionDenied):
        voucher_issue(actor=staff[Role.TECHNICIAN], customer=customer, voucher_type=win_back)
    stranger = CustomerFactory(dealership=other_rooftop)
    with pytest.raises(PermissionDenied):
        voucher_issue(actor=specialist, customer=stranger, voucher_type=theirs)
    assert not Voucher.objects.exists()


# --- redeem --------------------------------------------------------------------------------------


def test_redeemed_once_on_a_repair_order_with_the_orders_revenue(customer, win_back, specialist, advisor):
    with time_machine.travel(NOV_30, tick=False):
        voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
        order = repair_order_for(customer, advisor)
        redeemed = voucher_redeem(
            actor=advisor, code=f" {voucher.code[:5].lower()}-{voucher.code[5:]} ", subject=order, amount="754.84"
        )
    assert redeemed.pk == voucher.pk
    status, redeemed_at, redeemed_on_id, amount = state(voucher)
    assert (status, redeemed_on_id, amount) == (VoucherStatus.REDEEMED, order.pk, Decimal("754.84"))
    assert redeemed_at == NOV_30
    with pytest.raises(Conflict, match="already redeemed on 2026-11-30 10:00"):
        voucher_redeem(actor=advisor, code=voucher.code, subject=order, amount="1")
    assert state(voucher) == (status, redeemed_at, redeemed_on_id, amount)


def test_redeemed_on_a_sales_order(customer, win_back, specialist, staff):
    consultant = staff[Role.SALES_CONSULTANT]
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    order = sales_order_for(customer, consultant)
    voucher_redeem(actor=consultant, code=voucher.code, subject=order, amount=order.total)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_amount == order.total
    assert voucher.redeemed_on_type.model == "order"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "expired on 2026-12-29"),
        ("not_yet", "valid from 2026-12-01"),
        ("void", "voided"),
        ("unknown", "No voucher has the code"),
        ("other_rooftop", "another dealership"),
        ("cancelled_order", "cancelled"),
        ("no_code", "Type the voucher's code"),
        ("bad_amount", "amount"),
    ],
)
def test_a_voucher_that_cannot_be_redeemed_says_why_and_nothing_changes(
    rooftop, other_rooftop, customer, win_back, specialist, advisor, case, message
):
    with time_machine.travel(NOV_30, tick=False):
        voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
        order = repair_order_for(customer, advisor)
    code, amount, when = voucher.code, "100", NOV_30
    if case == "expired":
        when = datetime.datetime(2026, 12, 30, 9, 0, tzinfo=SHANGHAI)
    elif case == "not_yet":
        Voucher.objects.filter(pk=voucher.pk).update(
            valid_from=datetime.date(2026, 12, 1), valid_until=datetime.date(2026, 12, 31)
        )
    elif case == "void":
        voucher_void(actor=specialist, voucher_id=voucher.pk)
    elif case == "unknown":
        code = "ABCDEFGHJK"
    elif case == "other_rooftop":
        theirs_type = VoucherType.objects.create(dealership=other_rooftop, kind="win_back", name="券", value=50)
        their_specialist = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
        code = voucher_issue(
            actor=their_specialist, customer=CustomerFactory(dealership=other_rooftop), voucher_type=theirs_type
        ).code
    elif case == "cancelled_order":
        service_services.repair_order_transition(
            actor=advisor, repair_order_id=order.pk, to_status="cancelled", version=order.version
        )
        order.refresh_from_db()
    elif case == "no_code":
        code = "  "
    elif case == "bad_amount":
        amount = "-5"
    before = {row.pk: state(row) for row in Voucher.objects.all()}
    with time_machine.travel(when, tick=False), pytest.raises(ValidationError) as refused:
        voucher_redeem(actor=advisor, code=code, subject=order, amount=amount)
    assert message in " ".join(refused.value.messages)
    assert {row.pk: state(row) for row in Voucher.objects.all()} == before


def test_a_role_that_may_not_redeem_or_an_order_of_another_rooftop_is_refused(
    rooftop, other_rooftop, customer, win_back, specialist, advisor, staff
):
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    order = repair_order_for(customer, advisor)
    with pytest.raises(PermissionDenied):
        voucher_redeem(actor=staff[Role.TECHNICIAN], code=voucher.code, subject=order, amount="1")
    their_advisor = UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[other_rooftop])
    with pytest.raises(PermissionDenied):
        voucher_redeem(actor=their_advisor, code=voucher.code, subject=order, amount="1")
    assert Voucher.objects.get().status == VoucherStatus.ISSUED


@pytest.mark.django_db(transaction=True)
def test_two_front_desks_redeeming_one_code_at_the_same_moment_exactly_one_wins(rooftop, staff):
    advisor, specialist = staff[Role.SERVICE_ADVISOR], staff[Role.CUSTOMER_SPECIALIST]
    customer = CustomerFactory(dealership=rooftop)
    voucher_type = VoucherType.objects.create(dealership=rooftop, kind="consolation", name="道歉券", value=300)
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=voucher_type)
    orders = [repair_order_for(customer, advisor) for _ in range(6)]
    barrier = threading.Barrier(len(orders))
    outcomes = []

    def redeem(order):
        try:
            barrier.wait()
            voucher_redeem(actor=advisor, code=voucher.code, subject=order, amount="500")
            outcomes.append(("won", order.pk))
        except ValidationError as error:
            outcomes.append(("refused", " ".join(error.messages)))
        except Exception as error:  # noqa: BLE001 - reported below
            outcomes.append(("error", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [detail for result, detail in outcomes if result == "won"]
    refused = [detail for result, detail in outcomes if result == "refused"]
    assert len(won) == 1 and len(refused) == 5, outcomes
    assert all("already redeemed" in message for message in refused)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_on_id == won[0]


def test_void_only_an_issued_voucher(customer, win_back, specialist, advisor):
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    assert voucher_void(actor=specialist, voucher_id=voucher.pk).status == VoucherStatus.VOID
    with pytest.raises(Conflict, match="only an issued voucher"):
        voucher_void(actor=specialist, voucher_id=voucher.pk)


# --- pages ---------------------------------------------------------------------------------------


def test_the_front_desk_redeems_a_code_on_the_repair_order_page(client, customer, win_back, specialist, advisor):
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    order = repair_order_for(customer, advisor)
    client.force_login(advisor)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'id="redeem-voucher"' in page
    response = client.post(f"/service/repair-orders/{order.pk}/redeem-voucher/", {"code": voucher.code}, follow=True)
    assert "redeemed on this order" in response.content.decode()
    assert code_display(voucher.code) in response.content.decode()  # listed on the order now
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_on_id == order.pk
    response = client.post(f"/service/repair-orders/{order.pk}/redeem-voucher/", {"code": voucher.code}, follow=True)
    assert "already redeemed" in response.content.decode()


def test_the_sales_desk_redeems_a_code_on_the_order_page_and_a_bad_code_is_a_400(
    client, customer, win_back, specialist, staff
):
    consultant = staff[Role.SALES_CONSULTANT]
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    order = sales_order_for(customer, consultant)
    client.force_login(consultant)
    assert 'id="redeem-voucher"' in client.get(order.get_absolute_url()).content.decode()
    response = client.post(f"/sales/orders/{order.pk}/redeem-voucher/", {"code": "ZZZZZZZZZZ"})
    assert response.status_code == 400 and "No voucher has the code" in response.content.decode()
    response = client.post(f"/sales/orders/{order.pk}/redeem-voucher/", {"code": voucher.code})
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.redeemed_amount == order.total
    response = client.post(f"/sales/orders/{order.pk}/redeem-voucher/", {"code": voucher.code})
    assert response.status_code == 409 and "already redeemed" in response.content.decode()


def test_issue_from_the_customer_360_and_see_it_in_the_panel(client, customer, win_back, specialist, advisor):
    client.force_login(advisor)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="issue-voucher"' in page and 'id="points-balance"' in page
    response = client.post(f"/vouchers/issue/?customer={customer.pk}", {"voucher_type": win_back.pk}, follow=True)
    voucher = Voucher.objects.get()
    assert voucher.customer == customer and voucher.issued_by == advisor
    assert code_display(voucher.code) in response.content.decode()
    assert voucher.code[:5] in client.get(customer.get_absolute_url()).content.decode()


def test_vouchers_pages_are_refused_to_a_technician_and_404_for_another_rooftop(
    client, rooftop, other_rooftop, customer, win_back, staff
):
    client.force_login(staff[Role.TECHNICIAN])
    assert client.get("/vouchers/").status_code == 403
    assert client.get(f"/vouchers/issue/?customer={customer.pk}").status_code == 403
    assert 'id="panel-care"' not in client.get(customer.get_absolute_url()).content.decode()
    outsider = UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[other_rooftop])
    voucher = voucher_issue(actor=staff[Role.MANAGER], customer=customer, voucher_type=win_back)
    client.force_login(outsider)
    assert client.get(f"/vouchers/issue/?customer={customer.pk}").status_code == 404
    assert client.post(f"/vouchers/issue/?customer={customer.pk}", {"voucher_type": win_back.pk}).status_code == 404
    assert client.post(f"/vouchers/{voucher.pk}/void/").status_code == 404
    assert voucher.code not in client.get("/vouchers/").content.decode()
    assert Voucher.objects.get().status == VoucherStatus.ISSUED and Voucher.objects.count() == 1


def test_the_voucher_list_filters_by_status_kind_and_customer(client, rooftop, customer, win_back, specialist, advisor):
    other = CustomerFactory(dealership=rooftop)
    loyalty = VoucherType.objects.create(dealership=rooftop, kind="loyalty", name="保养券", value=100)
    mine = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    theirs = voucher_issue(actor=specialist, customer=other, voucher_type=loyalty)
    used = voucher_issue(actor=specialist, customer=other, voucher_type=win_back)
    voucher_redeem(actor=advisor, code=used.code, subject=repair_order_for(other, advisor), amount="10")
    client.force_login(specialist)

    def listed(**params):
        page = client.get("/vouchers/", params).content.decode()
        return {voucher.pk for voucher in (mine, theirs, used) if f'data-voucher="{voucher.pk}"' in page}

    assert listed() == {mine.pk, theirs.pk, used.pk}
    assert listed(status="redeemed") == {used.pk}
    assert listed(kind="loyalty") == {theirs.pk}
    assert listed(customer=customer.pk) == {mine.pk}
    assert listed(code=code_display(theirs.code).lower()) == {theirs.pk}


@pytest.mark.parametrize("count", [3, 40])
def test_the_voucher_list_and_the_panel_run_the_same_few_queries(
    client, rooftop, customer, win_back, specialist, advisor, count, django_assert_max_num_queries
):
    for index in range(count):
        owner = customer if index % 2 else CustomerFactory(dealership=rooftop)
        voucher = voucher_issue(actor=specialist, customer=owner, voucher_type=win_back)
        if index % 3 == 0:
            voucher_redeem(actor=advisor, code=voucher.code, subject=repair_order_for(owner, advisor), amount="99")
    client.force_login(specialist)
    client.get("/vouchers/")
    with django_assert_max_num_queries(9):
        response = client.get("/vouchers/", {"per_page": 50})
    assert response.content.decode().count("data-voucher=") == min(count, 50)
    assert "/service/repair-orders/" in response.content.decode()  # the order each was redeemed on
    with django_assert_max_num_queries(24):
        assert client.get(customer.get_absolute_url()).status_code == 200


# --- API -----------------------------------------------------------------------------------------


def test_api_issue_redeem_and_void(rooftop, customer, win_back, specialist, advisor):
    api = api_client_for(specialist)
    response = api.post("/api/vouchers/", {"customer": customer.pk, "voucher_type": win_back.pk}, format="json")
    assert response.status_code == 201, response.data
    code = response.data["code"]
    assert response.data["kind"] == "win_back" and response.data["value"] == "200.00"
    order = repair_order_for(customer, advisor)
    desk = api_client_for(advisor)
    payload = {"code": code, "subject_type": "repair_order", "subject_id": order.pk, "amount": "880.00"}
    response = desk.post("/api/vouchers/redeem/", payload, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["redeemed_on_type"], response.data["redeemed_on_id"]) == (
        "redeemed",
        "repair_order",
        order.pk,
    )
    response = desk.post("/api/vouchers/redeem/", payload, format="json")
    assert response.status_code == 409 and "already redeemed" in response.data["code"][0]
    response = desk.post("/api/vouchers/redeem/", {**payload, "code": "ZZZZZZZZZZ"}, format="json")
    assert response.status_code == 400 and "No voucher" in response.data["code"][0]
    response = desk.post("/api/vouchers/redeem/", {**payload, "subject_type": "lead"}, format="json")
    assert response.status_code == 400
    second = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    assert api.post(f"/api/vouchers/{second.pk}/void/").data["status"] == "void"
    assert api.post(f"/api/vouchers/{second.pk}/void/").status_code == 409


def test_api_scoping_a_technician_403_another_rooftop_404_and_nothing_changes(
    rooftop, other_rooftop, customer, win_back, specialist, advisor, staff
):
    voucher = voucher_issue(actor=specialist, customer=customer, voucher_type=win_back)
    order = repair_order_for(customer, advisor)
    technician = api_client_for(staff[Role.TECHNICIAN])
    assert technician.get("/api/vouchers/").status_code == 403
    assert technician.get("/api/voucher-types/").status_code == 403
    payload = {"code": voucher.code, "subject_type": "repair_order", "subject_id": order.pk, "amount": "1"}
    assert technician.post("/api/vouchers/redeem/", payload, format="json").status_code == 403
    outsider = api_client_for(UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[other_rooftop]))
    assert outsider.get(f"/api/vouchers/{voucher.pk}/").status_code == 404
    assert outsider.get("/api/vouchers/").data["count"] == 0
    assert outsider.post("/api/vouchers/redeem/", payload, format="json").status_code == 404
    assert outsider.post(f"/api/vouchers/{voucher.pk}/void/").status_code == 404
    response = outsider.post("/api/vouchers/", {"customer": customer.pk, "voucher_type": win_back.pk}, format="json")
    assert response.status_code == 400  # "does not exist", never a leak
    assert Voucher.objects.count() == 1 and Voucher.objects.get().status == VoucherStatus.ISSUED


def test_api_voucher_types_managers_add_and_change_others_read(rooftop, other_rooftop, staff, win_back):
    manager = api_client_for(staff[Role.MANAGER])
    payload = {"dealership": rooftop.pk, "kind": "referral", "name": "转介绍基金", "value": "500.00", "valid_days": 180}
    response = manager.post("/api/voucher-types/", payload, format="json")
    assert response.status_code == 201, response.data
    assert manager.post("/api/voucher-types/", payload, format="json").status_code == 400  # same name
    response = manager.patch(f"/api/voucher-types/{win_back.pk}/", {"active": False}, format="json")
    assert response.status_code == 200 and response.data["active"] is False
    advisor = api_client_for(staff[Role.SERVICE_ADVISOR])
    assert advisor.get("/api/voucher-types/").status_code == 403  # advisors issue from the page's list
    specialist = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    assert specialist.get("/api/voucher-types/").data["count"] == 2
    assert specialist.post("/api/voucher-types/", {**payload, "name": "x"}, format="json").status_code == 403
    outsider = api_client_for(UserFactory(role=Role.MANAGER, rooftops=[other_rooftop]))
    assert outsider.patch(f"/api/voucher-types/{win_back.pk}/", {"value": "1"}, format="json").status_code == 404
    assert outsider.post("/api/voucher-types/", payload, format="json").status_code == 400
    assert VoucherType.objects.get(pk=win_back.pk).value == Decimal("200.00")


@pytest.mark.parametrize("count", [3, 40])
def test_the_voucher_api_list_runs_the_same_few_queries(
    rooftop, customer, win_back, specialist, advisor, count, django_assert_max_num_queries
):
    for index in range(count):
        voucher = voucher_issue(actor=specialist, customer=CustomerFactory(dealership=rooftop), voucher_type=win_back)
        if index % 2:
            voucher_redeem(actor=advisor, code=voucher.code, subject=repair_order_for(customer, advisor), amount="1")
    api = api_client_for(specialist)
    api.get("/api/vouchers/")
    with django_assert_max_num_queries(3):
        response = api.get("/api/vouchers/", {"page_size": 50})
    assert response.status_code == 200 and len(response.data["results"]) == min(count, 50)
