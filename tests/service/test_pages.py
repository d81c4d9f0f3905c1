"""The front-desk and workshop pages over HTTP: check-in, the repair order's steps, the board, the
calendar and booking, the panels; roles and rooftops checked, refusals shown on the form."""

from decimal import Decimal

import pytest
import time_machine

from crm.choices import Role
from service import services
from service.choices import RepairOrderStatus
from service.models import RepairOrder

from ..factories import CustomerFactory, VehicleFactory
from .test_process import MONDAY, local


@pytest.fixture
def advisor(staff):
    return staff[Role.SERVICE_ADVISOR]


@pytest.fixture
def technician(staff):
    return staff[Role.TECHNICIAN]


def test_check_in_from_one_search_box_to_a_numbered_order(client, workshop, vehicle, advisor):
    client.force_login(advisor)
    found = client.get("/service/check-in/", {"q": vehicle.plate[-4:]}, HTTP_HX_REQUEST="true").content.decode()
    assert f"/service/check-in/{vehicle.pk}/" in found
    page = client.get(f"/service/check-in/{vehicle.pk}/").content.decode()
    assert "41000" in page  # the last odometer reading, to check against
    refused = client.post(
        f"/service/check-in/{vehicle.pk}/",
        {"concern": "", "odometer_km": "40000", "fuel_level": "50", "service_type": "repair", "pay_type": "customer"},
    )
    assert refused.status_code == 400 and not RepairOrder.objects.exists()
    body = refused.content.decode()
    assert "Write down the customer" in body or "This field is required" in body
    response = client.post(
        f"/service/check-in/{vehicle.pk}/",
        {
            "concern": "刹车异响",
            "odometer_km": "41500",
            "fuel_level": "35",
            "service_type": "repair",
            "pay_type": "customer",
        },
    )
    order = RepairOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/service/repair-orders/{order.pk}/"
    assert order.fuel_level == 35 and order.odometer_km == 41500


def test_the_order_page_walks_the_steps_and_shows_refusals(client, workshop, vehicle, advisor, technician):
    order = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="保养", odometer_km=41_000)
    client.force_login(advisor)
    url = f"/service/repair-orders/{order.pk}/"
    client.post(
        url + "labour/",
        {
            "operation_code": "M10",
            "description": "常规保养",
            "hours": "1.0",
            "discount_amount": "0",
            "version": order.version,
        },
    )
    page = client.get(url).content.decode()
    assert "常规保养" in page and "¥380.00" in page and 'data-total="customer_due">¥429.40' in page

    stale = client.post(
        url + "approve/", {"approved_by_name": "王小明", "channel": "in_person", "version": order.version}
    )
    assert stale.status_code == 409 and "changed this repair order" in stale.content.decode()
    order.refresh_from_db()
    approved = client.post(
        url + "approve/", {"approved_by_name": "王小明", "channel": "in_person", "version": order.version}
    )
    assert approved.status_code == 302
    client.post(url + "dispatch/", {"technician": technician.pk, "planned_hours": "1", "bay": "B1"})
    order.refresh_from_db()
    assert order.status == RepairOrderStatus.APPROVED and order.jobs.get().technician == technician

    early = client.post(url + "deliver/", {"version": order.version})
    assert early.status_code == 409 and "quality check" in early.content.decode()

    client.force_login(technician)
    tech_page = client.get(url).content.decode()
    assert 'id="totals"' not in tech_page and "¥" not in tech_page  # no money for technicians
    assert client.get(url + "print/").status_code == 403
    client.post(url + "clock-on/", {"job": order.jobs.get().pk})
    order.refresh_from_db()
    assert order.status == RepairOrderStatus.IN_PROGRESS


def test_another_rooftops_order_is_not_found(client, workshop, other_rooftop, advisor, staff):
    car = VehicleFactory(dealership=other_rooftop, owner=CustomerFactory(dealership=other_rooftop))
    outsider = staff[Role.MANAGER]
    outsider.dealerships.set([other_rooftop])
    order = services.repair_order_open(actor=outsider, vehicle=car, concern="x", odometer_km=10)
    client.force_login(advisor)
    assert client.get(f"/service/repair-orders/{order.pk}/").status_code == 404
    assert (
        client.post(
            f"/service/repair-orders/{order.pk}/labour/",
            {"operation_code": "X", "description": "x", "hours": "1", "discount_amount": "0"},
        ).status_code
        == 404
    )
    assert client.get(f"/service/check-in/{car.pk}/").status_code == 404


