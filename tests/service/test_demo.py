"""seed_demo's service department: a year of history, today's workshop in every state, bookings ahead."""

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from crm.models import User
from service import selectors
from service.choices import AppointmentStatus, RepairOrderStatus
from service.models import Appointment, RepairOrder


def test_seed_demo_makes_the_board_and_calendars_look_alive(db):
    call_command("seed_demo", customers=60, stdout=StringIO())
    orders = RepairOrder.objects.count()
    call_command("seed_demo", customers=60, stdout=StringIO())
    assert RepairOrder.objects.count() == orders  # a second run adds nothing

    oldest = RepairOrder.objects.order_by("checked_in_at").first().checked_in_at
    assert (timezone.now() - oldest).days >= 360
    states = set(RepairOrder.objects.values_list("status", flat=True))
    assert states >= {"estimate", "approved", "in_progress", "waiting_parts", "quality_check", "ready", "delivered"}
    board = selectors.board(user=User.objects.get(username="advisor"))
    assert all(board[status] for status in (RepairOrderStatus.APPROVED, RepairOrderStatus.IN_PROGRESS))
    ahead = Appointment.objects.filter(starts_at__gt=timezone.now(), status=AppointmentStatus.BOOKED)
    assert ahead.count() >= 10
    assert Appointment.objects.filter(status=AppointmentStatus.NO_SHOW).exists()
    numbers = list(
        RepairOrder.objects.filter(dealership__code="SH01", year=timezone.now().year).values_list("sequence", flat=True)
    )
    assert sorted(numbers) == list(range(1, len(numbers) + 1))  # gap-free, history and today together
