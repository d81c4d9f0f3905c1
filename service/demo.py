"""Demo service data (a ``crm.demo`` seeder): a year of delivered repair orders with their lines,
payments and appointments, today's workshop in every state, and the next two weeks' bookings.

The year is written in bulk (it is history); today's orders go through the service functions, as
an advisor would have made them. Run once: a second ``seed_demo`` leaves what is there.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.choices import SurveyKind
from crm.models import SurveyResponse, Vehicle
from crm.surveys import survey_create

from . import pricing, services
from .choices import AppointmentStatus, PayType, RepairOrderStatus, ServiceType
from .models import (
    Appointment,
    Job,
    LabourLine,
    Part,
    PartLine,
    Payment,
    RepairOrder,
    RepairOrderCounter,
    ServiceSettings,
    TimeEntry,
)

OPERATIONS = (
    ("M05K", "5000公里保养", "1.0", ServiceType.MAINTENANCE),
    ("M10K", "1万公里保养", "1.5", ServiceType.MAINTENANCE),
    ("BRK01", "更换前刹车片", "1.2", ServiceType.REPAIR),
    ("ALN01", "四轮定位", "0.8", ServiceType.REPAIR),
    ("AC01", "空调系统清洗", "0.6", ServiceType.QUICK),
    ("DIAG", "故障诊断", "1.0", ServiceType.REPAIR),
)
PARTS = (
    ("06L115562", "机油滤清器", "68.00", 40),
    ("G052195M4", "机油 5W-30(升)", "75.00", 200),
    ("1K0698151", "前刹车片", "420.00", 6),
    ("5Q0819653", "空调滤芯", "95.00", 25),
    ("N0138157", "放油螺栓垫片", "5.00", 300),
)
CONCERNS = ("常规保养", "刹车有异响", "空调不凉", "方向盘跑偏", "发动机故障灯亮", "保养并检查轮胎")
HISTORY_DAYS = 365


def seed(*, rooftops, staff, stdout) -> None:
    if RepairOrder.objects.exists():
        return
    rng = random.Random(20261123)
    made = live = booked = 0
    for code, rooftop in rooftops.items():
        advisor = staff["advisor" if code == "SH01" else "advisor_bj"]
        technician = staff.get("technician" if code == "SH01" else "technician_bj")
        settings = ServiceSettings.of(rooftop)
        settings.slot_minutes, settings.bays = 30, 6
        settings.save()
        parts = {
            number: Part.objects.get_or_create(
                dealership=rooftop,
                part_number=number,
                defaults={"description": name, "unit_price": Decimal(price), "stock_on_hand": stock},
            )[0]
            for number, name, price, stock in PARTS
        }
        vehicles = list(
            Vehicle.objects.filter(dealership=rooftop, owner__isnull=False).select_related("owner").order_by("pk")[:300]
        )
        if not vehicles:
            continue
        in_workshop = vehicles[: min(12, len(vehicles) // 3)]
        to_book = vehicles[len(in_workshop) : len(in_workshop) + min(28, len(vehicles) // 3)]
        with transaction.atomic():
            made += _history(
                rng,
                rooftop,
                settings,
                vehicles[len(in_workshop) + len(to_book) :] or vehicles,
                parts,
                advisor,
                technician,
            )
        if technician is not None:
            live += _today(rng, in_workshop, parts, advisor, technician)
        booked += _upcoming(rng, rooftop, to_book, advisor)
    stdout.write(
        f"Demo service: {made} past repair orders, {live} in the workshop today, {booked} appointments booked."
    )


def _history(rng, rooftop, settings, vehicles, parts, advisor, technician) -> int:
    zone = rooftop.zone
    today = timezone.localdate(timezone.now(), zone)
    orders, plans, appointments = [], [], []
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - datetime.timedelta(days=back)
        for _ in range(rng.choice((1, 2, 2, 3))):
            vehicle = rng.choice(vehicles)
            code, name, hours, kind = rng.choice(OPERATIONS)
            arrived = datetime.datetime.combine(
                day, datetime.time(rng.randint(8, 15), rng.choice((0, 30))), tzinfo=zone
            )
            order = RepairOrder(
                dealership=rooftop,
                customer_id=vehicle.owner_id,
                vehicle=vehicle,
                advisor=advisor,
                service_type=kind,
                status=RepairOrderStatus.DELIVERED,
                pay_type=PayType.WARRANTY if rng.random() < 0.08 else PayType.CUSTOMER,
                odometer_km=max(1000, (vehicle.odometer_km or 20000) - back * 40),
                fuel_level=rng.choice((25, 50, 75)),
                concern=rng.choice(CONCERNS),
                promised_at=arrived + datetime.timedelta(hours=rng.choice((5, 6, 6, 7))),
                tax_rate=settings.tax_rate,
                approved_by_name=vehicle.owner.full_name if vehicle.owner else "",
                approved_at=arrived + datetime.timedelta(minutes=20),
                approval_channel="in_person",
                checked_in_at=arrived,
                ready_at=arrived + datetime.timedelta(hours=rng.uniform(2, 5)),
                delivered_at=arrived + datetime.timedelta(hours=rng.uniform(4.5, 6.5)),
                rework_count=1 if rng.random() < 0.04 else 0,
                is_comeback=rng.random() < 0.03,
                created_by=advisor,
                year=arrived.year,
            )
            order.paid_at = order.delivered_at
            orders.append(order)
            plans.append((code, name, hours, rng.sample(list(parts.values()), rng.randint(1, 3))))
            if rng.random() < 0.7:
                appointments.append((len(orders) - 1, AppointmentStatus.ARRIVED))
        if rng.random() < 0.1:
            vehicle = rng.choice(vehicles)
            missed = datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=zone)
            appointments.append(
                (
                    Appointment(
                        dealership=rooftop,
                        customer_id=vehicle.owner_id,
                        vehicle=vehicle,
                        advisor=advisor,
                        service_type=ServiceType.MAINTENANCE,
                        starts_at=missed,
                        ends_at=missed + datetime.timedelta(minutes=settings.slot_minutes),
                        status=rng.choice((AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)),
                    ),
                    None,
                )
            )
    orders.sort(key=lambda order: order.checked_in_at)
    per_year: dict[int, int] = {}
    for order in orders:
        per_year[order.year] = per_year.get(order.year, 0) + 1
        order.sequence = per_year[order.year]
        order.number = f"{rooftop.code}-{order.year}-{order.sequence:06d}"
    RepairOrder.objects.bulk_create(orders, batch_size=1000)
    for year, last in per_year.items():
        RepairOrderCounter.objects.update_or_create(dealership=rooftop, year=year, defaults={"last": last})
    labour, part_lines, payments, jobs = [], [], [], []
    for order, (code, name, hours, picked) in zip(orders, plans, strict=True):
        jobs.append(Job(repair_order=order, technician=technician, planned_hours=Decimal(hours)))
        if rng.random() < 0.2:  # extra work found on the lift: most customers say yes on the phone
            approved = rng.random() < 0.7
            labour.append(
                LabourLine(
                    repair_order=order,
                    operation_code="EXTRA",
                    description=rng.choice(("更换刹车片", "更换空调滤芯", "四轮定位")),
                    hours=Decimal("1.0"),
                    rate=rooftop.labour_rate_amount,
                    pay_type=order.pay_type,
                    technician=technician,
                    is_additional=True,
                    status="approved" if approved else "declined",
                    decided_at=order.checked_in_at + datetime.timedelta(hours=1),
                    decided_channel="phone",
                )
            )
        line = LabourLine(
            repair_order=order,
            operation_code=code,
            description=name,
            hours=Decimal(hours),
            rate=rooftop.labour_rate_amount,
            pay_type=order.pay_type,
            technician=technician,
        )
        lines = [
            PartLine(
                repair_order=order,
                part=part,
                part_number=part.part_number,
                description=part.description,
                quantity=Decimal(rng.choice((1, 1, 2, 4))),
                unit_price=part.unit_price,
                pay_type=order.pay_type,
            )
            for part in picked
        ]
        for part_line in lines:
            part_line.issued_quantity = part_line.quantity
        labour.append(line)
        part_lines += lines
        due = pricing.totals(order, [line], lines).customer_due
        if due > 0:
            payments.append(Payment(repair_order=order, amount=due, method=rng.choice(("wechat", "alipay", "card"))))
    LabourLine.objects.bulk_create(labour, batch_size=1000)
    PartLine.objects.bulk_create(part_lines, batch_size=1000)
    Payment.objects.bulk_create(payments, batch_size=1000)
    Job.objects.bulk_create(jobs, batch_size=1000)
    clocks = []
    for job, order in zip(jobs, orders, strict=True):  # the technician clocks on after approval, about the hours sold
        started = order.checked_in_at + datetime.timedelta(minutes=rng.randint(30, 60))
        clocks.append(
            TimeEntry(
                job=job,
                technician=technician,
                started_at=started,
                ended_at=started + datetime.timedelta(hours=float(job.planned_hours) * rng.uniform(0.8, 1.1)),
            )
        )
    TimeEntry.objects.bulk_create(clocks, batch_size=1000)
    booked, kept = [], []
    for ref, status in appointments:
        if isinstance(ref, Appointment):
            booked.append(ref)
            continue
        order = orders[ref]
        kept.append(order)
        start = order.checked_in_at.replace(minute=0 if order.checked_in_at.minute < 30 else 30)
        booked.append(
            Appointment(
                dealership=rooftop,
                customer_id=order.customer_id,
                vehicle=order.vehicle,
                advisor=advisor,
                service_type=order.service_type,
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=settings.slot_minutes),
                concern=order.concern,
                status=status,
            )
        )
    Appointment.objects.bulk_create(booked, batch_size=1000)
    arrived = [appointment for appointment in booked if appointment.status == AppointmentStatus.ARRIVED]
    for order, appointment in zip(kept, arrived, strict=True):  # the order each kept appointment became
        order.appointment = appointment
    RepairOrder.objects.bulk_update(kept, ["appointment"], batch_size=1000)
    _surveys(orders, today, zone, advisor)
    return len(orders)


SURVEY_DAYS = 90


def _surveys(orders, today, zone, advisor) -> None:
    """The satisfaction survey each visit of the last 90 days was sent (customer care answers them)."""
    since = datetime.datetime.combine(today - datetime.timedelta(days=SURVEY_DAYS), datetime.time.min, tzinfo=zone)
    recent = [order for order in orders if order.delivered_at >= since]
    owners = {
        vehicle.owner_id: vehicle.owner
        for vehicle in Vehicle.objects.filter(pk__in={order.vehicle_id for order in recent}).select_related(
            "owner", "owner__dealership"
        )
    }
    for order in recent:
        survey = survey_create(
            subject=order,
            customer=owners[order.customer_id],
            kind=SurveyKind.SERVICE_VISIT,
            staff=advisor,
            now=order.delivered_at,
        )
        SurveyResponse.objects.filter(pk=survey.pk).update(created_at=order.delivered_at)


def _today(rng, vehicles, parts, advisor, technician) -> int:
    """Twelve cars in the workshop now, in every state from estimate to ready."""
    states = ("estimate", "approved", "in_progress", "in_progress", "waiting_parts", "quality_check", "ready")
    now = timezone.now()
    made, lift_job = 0, None
    for index, vehicle in enumerate(vehicles):
        target = states[index % len(states)]
        with transaction.atomic():
            order = services.repair_order_open(
                actor=advisor,
                vehicle=vehicle,
                concern=rng.choice(CONCERNS),
                odometer_km=(vehicle.odometer_km or 20000) + 120,
                service_type=ServiceType.MAINTENANCE,
                promised_at=now + datetime.timedelta(hours=rng.choice((1, 2, 3, 5))),
            )
            code, name, hours, _kind = rng.choice(OPERATIONS)
            services.labour_line_add(
                actor=advisor, repair_order_id=order.pk, operation_code=code, description=name, hours=Decimal(hours)
            )
            part = rng.choice(list(parts.values()))
            services.part_line_add(
                actor=advisor, repair_order_id=order.pk, part_number=part.part_number, quantity=Decimal("1")
            )
            made += 1
            if target == "estimate":
                continue
            services.repair_order_approve(
                actor=advisor, repair_order_id=order.pk, approved_by_name=vehicle.owner.full_name, channel="in_person"
            )
            job = services.job_dispatch(
                actor=advisor,
                repair_order_id=order.pk,
                technician=technician,
                planned_hours=Decimal(hours),
                bay=f"B{index % 6 + 1}",
            )
            if target == "approved":
                continue
            if index == 2:  # one car on the lift right now (clocked on after the others are done)
                lift_job = job
                continue
            services.clock_on(actor=technician, job_id=job.pk)
            services.clock_off(actor=technician, job_id=job.pk)
            if target == "in_progress":
                services.labour_line_add(  # found on the lift: waits for the customer's answer
                    actor=technician,
                    repair_order_id=order.pk,
                    operation_code="BRK01",
                    description="更换前刹车片",
                    hours=Decimal("1.2"),
                    note="前刹车片剩余2mm",
                )
                continue
            if target == "waiting_parts":
                services.repair_order_transition(actor=technician, repair_order_id=order.pk, to_status="waiting_parts")
                continue
            services.repair_order_transition(actor=technician, repair_order_id=order.pk, to_status="quality_check")
            if target == "ready":
                services.quality_check_record(actor=advisor, repair_order_id=order.pk, passed=True)
    if lift_job is not None:
        services.clock_on(actor=technician, job_id=lift_job.pk)
    return made


def _upcoming(rng, rooftop, vehicles, advisor) -> int:
    """Bookings over the next two weeks, through the booking service (reminders included)."""
    offers = services.next_free_slots(
        dealership=rooftop, after=timezone.now() + datetime.timedelta(hours=3), count=60, days=14
    )
    made = 0
    for vehicle, slot in zip(vehicles, rng.sample(offers, min(len(offers), len(vehicles))), strict=False):
        with transaction.atomic():
            services.appointment_book(
                actor=advisor,
                vehicle=vehicle,
                starts_at=slot,
                service_type=rng.choice((ServiceType.MAINTENANCE, ServiceType.REPAIR)),
                advisor=advisor,
                concern=rng.choice(CONCERNS),
            )
        made += 1
    return made