@pytest.mark.parametrize("orders", [3, 30])
def test_the_board_query_count_does_not_grow(
    client, workshop, advisor, technician, orders, django_assert_max_num_queries
):
    for _ in range(orders):
        car = VehicleFactory(dealership=workshop, owner=CustomerFactory(dealership=workshop))
        order = services.repair_order_open(
            actor=advisor, vehicle=car, concern="保养", odometer_km=100, promised_at=None
        )
        services.labour_line_add(
            actor=advisor, repair_order_id=order.pk, operation_code="M", description="m", hours=Decimal("1")
        )
        services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="x", channel="phone")
        services.job_dispatch(
            actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=Decimal("1")
        )
    client.force_login(advisor)
    with django_assert_max_num_queries(12):
        page = client.get("/service/board/").content.decode()
    assert page.count("board-card") == orders


def test_the_board_marks_an_order_whose_promise_will_not_hold(client, workshop, vehicle, advisor, technician):
    with time_machine.travel(local(24, 10), tick=False):
        order = services.repair_order_open(
            actor=advisor, vehicle=vehicle, concern="大修", odometer_km=41_000, promised_at=local(24, 11)
        )
        services.labour_line_add(
            actor=advisor, repair_order_id=order.pk, operation_code="E", description="发动机", hours=Decimal("3")
        )
        services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="x", channel="phone")
        services.job_dispatch(
            actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=Decimal("3")
        )
        client.force_login(advisor)
        page = client.get("/service/board/").content.decode()
    assert "board-card mb-2 text-decoration-none at-risk" in page  # 3 h planned, promised in 1 h


def test_booking_offers_the_next_free_slots_and_refuses_a_full_one(client, workshop, vehicle, advisor):
    settings = workshop.service_settings
    settings.bays = 1
    settings.save()
    client.force_login(advisor)
    with time_machine.travel(MONDAY, tick=False):
        page = client.get(f"/service/appointments/new/{vehicle.pk}/").content.decode()
        assert 'data-slot="2026-11-23T09:00"' in page
        booked = client.post(
            f"/service/appointments/new/{vehicle.pk}/", {"starts_at": "2026-11-24T10:00", "service_type": "maintenance"}
        )
        assert booked.status_code == 302
        again = client.post(
            f"/service/appointments/new/{vehicle.pk}/", {"starts_at": "2026-11-24T10:00", "service_type": "repair"}
        )
        assert again.status_code == 400 and "Next free: 11-24 10:30" in again.content.decode()
        calendar = client.get("/service/appointments/", {"day": "2026-11-24"}).content.decode()
    assert calendar.count('class="border rounded p-1 mb-1 small appointment"') == 1


def test_the_customer_and_vehicle_pages_show_the_service_history(client, workshop, vehicle, customer, advisor):
    order = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="异响", odometer_km=41_000)
    client.force_login(advisor)
    assert order.number in client.get(f"/customers/{customer.pk}/").content.decode()
    vehicle_page = client.get(f"/vehicles/{vehicle.pk}/").content.decode()
    assert order.number in vehicle_page and f"/service/appointments/new/{vehicle.pk}/" in vehicle_page


def test_a_specialist_books_from_the_call_and_comes_back_to_record_it(client, workshop, vehicle, staff):
    from followup import services as followup
    from followup.models import FollowUp

    specialist = staff[Role.CUSTOMER_SPECIALIST]
    with time_machine.travel(MONDAY, tick=False):
        call = followup.followup_schedule(
            kind="maintenance_due", subject=vehicle, customer=vehicle.owner, due_at=MONDAY, team="Customer specialist"
        )
        FollowUp.objects.filter(pk=call.pk).update(status="queued")
        client.force_login(specialist)
        page = client.get("/followups/", {"call": call.pk}).content.decode()
        start = page.index('id="book-appointment"')
        href = page[page.rindex('href="', 0, start) + 6 : start].split('"')[0].replace("&amp;", "&")
        assert href.startswith(f"/service/appointments/new/{vehicle.pk}/?next=")
        booking = client.get(href).content.decode()
        form = booking.split('id="appointment-form"', 1)[1]
        back = form.split('name="next" value="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        booked = client.post(
            href.split("?")[0], {"starts_at": "2026-11-25T09:30", "service_type": "maintenance", "next": back}
        )
        assert booked.status_code == 302 and booked["Location"].startswith(f"/followups/?call={call.pk}")
        returned = client.get(booked["Location"]).content.decode()
    assert "/service/appointments/?day=2026-11-25" in returned  # the booking field is filled in for 'booked'


