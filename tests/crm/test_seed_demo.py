"""The demo data: two rooftops, a login for every role, realistic customers; safe to run twice."""

from io import StringIO

from django.core.management import call_command

from crm.choices import Role
from crm.models import Customer, Dealership, User, Vehicle
from crm.validators import MAINLAND_PLATE, vin_validate


def test_seed_demo_is_idempotent_and_realistic(db):
    first = StringIO()
    call_command("seed_demo", customers=15, stdout=first)
    counts = (Dealership.objects.count(), User.objects.count(), Customer.objects.count(), Vehicle.objects.count())
    call_command("seed_demo", customers=15, stdout=StringIO())
    assert (
        Dealership.objects.count(),
        User.objects.count(),
        Customer.objects.count(),
        Vehicle.objects.count(),
    ) == counts
    assert counts[0] == 2 and counts[2] == 30

    output = first.getvalue()
    for role in Role:
        user = User.objects.filter(groups__name=role.value).first()
        assert user is not None, role
        assert f"{user.username}-demo-2026" in output and user.check_password(f"{user.username}-demo-2026")

    for customer in Customer.objects.all():
        assert customer.mobile.startswith("+861") and len(customer.mobile) == 14
    for vehicle in Vehicle.objects.select_related("owner"):
        assert vin_validate(vehicle.vin) == vehicle.vin
        assert not vehicle.plate or MAINLAND_PLATE.match(vehicle.plate)
        assert vehicle.owner is not None and vehicle.odometer_km


def test_api_docs_are_served_without_a_cdn(client, advisor):
    client.force_login(advisor)
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_seed_demo_fills_the_call_queue_with_due_overdue_and_escalated_calls(db):
    from followup.choices import FollowUpKind, FollowUpStatus
    from followup.models import FollowUp
    from followup.selectors import call_queue

    call_command("seed_demo", customers=40, stdout=StringIO())
    rows = FollowUp.objects.count()
    call_command("seed_demo", customers=40, stdout=StringIO())
    assert FollowUp.objects.count() == rows  # a second run adds nothing

    specialist, manager = User.objects.get(username="specialist"), User.objects.get(username="manager")
    queue = call_queue(user=specialist)
    assert queue.due >= 10 and queue.overdue >= 3
    assert any(row.is_overdue for row in queue.rows) and not all(row.is_overdue for row in queue.rows)
    escalated = call_queue(user=manager).rows
    assert [row.status for row in escalated] and {row.status for row in escalated} == {FollowUpStatus.ESCALATED}
    assert FollowUp.objects.filter(status=FollowUpStatus.DONE, satisfaction__gte=4).exists()
    # unhappy follow-up answers (at least one a rooftop) opened complaints, each with its call-back
    from crm.models import Complaint

    from_calls = set(Complaint.objects.filter(source="followup_call").values_list("pk", flat=True))
    called_back = set(
        FollowUp.objects.filter(kind=FollowUpKind.COMPLAINT_CALLBACK, subject_id__in=from_calls).values_list(
            "subject_id", flat=True
        )
    )
    assert len(from_calls) >= 2 and called_back == from_calls
    assert FollowUp.objects.filter(kind=FollowUpKind.MAINTENANCE_DUE).exists()


def test_seed_demo_answers_surveys_and_works_complaints(db):
    from crm.models import Complaint, SurveyResponse

    call_command("seed_demo", customers=40, stdout=StringIO())
    answered = SurveyResponse.objects.filter(status="answered")
    assert answered.count() >= 20 and SurveyResponse.objects.filter(status="sent").exists()
    assert answered.filter(channel="call").exists() and answered.filter(channel="link").exists()
    assert answered.filter(complaint__isnull=False).exists()  # a low score opened a complaint
    assert len(set(Complaint.objects.values_list("status", flat=True))) >= 3
