"""The service API: the whole process over HTTP, every refusal with no side effect, rooftop scoping,
money hidden from technicians, bounded list queries and the OpenAPI schema. ``workshop`` (business
hours, 30-minute slots with 2 bays, ¥380 an hour, 3 oil filters in stock) is in ``conftest.py``."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from crm.choices import Role
from followup.choices import FollowUpKind
from followup.models import FollowUp
from service import services
from service.choices import AppointmentStatus, RepairOrderStatus
from service.models import (
    Appointment,
    Job,
    LabourLine,
    Part,
    PartLine,
    Payment,
    RepairOrder,
    RepairOrderEvent,
    TimeEntry,
)

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory, VehicleFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
MONEY_FIELDS = {"totals", "payments", "discount_amount", "tax_rate", "payment_method", "paid_at"}


def local(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def technician(staff):
    return staff[Role.TECHNICIAN]


@pytest.fixture
def desk(advisor):
    return api_client_for(advisor)


@pytest.fixture
def bench(technician):
    return api_client_for(technician)


@pytest.fixture
def order(workshop, vehicle, advisor):
    """A walk-in estimate with one labour line and the oil filter."""
    repair_order = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="保养", odometer_km=41_000)
    services.labour_line_add(
        actor=advisor, repair_order_id=repair_order.pk, operation_code="M40K", description="保养", hours=Decimal("1.5")
    )
    services.part_line_add(
        actor=advisor, repair_order_id=repair_order.pk, part_number="06L115562", quantity=Decimal("1")
    )
    repair_order.refresh_from_db()
    return repair_order


def parse(value):
    return datetime.datetime.fromisoformat(value)


def outsider_in(rooftop, role=Role.SERVICE_ADVISOR):
    return api_client_for(UserFactory(role=role, rooftops=[rooftop]))


# --- the whole process ---------------------------------------------------------------------------


def test_the_whole_process_over_the_api(workshop, vehicle, customer, advisor, technician, desk, bench):
    with time_machine.travel(MONDAY, tick=False):
        booked = desk.post(
            "/api/appointments/",
            {
                "vehicle": vehicle.pk,
                "starts_at": local(24, 10).isoformat(),
                "service_type": "maintenance",
                "concern": "4万公里保养",
                "advisor": advisor.pk,
            },
            format="json",
        )
        assert booked.status_code == 201, booked.json()
        appointment = booked.json()
        assert (appointment["customer_name"], appointment["vehicle_plate"], appointment["advisor_name"]) == (
            "王小明",
            "沪A12345",
            str(advisor),
        )
        assert appointment["status"] == "booked" and parse(appointment["ends_at"]) == local(24, 10, 30)
        confirmed = desk.post(f"/api/appointments/{appointment['id']}/confirm/", {}, format="json")
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"

    with time_machine.travel(local(24, 10, 5), tick=False):
        opened = desk.post(
            "/api/repair-orders/",
            {
                "vehicle": vehicle.pk,
                "appointment": appointment["id"],
                "concern": "保养,刹车有异响",
                "odometer_km": 41_850,
                "fuel_level": 60,
                "service_type": "maintenance",
                "promised_at": local(24, 15).isoformat(),
            },
            format="json",
        )
        assert opened.status_code == 201, opened.json()
        order = opened.json()
        url = f"/api/repair-orders/{order['id']}"
        assert order["number"] == f"{workshop.code}-2026-000001" and order["status"] == "estimate"
        assert Appointment.objects.get(pk=appointment["id"]).status == AppointmentStatus.ARRIVED

        added = desk.post(
            f"{url}/labour-lines/",
            {"operation_code": "M40K", "description": "4万公里保养", "hours": "1.5"},
            format="json",
        )
        assert added.status_code == 201 and added.json()["labour_lines"][0]["amount"] == "570.00"
        added = desk.post(f"{url}/part-lines/", {"part_number": "06l115562", "quantity": "1"}, format="json")
        assert added.status_code == 201 and added.json()["part_lines"][0]["unit_price"] == "68.00"
        dispatched = desk.post(
            f"{url}/dispatch/", {"technician": technician.pk, "planned_hours": "1.5", "bay": "B2"}, format="json"
        )
        assert dispatched.status_code == 201
        job_id = dispatched.json()["jobs"][0]["id"]

        early = bench.post(f"/api/jobs/{job_id}/clock-on/")
        assert early.status_code == 409 and "not approved" in str(early.json())  # no work before approval
        assert not TimeEntry.objects.exists()

        approved = desk.post(
            f"{url}/approve/",
            {"approved_by_name": "王小明", "channel": "in_person", "version": dispatched.json()["version"]},
            format="json",
        )
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        clocked = bench.post(f"/api/jobs/{job_id}/clock-on/")
        assert clocked.status_code == 201 and clocked.json()["is_clocked_on"] is True
        assert desk.get(f"{url}/").json()["status"] == "in_progress"
        [working] = bench.get("/api/technicians/").json()["results"]
        assert (working["id"], working["is_clocked_on"], working["current_job"]) == (technician.pk, True, job_id)

    with time_machine.travel(local(24, 11), tick=False):
        found = bench.post(  # found on the lift: more than the tolerance, so the customer decides
            f"{url}/labour-lines/",
            {"operation_code": "BRK01", "description": "更换前刹车片", "hours": "1.2", "note": "前刹车片剩余2mm"},
            format="json",
        )
        assert found.status_code == 201
        brakes = found.json()["labour_lines"][-1]
        assert brakes["status"] == "proposed" and brakes["is_additional"] is True
        washer = bench.post(  # within the agreed tolerance: approved, as implied
            f"{url}/part-lines/",
            {"part_number": "G052164", "description": "玻璃水", "quantity": "2", "unit_price": "15.00"},
            format="json",
        ).json()["part_lines"][-1]
        assert (washer["status"], washer["decided_channel"]) == ("approved", "implied")

        decided = desk.post(
            f"{url}/decide/",
            {"decisions": {f"labour:{brakes['id']}": False}, "decided_by_name": "王小明", "channel": "phone"},
            format="json",
        )
        assert decided.status_code == 200
        assert decided.json()["labour_lines"][-1]["status"] == "declined"

        filter_line = PartLine.objects.get(repair_order_id=order["id"], part_number="06L115562")
        issued = bench.post(f"{url}/issue-part/", {"part_line": filter_line.pk}, format="json")
        assert issued.status_code == 200 and issued.json()["part_lines"][0]["issued_quantity"] == "1.00"
        assert Part.objects.get(part_number="06L115562").stock_on_hand == 2

        off = bench.post(f"/api/jobs/{job_id}/clock-off/")
        assert off.status_code == 200 and off.json()["is_clocked_on"] is False
        to_check = bench.post(f"{url}/transition/", {"to_status": "quality_check"}, format="json")
        assert to_check.status_code == 200 and to_check.json()["status"] == "quality_check"

        failed = desk.post(f"{url}/quality-check/", {"passed": False, "reason": "异响仍在"}, format="json")
        assert failed.status_code == 201
        assert (failed.json()["status"], failed.json()["rework_count"]) == ("in_progress", 1)
        assert bench.post(f"{url}/transition/", {"to_status": "quality_check"}, format="json").status_code == 200
        passed = desk.post(f"{url}/quality-check/", {"passed": True}, format="json")
        assert passed.status_code == 201 and passed.json()["status"] == "ready"
        assert [check["passed"] for check in passed.json()["quality_checks"]] == [False, True]

    totals = passed.json()["totals"]
    # 1.5 h × ¥380 = 570.00; parts 68.00 + 2 × 15.00 = 98.00; net 668.00; 13% tax 86.84
    assert {name: totals[name] for name in ("labour", "parts", "net", "tax", "customer_due", "paid", "balance")} == {
        "labour": "570.00",
        "parts": "98.00",
        "net": "668.00",
        "tax": "86.84",
        "customer_due": "754.84",
        "paid": "0.00",
        "balance": "754.84",
    }
    with time_machine.travel(local(24, 14, 30), tick=False):
        unpaid = desk.post(f"{url}/deliver/", {}, format="json")
        assert unpaid.status_code == 409 and "still due" in str(unpaid.json())
        assert RepairOrder.objects.get(pk=order["id"]).status == RepairOrderStatus.READY  # unchanged
        paid = desk.post(f"{url}/payments/", {"amount": "754.84", "method": "wechat"}, format="json")
        assert paid.status_code == 201
        assert paid.json()["totals"]["balance"] == "0.00" and paid.json()["payments"][0]["amount"] == "754.84"
        delivered = desk.post(f"{url}/deliver/", {"version": paid.json()["version"]}, format="json")
        assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"

    vehicle.refresh_from_db()
    assert (vehicle.next_service_on, vehicle.next_service_km) == (datetime.date(2027, 5, 23), 51_850)
    assert FollowUp.objects.filter(kind=FollowUpKind.SERVICE_FOLLOWUP, subject_id=order["id"]).exists()
    trail = [(event["from_status"], event["to_status"]) for event in delivered.json()["events"]]
    assert trail[0] == ("", "estimate") and trail[-1] == ("ready", "delivered")


# --- appointments --------------------------------------------------------------------------------


def test_a_full_slot_is_refused_with_the_next_free_slots(workshop, vehicle, desk):
    others = [VehicleFactory(dealership=workshop, owner=vehicle.owner) for _ in range(2)]
    with time_machine.travel(MONDAY, tick=False):
        for car in others:
            booked = desk.post(
                "/api/appointments/",
                {"vehicle": car.pk, "starts_at": local(24, 10).isoformat(), "service_type": "maintenance"},
                format="json",
            )
            assert booked.status_code == 201
        full = desk.post(
            "/api/appointments/",
            {"vehicle": vehicle.pk, "starts_at": local(24, 10).isoformat(), "service_type": "repair"},
            format="json",
        )
        assert full.status_code == 400
        assert "Next free: 11-24 10:30, 11-24 11:00, 11-24 11:30" in full.json()["starts_at"][0]
        off_slot = desk.post(
            "/api/appointments/",
            {"vehicle": vehicle.pk, "starts_at": local(24, 10, 10).isoformat(), "service_type": "repair"},
            format="json",
        )
        assert off_slot.status_code == 400 and "30-minute slot" in off_slot.json()["starts_at"][0]
        bad = desk.post("/api/appointments/", {"vehicle": vehicle.pk, "service_type": "teatime"}, format="json")
        assert bad.status_code == 400 and set(bad.json()) == {"service_type", "starts_at"}
    assert Appointment.objects.count() == 2  # nothing half-written
    assert FollowUp.objects.filter(kind=FollowUpKind.APPOINTMENT_REMINDER).count() == 2  # and no reminder


def test_reschedule_confirm_and_cancel_with_versions(workshop, vehicle, advisor, desk):
    with time_machine.travel(MONDAY, tick=False):
        booked = services.appointment_book(
            actor=advisor, vehicle=vehicle, starts_at=local(24, 10), service_type="repair"
        )
        moved = desk.post(
            f"/api/appointments/{booked.pk}/reschedule/",
            {"starts_at": local(25, 9).isoformat(), "version": booked.version},
            format="json",
        )
        assert moved.status_code == 201
        new = moved.json()
        assert new["id"] != booked.pk and parse(new["starts_at"]) == local(25, 9)
        old = desk.get(f"/api/appointments/{booked.pk}/").json()
        assert (old["status"], old["rescheduled_to"]) == ("rescheduled", new["id"])

        again = desk.post(f"/api/appointments/{booked.pk}/confirm/", {}, format="json")
        assert again.status_code == 409  # a rescheduled appointment cannot be confirmed
        stale = desk.post(f"/api/appointments/{new['id']}/cancel/", {"version": new["version"] + 5}, format="json")
        assert stale.status_code == 409 and Appointment.objects.get(pk=new["id"]).status == AppointmentStatus.BOOKED
        cancelled = desk.post(f"/api/appointments/{new['id']}/cancel/", {"version": new["version"]}, format="json")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

        listed = desk.get("/api/appointments/", {"status": ["booked", "cancelled"], "vehicle": vehicle.pk}).json()
        assert [row["id"] for row in listed["results"]] == [new["id"]]
        after = desk.get("/api/appointments/", {"starts_after": local(24, 12).isoformat()}).json()
        assert [row["id"] for row in after["results"]] == [new["id"]]


def test_appointments_refuse_roles_and_other_rooftops(workshop, other_rooftop, vehicle, advisor, staff):
    with time_machine.travel(MONDAY, tick=False):
        booked = services.appointment_book(
            actor=advisor, vehicle=vehicle, starts_at=local(24, 10), service_type="repair"
        )
        specialist = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
        assert specialist.get("/api/appointments/").json()["results"][0]["customer_mobile"] == "+8613812345678"
        sales = api_client_for(staff[Role.SALES_CONSULTANT])
        assert sales.get("/api/appointments/").status_code == 200
        assert sales.post(f"/api/appointments/{booked.pk}/cancel/", {}, format="json").status_code == 403
        assert api_client_for(staff[Role.TECHNICIAN]).get("/api/appointments/").status_code == 403

        outsider = outsider_in(other_rooftop)
        assert outsider.get(f"/api/appointments/{booked.pk}/").status_code == 404
        assert outsider.post(f"/api/appointments/{booked.pk}/cancel/", {}, format="json").status_code == 404
        theirs = outsider.post(
            "/api/appointments/",
            {"vehicle": vehicle.pk, "starts_at": local(24, 11).isoformat(), "service_type": "repair"},
            format="json",
        )
        assert theirs.status_code == 400 and "does not exist" in theirs.json()["vehicle"][0]
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.count() == 1


# --- repair orders: refusals -------------------------------------------------------------------


def test_odometer_going_back_is_refused_and_nothing_is_written(workshop, vehicle, desk):
    back = desk.post(
        "/api/repair-orders/", {"vehicle": vehicle.pk, "concern": "异响", "odometer_km": 40_000}, format="json"
    )
    assert back.status_code == 400 and "odometer_km" in back.json()
    assert not RepairOrder.objects.exists()
    corrected = desk.post(
        "/api/repair-orders/",
        {
            "vehicle": vehicle.pk,
            "concern": "异响",
            "odometer_km": 40_000,
            "odometer_correction_reason": "上次录入错误,多输入了1000公里",
        },
        format="json",
    )
    assert corrected.status_code == 201 and corrected.json()["odometer_km"] == 40_000


def test_check_in_validates_its_fields(workshop, vehicle, other_rooftop, desk):
    foreign = VehicleFactory(dealership=other_rooftop, owner=CustomerFactory(dealership=other_rooftop))
    bad = desk.post(
        "/api/repair-orders/",
        {"vehicle": foreign.pk, "concern": "", "odometer_km": -1, "fuel_level": 120, "pay_type": "free"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"vehicle", "concern", "odometer_km", "fuel_level", "pay_type"}
    assert "does not exist" in bad.json()["vehicle"][0]
    past = desk.post(
        "/api/repair-orders/",
        {"vehicle": vehicle.pk, "concern": "异响", "odometer_km": 41_000, "promised_at": "2020-01-01T10:00:00+08:00"},
        format="json",
    )
    assert past.status_code == 400 and "promised_at" in past.json()
    assert not RepairOrder.objects.exists()


def test_illegal_transitions_and_stale_versions_are_conflicts(order, desk, bench):
    url = f"/api/repair-orders/{order.pk}"
    events = RepairOrderEvent.objects.count()
    illegal = bench.post(f"{url}/transition/", {"to_status": "quality_check"}, format="json")
    assert illegal.status_code == 409 and "cannot go to" in str(illegal.json())
    assert desk.post(f"{url}/deliver/", {}, format="json").status_code == 409
    assert desk.post(f"{url}/quality-check/", {"passed": True}, format="json").status_code == 409
    assert desk.post(f"{url}/payments/", {"amount": "10.00", "method": "cash"}, format="json").status_code == 409
    wrong = desk.post(f"{url}/transition/", {"to_status": "delivered"}, format="json")
    assert wrong.status_code == 400 and "to_status" in wrong.json()  # delivery has its own action
    assert desk.post(f"{url}/transition/", {"to_status": "flying"}, format="json").status_code == 400

    stale = order.version
    updated = desk.patch(f"{url}/", {"free_wash": False, "diagnosis": "刹车片磨损", "version": stale}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["free_wash"], updated.json()["version"]) == (False, stale + 1)
    conflict = desk.patch(f"{url}/", {"diagnosis": "覆盖", "version": stale}, format="json")
    assert conflict.status_code == 409 and "changed this repair order" in str(conflict.json())
    assert desk.patch(f"{url}/", {"diagnosis": "x"}, format="json").status_code == 400  # the version is required
    assert desk.put(f"{url}/", {"diagnosis": "x", "version": stale + 1}, format="json").status_code == 405
    order.refresh_from_db()
    assert (order.status, order.diagnosis) == (RepairOrderStatus.ESTIMATE, "刹车片磨损")
    assert RepairOrderEvent.objects.count() == events  # no move was recorded


def test_a_technician_may_not_approve_check_in_or_take_payments(order, technician, bench):
    url = f"/api/repair-orders/{order.pk}"
    refused = bench.post(f"{url}/approve/", {"approved_by_name": "王小明", "channel": "in_person"}, format="json")
    assert refused.status_code == 403
    assert bench.post(f"{url}/payments/", {"amount": "1.00", "method": "cash"}, format="json").status_code == 403
    assert (
        bench.post("/api/repair-orders/", {"vehicle": order.vehicle_id, "concern": "x", "odometer_km": 41_000})
    ).status_code == 403
    dispatched = bench.post(f"{url}/dispatch/", {"technician": technician.pk, "planned_hours": "1"}, format="json")
    assert dispatched.status_code == 403
    order.refresh_from_db()
    assert (order.status, order.approved_by_name) == (RepairOrderStatus.ESTIMATE, "")
    assert not Job.objects.exists() and RepairOrder.objects.count() == 1


def test_bad_input_to_the_actions_is_a_400_with_field_messages(order, advisor, technician, desk, staff):
    url = f"/api/repair-orders/{order.pk}"
    no_work = desk.post(f"{url}/labour-lines/", {"operation_code": "", "hours": "0"}, format="json")
    assert no_work.status_code == 400 and set(no_work.json()) >= {"operation_code", "description", "hours"}
    unknown_part = desk.post(f"{url}/part-lines/", {"part_number": "NOPE", "quantity": "1"}, format="json")
    assert unknown_part.status_code == 400 and "not in the catalogue" in unknown_part.json()["part_number"][0]
    not_a_technician = desk.post(f"{url}/dispatch/", {"technician": advisor.pk, "planned_hours": "1"}, format="json")
    assert not_a_technician.status_code == 400 and "technician" in not_a_technician.json()
    implied = desk.post(f"{url}/approve/", {"approved_by_name": "王", "channel": "implied"}, format="json")
    assert implied.status_code == 400 and "channel" in implied.json()
    services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="王", channel="phone")
    keys = desk.post(
        f"{url}/decide/", {"decisions": {"brakes": True}, "decided_by_name": "王", "channel": "phone"}, format="json"
    )
    assert keys.status_code == 400 and "decisions" in keys.json()
    empty = desk.post(f"{url}/decide/", {"decisions": {}, "decided_by_name": "王", "channel": "phone"}, format="json")
    assert empty.status_code == 400 and "decisions" in empty.json()
    line = order.part_lines.get()
    too_many = desk.post(f"{url}/issue-part/", {"part_line": line.pk, "quantity": "5"}, format="json")
    assert too_many.status_code == 400 and "quantity" in too_many.json()
    elsewhere = desk.post(f"{url}/issue-part/", {"part_line": line.pk + 999}, format="json")
    assert elsewhere.status_code == 400 and "part_line" in elsewhere.json()
    assert Part.objects.get().stock_on_hand == 3 and order.labour_lines.count() == 1 and not Job.objects.exists()


def test_a_technician_sees_no_money(order, advisor, technician, desk, bench):
    services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="王", channel="phone")
    services.job_dispatch(actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=Decimal("1"))
    url = f"/api/repair-orders/{order.pk}/"

    seen = bench.get(url).json()
    assert not MONEY_FIELDS & set(seen)
    assert seen["labour_lines"][0]["hours"] == "1.50" and seen["jobs"][0]["technician"] == technician.pk
    for line in seen["labour_lines"]:
        assert not {"rate", "amount", "discount_amount"} & set(line)
    for line in seen["part_lines"]:
        assert not {"unit_price", "amount", "discount_amount"} & set(line)
    assert seen["customer_mobile"] != "+8613812345678"  # and the phone is masked
    assert "totals" not in bench.get("/api/repair-orders/").json()["results"][0]
    assert "unit_price" not in bench.get("/api/parts/").json()["results"][0]
    assert "+8613812345678" not in str(seen)

    full = desk.get(url).json()
    assert set(full) >= MONEY_FIELDS and full["labour_lines"][0]["rate"] == "380.00"
    assert full["totals"]["customer_due"] == "720.94"  # (570 + 68) × 1.13
    assert desk.get("/api/repair-orders/").json()["results"][0]["totals"]["balance"] == "720.94"


def test_other_rooftops_orders_parts_jobs_and_technicians_are_404(order, other_rooftop, advisor, technician, staff):
    job = services.job_dispatch(
        actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=Decimal("1")
    )
    url = f"/api/repair-orders/{order.pk}"
    outsider = outsider_in(other_rooftop)
    assert outsider.get(f"{url}/").status_code == 404
    assert outsider.get("/api/repair-orders/").json()["count"] == 0
    for action, body in [
        ("approve", {"approved_by_name": "王", "channel": "phone"}),
        ("labour-lines", {"operation_code": "X", "description": "x", "hours": "1"}),
        ("transition", {"to_status": "cancelled"}),
        ("issue-part", {"part_line": order.part_lines.get().pk}),
    ]:
        assert outsider.post(f"{url}/{action}/", body, format="json").status_code == 404, action
    assert outsider.patch(f"{url}/", {"diagnosis": "x", "version": order.version}, format="json").status_code == 404
    assert outsider.get(f"/api/parts/{Part.objects.get().pk}/").status_code == 404
    assert outsider.get(f"/api/jobs/{job.pk}/").status_code == 404
    assert outsider.get("/api/technicians/").json()["count"] == 0
    foreign_technician = outsider_in(other_rooftop, Role.TECHNICIAN)
    assert foreign_technician.post(f"/api/jobs/{job.pk}/clock-on/").status_code == 404
    assert foreign_technician.get(f"/api/technicians/{technician.pk}/").status_code == 404

    order.refresh_from_db()
    assert (order.status, order.diagnosis, order.labour_lines.count()) == (RepairOrderStatus.ESTIMATE, "", 1)
    assert not TimeEntry.objects.exists()


def test_a_technician_clocks_on_only_their_own_job(order, advisor, technician, rooftop):
    services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="王", channel="phone")
    colleague = UserFactory(role=Role.TECHNICIAN, rooftops=[rooftop])
    job = services.job_dispatch(actor=advisor, repair_order_id=order.pk, technician=colleague, planned_hours=Decimal(1))
    mine = services.job_dispatch(
        actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=Decimal(1)
    )
    bench = api_client_for(technician)
    assert bench.post(f"/api/jobs/{job.pk}/clock-on/").status_code == 403
    assert api_client_for(advisor).post(f"/api/jobs/{mine.pk}/clock-on/").status_code == 403  # not their role
    assert bench.post(f"/api/jobs/{mine.pk}/clock-off/").status_code == 409  # not clocked on
    assert bench.post(f"/api/jobs/{mine.pk}/clock-on/").status_code == 201
    assert bench.post(f"/api/jobs/{mine.pk}/clock-on/").status_code == 409  # already on a job
    assert TimeEntry.objects.filter(ended_at__isnull=True).count() == 1
    listed = bench.get("/api/jobs/", {"technician": technician.pk}).json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    clocked = bench.get("/api/technicians/", {"clocked_on": "true"}).json()["results"]
    assert [(row["id"], row["current_repair_order_number"]) for row in clocked] == [(technician.pk, order.number)]


def test_parts_are_listed_with_filters_and_technicians_need_the_workshop(workshop, other_rooftop, staff):
    Part.objects.create(dealership=workshop, part_number="06L115999", description="空气滤清器", unit_price="88.00")
    Part.objects.create(dealership=other_rooftop, part_number="06L115562", description="别家的", unit_price="1.00")
    desk = api_client_for(staff[Role.SERVICE_ADVISOR])
    assert [row["part_number"] for row in desk.get("/api/parts/").json()["results"]] == ["06L115562", "06L115999"]
    assert [row["part_number"] for row in desk.get("/api/parts/", {"in_stock": "true"}).json()["results"]] == [
        "06L115562"
    ]
    assert desk.get("/api/parts/", {"part_number": "06l1159"}).json()["count"] == 1
    assert api_client_for(staff[Role.SALES_CONSULTANT]).get("/api/parts/").status_code == 403
    assert api_client_for(staff[Role.CUSTOMER_SPECIALIST]).get("/api/technicians/").status_code == 403
    assert api_client_for(staff[Role.SALES_CONSULTANT]).get("/api/jobs/").status_code == 403


# --- bounded queries and the schema ------------------------------------------------------------


def test_the_appointment_list_queries_do_not_grow_with_the_page(workshop, advisor, desk, django_assert_max_num_queries):
    start = local(24, 8, 30)
    for index in range(40):
        customer = CustomerFactory(dealership=workshop)
        Appointment.objects.create(
            dealership=workshop,
            customer=customer,
            vehicle=VehicleFactory(dealership=workshop, owner=customer),
            advisor=UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[workshop]),
            service_type="repair",
            starts_at=start + datetime.timedelta(minutes=30 * index),
            ends_at=start + datetime.timedelta(minutes=30 * (index + 1)),
        )
    desk.get("/api/appointments/")  # the caller's permissions are cached from here on
    with django_assert_max_num_queries(3):
        small = desk.get("/api/appointments/", {"page_size": 5})
    with django_assert_max_num_queries(3):
        big = desk.get("/api/appointments/", {"page_size": 40})
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 40
    assert all(row["advisor_name"] and row["vehicle_plate"] for row in big.json()["results"])


def test_the_repair_order_list_queries_do_not_grow_with_the_page(
    workshop, advisor, desk, django_assert_max_num_queries
):
    for _ in range(40):
        customer = CustomerFactory(dealership=workshop)
        car = VehicleFactory(dealership=workshop, owner=customer)
        repair_order = services.repair_order_open(actor=advisor, vehicle=car, concern="保养", odometer_km=1000)
        LabourLine.objects.create(
            repair_order=repair_order, operation_code="M", description="保养", hours="1.00", rate="380.00"
        )
        PartLine.objects.create(
            repair_order=repair_order, part_number="P1", description="滤芯", quantity="1", unit_price="68.00"
        )
        Payment.objects.create(repair_order=repair_order, amount="100.00", method="cash", received_by=advisor)
    desk.get("/api/repair-orders/")
    with django_assert_max_num_queries(5):
        small = desk.get("/api/repair-orders/", {"page_size": 5, "status": ["estimate", "approved"]})
    with django_assert_max_num_queries(5):
        big = desk.get("/api/repair-orders/", {"page_size": 40, "ordering": "number"})
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 40
    numbers = [row["number"] for row in big.json()["results"]]
    assert numbers == sorted(numbers)
    assert {row["totals"]["balance"] for row in big.json()["results"]} == {"406.24"}  # (380 + 68) × 1.13 − 100


def test_the_technician_list_queries_do_not_grow(workshop, advisor, desk, django_assert_max_num_queries):
    for _ in range(20):
        UserFactory(role=Role.TECHNICIAN, rooftops=[workshop])
    desk.get("/api/technicians/")
    with django_assert_max_num_queries(3):
        listed = desk.get("/api/technicians/", {"page_size": 50})
    assert listed.json()["count"] == 21  # and the one in ``staff``
    assert all(row["rooftops"] == [workshop.pk] and row["is_clocked_on"] is False for row in listed.json()["results"])


def test_the_schema_describes_the_service_endpoints(client, advisor):
    client.force_login(advisor)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in [
        "/api/appointments/",
        "/api/appointments/{id}/reschedule/",
        "/api/appointments/{id}/confirm/",
        "/api/appointments/{id}/cancel/",
        "/api/repair-orders/",
        "/api/repair-orders/{id}/",
        "/api/repair-orders/{id}/labour-lines/",
        "/api/repair-orders/{id}/part-lines/",
        "/api/repair-orders/{id}/issue-part/",
        "/api/repair-orders/{id}/approve/",
        "/api/repair-orders/{id}/decide/",
        "/api/repair-orders/{id}/transition/",
        "/api/repair-orders/{id}/dispatch/",
        "/api/repair-orders/{id}/quality-check/",
        "/api/repair-orders/{id}/payments/",
        "/api/repair-orders/{id}/deliver/",
        "/api/parts/",
        "/api/technicians/",
        "/api/jobs/{id}/clock-on/",
        "/api/jobs/{id}/clock-off/",
    ]:
        assert path in paths, path
    assert "patch" in paths["/api/repair-orders/{id}/"] and "put" not in paths["/api/repair-orders/{id}/"]
    parameters = {parameter["name"] for parameter in paths["/api/repair-orders/"]["get"]["parameters"]}
    assert {"status", "advisor", "dealership", "vehicle", "customer", "checked_in_after", "ordering"} <= parameters
    detail = schema["components"]["schemas"]["RepairOrderDetail"]
    assert set(detail["properties"]) >= MONEY_FIELDS and not MONEY_FIELDS & set(detail["required"])
    assert "RepairOrderStatusEnum" in schema["components"]["schemas"]
