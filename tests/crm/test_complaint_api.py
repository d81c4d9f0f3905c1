"""/api/complaints/: list, retrieve with the timeline, create through complaint_open, the advance and assign
actions; a bad value is a 400 with field messages, a forbidden step or stale version a 409, another
rooftop's complaint a 404; nothing is written when refused."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crm import services
from crm.choices import Role
from crm.models import BusinessHours, Complaint, ComplaintEvent

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory


@pytest.fixture
def open_hours(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(0, 0), closes_at=datetime.time(23, 59)
        )
    return rooftop


@pytest.fixture
def specialist(staff):
    return staff[Role.CUSTOMER_SPECIALIST]


@pytest.fixture
def complaint(open_hours, customer, specialist):
    return open_one(customer, specialist)


def open_one(customer, actor, **extra):
    return services.complaint_open(
        customer=customer,
        source="phone",
        description=extra.pop("description", "保养后异响没解决"),
        actor=actor,
        owner=actor,
        category="service_quality",
        **extra,
    )


def unchanged(complaint):
    complaint = Complaint.objects.get(pk=complaint.pk)
    return complaint.status, complaint.version, complaint.solution, complaint.owner_id, complaint.events.count()


def test_create_opens_a_complaint_due_by_its_severity(open_hours, customer, specialist):
    response = api_client_for(specialist).post(
        "/api/complaints/",
        {
            "customer": customer.pk,
            "source": "walk_in",
            "category": "waiting",
            "severity": "high",
            "description": "等了三个小时",
            "owner": specialist.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    complaint = Complaint.objects.get(pk=response.data["id"])
    assert complaint.created_by == specialist and complaint.owner == specialist
    assert response.data["status"] == "received" and response.data["owner_name"] == str(specialist)
    assert response.data["customer_mobile"] == "+8613812345678"
    assert [event["to_status"] for event in response.data["events"]] == ["received"]
    due = datetime.datetime.fromisoformat(response.data["due_at"])
    assert abs(due - (timezone.now() + datetime.timedelta(hours=4))) < datetime.timedelta(minutes=1)


def test_bad_input_is_a_400_with_field_messages_and_writes_nothing(open_hours, customer, specialist, other_rooftop):
    api = api_client_for(specialist)
    response = api.post(
        "/api/complaints/",
        {"customer": customer.pk, "source": "fax", "severity": "urgent", "category": "x", "description": " "},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data) == {"source", "severity", "category", "description"}
    elsewhere = CustomerFactory(dealership=other_rooftop)
    stranger = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    response = api.post(
        "/api/complaints/",
        {"customer": elsewhere.pk, "source": "phone", "description": "x", "owner": stranger.pk},
        format="json",
    )
    assert response.status_code == 400 and set(response.data) == {"customer", "owner"}
    assert not Complaint.objects.exists() and not ComplaintEvent.objects.exists()


def test_an_owner_of_another_of_the_callers_rooftops_is_refused_by_the_service(
    open_hours, customer, specialist, other_rooftop
):
    specialist.dealerships.add(other_rooftop)
    colleague = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    response = api_client_for(specialist).post(
        "/api/complaints/",
        {"customer": customer.pk, "source": "phone", "description": "异响", "owner": colleague.pk},
        format="json",
    )
    assert response.status_code == 400 and "owner" in response.data
    assert not Complaint.objects.exists()


def test_advance_through_the_life_cycle(complaint, specialist):
    api = api_client_for(specialist)
    url = f"/api/complaints/{complaint.pk}/advance/"
    response = api.post(url, {"to_status": "investigating", "version": complaint.version}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "investigating" and response.data["version"] == complaint.version + 1
    response = api.post(url, {"to_status": "solution_agreed", "solution": "免费返修"}, format="json")
    assert response.data["solution"] == "免费返修"
    api.post(url, {"to_status": "implemented"}, format="json")
    api.post(url, {"to_status": "callback_done", "note": "满意"}, format="json")
    response = api.post(url, {"to_status": "closed"}, format="json")
    assert response.status_code == 200 and response.data["closed_at"] is not None
    assert [event["to_status"] for event in response.data["events"]] == [
        "received",
        "investigating",
        "solution_agreed",
        "implemented",
        "callback_done",
        "closed",
    ]
    assert all(event["actor"] == specialist.pk for event in response.data["events"])


def test_a_refused_step_changes_nothing(complaint, specialist):
    api = api_client_for(specialist)
    url = f"/api/complaints/{complaint.pk}/advance/"
    before = unchanged(complaint)
    response = api.post(url, {"to_status": "closed"}, format="json")
    assert response.status_code == 409 and "cannot become" in response.data["non_field_errors"][0]
    response = api.post(url, {"to_status": "investigating", "version": complaint.version + 1}, format="json")
    assert response.status_code == 409 and "reload" in response.data["non_field_errors"][0]
    response = api.post(url, {"to_status": "nonsense"}, format="json")
    assert response.status_code == 400 and "to_status" in response.data
    assert unchanged(complaint) == before
    services.complaint_advance(actor=specialist, complaint_id=complaint.pk, to_status="investigating")
    before = unchanged(complaint)
    response = api.post(url, {"to_status": "solution_agreed", "solution": " "}, format="json")
    assert response.status_code == 400 and "solution" in response.data
    assert unchanged(complaint) == before


def test_assign(complaint, specialist, staff, other_rooftop):
    api = api_client_for(staff[Role.MANAGER])
    url = f"/api/complaints/{complaint.pk}/assign/"
    stranger = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    before = unchanged(complaint)
    assert api.post(url, {"owner": stranger.pk}, format="json").status_code == 400
    response = api.post(url, {"owner": staff[Role.MANAGER].pk, "version": complaint.version + 5}, format="json")
    assert response.status_code == 409
    assert unchanged(complaint) == before
    response = api.post(url, {"owner": staff[Role.MANAGER].pk, "version": complaint.version}, format="json")
    assert response.status_code == 200 and response.data["owner"] == staff[Role.MANAGER].pk
    assert "Owner:" in response.data["events"][-1]["note"]


def test_another_rooftops_complaint_is_a_404_and_unchanged(complaint, other_rooftop):
    stranger = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    api = api_client_for(stranger)
    before = unchanged(complaint)
    assert api.get(f"/api/complaints/{complaint.pk}/").status_code == 404
    response = api.post(f"/api/complaints/{complaint.pk}/advance/", {"to_status": "investigating"}, format="json")
    assert response.status_code == 404
    response = api.post(f"/api/complaints/{complaint.pk}/assign/", {"owner": stranger.pk}, format="json")
    assert response.status_code == 404
    assert api.get("/api/complaints/").data["count"] == 0
    assert unchanged(complaint) == before


def test_roles(complaint, staff, advisor):
    technician = api_client_for(staff[Role.TECHNICIAN])
    assert technician.get("/api/complaints/").status_code == 403
    assert technician.get(f"/api/complaints/{complaint.pk}/").status_code == 403
    before = unchanged(complaint)
    api = api_client_for(advisor)  # records complaints, does not handle them
    assert api.get(f"/api/complaints/{complaint.pk}/").status_code == 200
    response = api.post(f"/api/complaints/{complaint.pk}/advance/", {"to_status": "investigating"}, format="json")
    assert response.status_code == 403
    assert unchanged(complaint) == before


def test_the_phone_is_masked_for_a_role_that_may_not_see_it(complaint, rooftop):
    clerk = UserFactory(rooftops=[rooftop])
    clerk.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    api = api_client_for(clerk)
    assert api.get("/api/complaints/").data["results"][0]["customer_mobile"] == ""  # no digits at all
    assert api.get(f"/api/complaints/{complaint.pk}/").data["customer_mobile"] == ""


def test_filters(open_hours, rooftop, specialist):
    late = open_one(CustomerFactory(dealership=rooftop), specialist, severity="high")
    Complaint.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    services.complaints_escalate_overdue()
    later = open_one(CustomerFactory(dealership=rooftop), specialist, severity="low")
    api = api_client_for(specialist)

    def listed(params):
        return [row["id"] for row in api.get("/api/complaints/", params).data["results"]]

    assert listed({}) == [late.pk, later.pk]  # the soonest due first
    assert listed({"overdue": "true"}) == [late.pk]
    assert listed({"escalated": "false"}) == [later.pk]
    assert listed({"severity": "low"}) == [later.pk]
    assert listed({"customer": late.customer_id}) == [late.pk]
    assert listed({"status": "received", "is_open": "true"}) == [late.pk, later.pk]
    assert api.get("/api/complaints/", {"status": "bogus"}).status_code == 400
    row = api.get("/api/complaints/", {"overdue": "true"}).data["results"][0]
    assert row["is_overdue"] is True and row["escalated_at"] is not None


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_and_detail_run_the_same_few_queries_for_few_or_many(
    open_hours, rooftop, customer, specialist, staff, count, django_assert_max_num_queries
):
    for _ in range(count):
        complaint = open_one(CustomerFactory(dealership=rooftop), specialist)
        Complaint.objects.filter(pk=complaint.pk).update(escalated_at=timezone.now(), escalated_to=staff[Role.MANAGER])
        services.complaint_assign(actor=specialist, complaint_id=complaint.pk, owner=staff[Role.MANAGER])
    api = api_client_for(specialist)
    api.get("/api/complaints/")  # the caller's rooftops and permissions are read once, then cached
    with django_assert_max_num_queries(4):
        response = api.get("/api/complaints/", {"page_size": 50})
    assert response.status_code == 200 and len(response.data["results"]) == min(count, 50)
    with django_assert_max_num_queries(4):
        response = api.get(f"/api/complaints/{complaint.pk}/")
    assert response.status_code == 200 and len(response.data["events"]) == 2


def test_the_schema_lists_the_complaint_endpoints(api):
    schema = api.get("/api/schema/").content.decode()
    for path in ("/api/complaints/:", "/api/complaints/{id}/:", "/api/complaints/{id}/advance/:"):
        assert path in schema
    assert "/api/complaints/{id}/assign/:" in schema