@pytest.mark.parametrize("orders", [3, 40])
def test_the_repair_order_list_filters_and_stays_bounded(
    client, workshop, advisor, orders, django_assert_max_num_queries
):
    for index in range(orders):
        car = VehicleFactory(dealership=workshop, owner=CustomerFactory(dealership=workshop))
        order = services.repair_order_open(actor=advisor, vehicle=car, concern="保养", odometer_km=100)
        services.labour_line_add(
            actor=advisor, repair_order_id=order.pk, operation_code="M", description="m", hours=Decimal("1")
        )
        if index % 2:
            services.repair_order_approve(
                actor=advisor, repair_order_id=order.pk, approved_by_name="x", channel="phone"
            )
    client.force_login(advisor)
    with django_assert_max_num_queries(12):
        page = client.get("/service/repair-orders/", {"status": "approved", "advisor": advisor.pk, "per_page": 50})
    body = page.content.decode()
    assert body.count('class="badge ro-approved"') == orders // 2 and "ro-estimate" not in body
    assert "¥429.40" in body  # 1 h × ¥380 + 13%


def test_the_calendar_confirms_moves_and_cancels_bookings(client, workshop, vehicle, advisor):
    from followup.models import FollowUp
    from service.models import Appointment

    with time_machine.travel(MONDAY, tick=False):
        booked = services.appointment_book(
            actor=advisor, vehicle=vehicle, starts_at=local(24, 10), service_type="repair"
        )
        client.force_login(advisor)
        client.post(f"/service/appointments/{booked.pk}/confirm/")
        booked.refresh_from_db()
        assert booked.status == "confirmed"
        moved = client.post(f"/service/appointments/{booked.pk}/move/", {"starts_at": "2026-11-25T14:00"})
        assert moved["Location"].endswith("day=2026-11-25")
        new = Appointment.objects.get(status="booked")
        assert new.starts_at == local(25, 14) and Appointment.objects.get(pk=booked.pk).status == "rescheduled"
        client.post(f"/service/appointments/{new.pk}/cancel/")
    assert Appointment.objects.get(pk=new.pk).status == "cancelled"
    assert not FollowUp.objects.filter(subject_id__in=[booked.pk, new.pk], status="scheduled").exists()


def test_the_order_suggests_maintenance_due_and_declined_work(client, workshop, vehicle, advisor, technician):
    import datetime as dt

    from service.models import DeclinedWork

    type(vehicle).objects.filter(pk=vehicle.pk).update(next_service_km=41_200, next_service_on=dt.date(2027, 6, 1))
    first = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="异响", odometer_km=41_000)
    DeclinedWork.objects.create(
        dealership=workshop,
        vehicle=vehicle,
        repair_order=first,
        description="更换前刹车片",
        amount=Decimal("515.28"),
        recommended_at=first.checked_in_at,
    )
    second = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="保养", odometer_km=41_100)
    client.force_login(advisor)
    page = client.get(f"/service/repair-orders/{second.pk}/").content.decode()
    suggested = page[page.index('id="suggestions"') :]
    assert "41200 km" in suggested and "更换前刹车片" in suggested and "¥515.28" in suggested
    client.post(
        f"/service/repair-orders/{second.pk}/labour/",
        {"operation_code": "RECAP", "description": "更换前刹车片", "hours": "1.2", "discount_amount": "0"},
    )
    assert "更换前刹车片" in [line.description for line in second.labour_lines.all()]
    assert (
        "更换前刹车片"
        not in client.get(f"/service/repair-orders/{second.pk}/")
        .content.decode()
        .split('id="suggestions"')[-1]
        .split("</div>")[0]
    )


def test_the_two_day_call_opens_its_repair_order(client, workshop, vehicle, advisor, staff):
    from followup.choices import FollowUpKind, FollowUpStatus
    from followup.models import FollowUp
    from followup.services import schedule_after_service_delivery

    order = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="保养", odometer_km=41_000)
    call = schedule_after_service_delivery(
        repair_order=order, customer=vehicle.owner, delivered_at=order.checked_in_at, advisor=advisor
    )
    FollowUp.objects.filter(pk=call.pk).update(status=FollowUpStatus.QUEUED)
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    page = client.get("/followups/", {"call": call.pk}).content.decode()
    assert call.kind == FollowUpKind.SERVICE_FOLLOWUP
    assert f'href="/service/repair-orders/{order.pk}/" id="call-subject"' in page
