"""seed_demo's sales floor: a year of leads in every stage, and a consultant's day that starts full."""

from io import StringIO

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from followup.choices import FollowUpKind
from followup.models import FollowUp
from sales import demo, selectors
from sales import models as sales_models
from sales.choices import ActivityKind, Grade, LostReview, OrderStatus, Stage, StockStatus
from sales.models import Activity, Lead, Order, Quote, StockVehicle

from ..factories import CustomerFactory, VehicleFactory


def test_seed_demo_fills_a_year_of_the_funnel_and_todays_list(rooftop, staff, client):
    for _ in range(15):
        VehicleFactory(dealership=rooftop, owner=CustomerFactory(dealership=rooftop))
    people = {user.username: user for user in staff.values()}
    consultant = staff[Role.SALES_CONSULTANT]

    demo.seed(rooftops={"SH01": rooftop}, staff=people, stdout=StringIO())
    leads = Lead.objects.filter(dealership=rooftop)
    seeded = leads.count()
    demo.seed(rooftops={"SH01": rooftop}, staff=people, stdout=StringIO())
    assert leads.count() == seeded  # a second run adds nothing

    # every stage, every grade, lost leads approved and two applications waiting for the manager
    assert set(leads.values_list("stage", flat=True)) == set(Stage.values)
    assert set(leads.values_list("grade", flat=True)) >= set(Grade.values)
    assert leads.filter(stage=Stage.LOST, lost_review=LostReview.APPROVED).count() >= 5
    assert leads.filter(lost_review=LostReview.APPLIED).count() == 2
    oldest = leads.order_by("created_at").first().created_at
    assert (timezone.now() - oldest).days >= 200
    kinds = set(Activity.objects.filter(lead__in=leads).values_list("kind", flat=True))
    assert kinds == set(ActivityKind.values)
    assert not Activity.objects.filter(kind=ActivityKind.VISIT, party_size__isnull=True).exists()
    assert Quote.objects.filter(version__gte=2).exists() and Quote.objects.filter(term_months__isnull=False).exists()
    assert set(StockVehicle.objects.values_list("status", flat=True)) == set(StockStatus.values)

    # the consultant opens their day: follow-ups due today and overdue, test drives, deliveries
    now = timezone.now()
    day = selectors.consultant_today(user=consultant, now=now, zone=rooftop.zone)
    today = timezone.localdate(now, rooftop.zone)
    assert day.overdue_count >= 3
    assert sum(1 for lead in day.due if lead.next_followup_on == today) >= 3
    assert len(day.test_drives) == 2 and len(day.deliveries) == 2
    client.force_login(consultant)
    page = client.get(reverse("sales:today")).content.decode()
    assert 'id="overdue-count"' in page and page.count("call-row") == len(day.due)

    # a delivered car is the customer's, and the 2-day call about it is scheduled (or made)
    delivered = Order.objects.filter(status=OrderStatus.DELIVERED).select_related("vehicle")
    assert delivered.count() >= 5
    for order in delivered:
        assert order.vehicle.owner_id == order.customer_id
        assert FollowUp.objects.filter(
            kind=FollowUpKind.DELIVERY_FOLLOWUP, subject_type__model="order", subject_id=order.pk
        ).exists()
    assert Order.objects.filter(status=OrderStatus.PAID, paid__gt=0).exists()

    # the demo cars are never double-booked
    assert sales_models.TestDrive.objects.filter(dealership=rooftop).count() >= 10
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM sales_testdrive AS a JOIN sales_testdrive AS b
               ON a.demo_vehicle_id = b.demo_vehicle_id AND a.id < b.id
               AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)"""
        )
        assert cursor.fetchone()[0] == 0
