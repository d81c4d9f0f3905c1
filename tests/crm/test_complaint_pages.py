"""The complaint pages 投诉: the list (open first, overdue in red, escalated flagged), the complaint with a form
per next step, a new complaint from the customer 360, and the panel there. A refused step changes nothing."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crm import services
from crm.choices import ComplaintStatus, Role
from crm.models import BusinessHours, Complaint
from followup.choices import FollowUpKind
from followup.models import FollowUp

from ..factories import CustomerFactory, UserFactory, VehicleFactory


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
        source=extra.pop("source", "phone"),
        description=extra.pop("description", "保养后异响没解决"),
        actor=actor,
        severity=extra.pop("severity", "medium"),
        owner=extra.pop("owner", actor),
        category=extra.pop("category", "service_quality"),
        **extra,
    )


def step(client, complaint, to_status, **data):
    complaint.refresh_from_db()
    return client.post(
        f"/complaints/{complaint.pk}/advance/",
        {"to_status": to_status, "version": complaint.version, **data},
    )


def unchanged(complaint):
    """The complaint's status, version, solution and event count, to compare before and after."""
    complaint = Complaint.objects.get(pk=complaint.pk)
    return complaint.status, complaint.version, complaint.solution, complaint.owner_id, complaint.events.count()


def test_the_whole_life_cycle_through_the_pages(client, open_hours, customer, specialist):
    client.force_login(specialist)
    page = client.get(f"/complaints/new/?customer={customer.pk}")
    assert page.status_code == 200 and "王小明" in page.content.decode()
    response = client.post(
        f"/complaints/new/?customer={customer.pk}",
        {
            "source": "phone",
            "category": "service_quality",
            "severity": "high",
            "description": "保养后异响没解决",
            "owner": specialist.pk,
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/complaints/{complaint.pk}/"
    assert complaint.created_by == specialist and complaint.owner == specialist and complaint.severity == "high"

    html = client.get(complaint.get_absolute_url()).content.decode()
    assert 'id="form-advance-investigating"' in html and "Start investigating" in html
    assert 'id="form-advance-closed"' not in html

    assert step(client, complaint, "investigating").status_code == 302
    assert step(client, complaint, "solution_agreed", solution="免费返修并赠送一次保养").status_code == 302
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert "免费返修并赠送一次保养" in html
    assert 'id="form-advance-implemented"' in html and 'id="form-advance-investigating"' in html  # or back
    assert step(client, complaint, "implemented").status_code == 302
    assert FollowUp.objects.filter(kind=FollowUpKind.COMPLAINT_CALLBACK, subject_id=complaint.pk).exists()
    assert step(client, complaint, "callback_done", note="客户满意").status_code == 302
    assert step(client, complaint, "closed").status_code == 302

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.closed_at is not None
    assert list(complaint.events.values_list("to_status", flat=True)) == [
        "received",
        "investigating",
        "solution_agreed",
        "implemented",
        "callback_done",
        "closed",
    ]
    assert set(complaint.events.values_list("actor", flat=True)) == {specialist.pk}
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert 'id="timeline"' in html and "客户满意" in html
    assert "form-advance-" not in html and 'id="form-assign"' not in html  # a closed complaint has no next step


def test_going_back_to_investigating_needs_a_reason(client, complaint, specialist):
    client.force_login(specialist)
    step(client, complaint, "investigating")
    step(client, complaint, "solution_agreed", solution="更换皮带")
    before = unchanged(complaint)
    response = step(client, complaint, "investigating", note="")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="step-refused"' in html and 'data-field="note"' in html
    assert unchanged(complaint) == before
    assert step(client, complaint, "investigating", note="客户不同意").status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING and complaint.events.last().note == "客户不同意"


def test_a_missing_solution_is_a_400_on_its_form_and_changes_nothing(client, complaint, specialist):
    client.force_login(specialist)
    step(client, complaint, "investigating")
    before = unchanged(complaint)
    response = step(client, complaint, "solution_agreed", solution="  ")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="solution"' in html and "Write down the solution agreed" in html
    assert unchanged(complaint) == before


def test_an_illegal_step_is_a_409_with_its_message_and_changes_nothing(client, complaint, specialist):
    client.force_login(specialist)
    before = unchanged(complaint)
    response = step(client, complaint, "closed")
    assert response.status_code == 409
    assert "cannot become Closed" in response.content.decode()
    assert unchanged(complaint) == before
    response = step(client, complaint, "nonsense")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert unchanged(complaint) == before
    assert not FollowUp.objects.filter(kind=FollowUpKind.COMPLAINT_CALLBACK).exists()


def test_a_stale_version_is_a_409_and_changes_nothing(client, complaint, specialist, staff):
    client.force_login(specialist)
    stale = complaint.version
    services.complaint_advance(actor=staff[Role.MANAGER], complaint_id=complaint.pk, to_status="investigating")
    before = unchanged(complaint)
    response = client.post(
        f"/complaints/{complaint.pk}/advance/",
        {"to_status": "solution_agreed", "solution": "退款", "version": stale},
    )
    assert response.status_code == 409
    assert "reload" in response.content.decode()
    assert unchanged(complaint) == before
    response = client.post(f"/complaints/{complaint.pk}/assign/", {"owner": specialist.pk, "version": stale})
    assert response.status_code == 409 and unchanged(complaint) == before


def test_assign_to_someone_of_the_rooftop_only(client, complaint, specialist, staff, other_rooftop):
    manager = staff[Role.MANAGER]
    client.force_login(manager)
    elsewhere = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    before = unchanged(complaint)
    response = client.post(f"/complaints/{complaint.pk}/assign/", {"owner": elsewhere.pk, "version": complaint.version})
    assert response.status_code == 400 and 'data-field="owner"' in response.content.decode()
    assert unchanged(complaint) == before
    response = client.post(f"/complaints/{complaint.pk}/assign/", {"owner": manager.pk, "version": complaint.version})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.owner == manager and complaint.events.last().actor == manager


def test_another_rooftops_complaint_is_a_404_and_unchanged(client, complaint, other_rooftop):
    elsewhere = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    client.force_login(elsewhere)
    before = unchanged(complaint)
    assert client.get(complaint.get_absolute_url()).status_code == 404
    assert step(client, complaint, "investigating").status_code == 404
    assert client.post(f"/complaints/{complaint.pk}/assign/", {"owner": elsewhere.pk}).status_code == 404
    assert client.get(f"/complaints/new/?customer={complaint.customer_id}").status_code == 404
    assert client.get("/complaints/").content.decode().count("data-complaint=") == 0
    assert unchanged(complaint) == before


def test_a_technician_may_not_see_complaints(client, complaint, staff):
    client.force_login(staff[Role.TECHNICIAN])
    for url in ("/complaints/", complaint.get_absolute_url(), f"/complaints/new/?customer={complaint.customer_id}"):
        assert client.get(url).status_code == 403, url
    before = unchanged(complaint)
    assert step(client, complaint, "investigating").status_code == 403
    assert unchanged(complaint) == before
    assert "/complaints/" not in client.get("/customers/").content.decode()  # no nav link


def test_an_advisor_records_complaints_but_does_not_handle_them(client, complaint, advisor):
    client.force_login(advisor)
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert "保养后异响没解决" in html and "form-advance-" not in html and "form-assign" not in html
    before = unchanged(complaint)
    assert step(client, complaint, "investigating").status_code == 403
    assert unchanged(complaint) == before
    assert 'href="/complaints/"' in html  # the nav link


def test_new_complaint_with_bad_input_is_a_400_and_writes_nothing(client, open_hours, customer, advisor):
    client.force_login(advisor)
    colleague = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[open_hours])
    response = client.post(
        f"/complaints/new/?customer={customer.pk}",
        {"source": "fax", "category": "service_quality", "severity": "medium", "description": " ", "owner": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="source"' in html and 'data-field="description"' in html
    assert not Complaint.objects.exists()
    assert client.get("/complaints/new/").status_code == 404
    assert client.get("/complaints/new/?customer=x").status_code == 404
    # a colleague of the customer's rooftop is offered as the owner
    assert f'value="{colleague.pk}"' in client.get(f"/complaints/new/?customer={customer.pk}").content.decode()


def test_the_detail_masks_the_phone_and_links_the_repair_order(client, open_hours, customer, specialist, staff):
    from service.models import RepairOrder

    vehicle = VehicleFactory(dealership=customer.dealership, owner=customer)
    repair_order = RepairOrder.objects.create(
        dealership=customer.dealership,
        number="RO2026-0001",
        year=2026,
        sequence=1,
        customer=customer,
        vehicle=vehicle,
        service_type="repair",
        odometer_km=41_000,
        concern="异响",
        tax_rate="0.1300",
        checked_in_at=timezone.now(),
    )
    complaint = open_one(customer, specialist, subject=repair_order)
    client.force_login(staff[Role.SERVICE_ADVISOR])
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert f'href="{repair_order.get_absolute_url()}"' in html and "RO2026-0001" in html
    assert "+86 138 1234 5678" in html

    clerk = UserFactory(rooftops=[customer.dealership])  # reads complaints, nothing else
    clerk.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(clerk)
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert "5678" not in html  # a role that may not see phones sees no digits
    assert "RO2026-0001" not in html and f"#{repair_order.pk}" in html  # a repair order they may not open


def test_the_customer_360_lists_complaints_with_a_button_for_a_new_one(client, complaint, advisor, staff):
    client.force_login(advisor)
    html = client.get(complaint.customer.get_absolute_url()).content.decode()
    assert 'id="panel-complaints"' in html and f'href="/complaints/{complaint.pk}/"' in html
    assert f"/complaints/new/?customer={complaint.customer_id}" in html
    assert "complaint-received" in html
    client.force_login(staff[Role.TECHNICIAN])
    assert 'id="panel-complaints"' not in client.get(complaint.customer.get_absolute_url()).content.decode()


def test_the_list_puts_open_ones_first_overdue_in_red_escalated_flagged(client, open_hours, rooftop, specialist):
    late = open_one(CustomerFactory(dealership=rooftop), specialist, description="等了三个小时", severity="high")
    Complaint.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    services.complaints_escalate_overdue()
    later = open_one(CustomerFactory(dealership=rooftop), specialist, description="价格不透明", severity="low")
    closed = open_one(CustomerFactory(dealership=rooftop), specialist, description="已经解决了")
    Complaint.objects.filter(pk=closed.pk).update(status=ComplaintStatus.CLOSED)
    client.force_login(specialist)
    html = client.get("/complaints/").content.decode()
    assert html.index("等了三个小时") < html.index("价格不透明") < html.index("已经解决了")
    row = html[html.index(f'data-complaint="{late.pk}"') - 80 : html.index("等了三个小时")]
    assert "complaint-overdue" in row
    assert "escalated" in html and "text-danger" in html
    detail = client.get(late.get_absolute_url()).content.decode()
    assert 'id="complaint-escalated"' in detail and "(overdue)" in detail and "Overdue: escalated to" in detail

    def listed(params):
        page = client.get("/complaints/", params).content.decode()
        return {pk for pk in (late.pk, later.pk, closed.pk) if f'data-complaint="{pk}"' in page}

    assert listed({"overdue": "true"}) == {late.pk}
    assert listed({"escalated": "true"}) == {late.pk}
    assert listed({"escalated": "false"}) == {later.pk, closed.pk}
    assert listed({"is_open": "false"}) == {closed.pk}
    assert listed({"status": "closed"}) == {closed.pk}
    assert listed({"severity": "low"}) == {later.pk}
    assert listed({"owner": specialist.pk, "dealership": rooftop.pk}) == {late.pk, later.pk, closed.pk}
    for params in ({"page": 99}, {"sort": "nonsense"}, {"status": "bogus"}, {"overdue": "maybe"}):
        assert client.get("/complaints/", params).status_code == 200, params
    assert "<nav" not in client.get("/complaints/", HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_runs_the_same_few_queries_for_few_or_many(
    client, open_hours, rooftop, specialist, staff, count, django_assert_max_num_queries
):
    owners = [specialist, staff[Role.MANAGER]]
    for index in range(count):
        complaint = open_one(CustomerFactory(dealership=rooftop), owners[index % 2], severity="high")
        if index % 3 == 0:
            Complaint.objects.filter(pk=complaint.pk).update(
                escalated_at=timezone.now(), escalated_to=staff[Role.MANAGER]
            )
    client.force_login(specialist)
    with django_assert_max_num_queries(10):
        response = client.get("/complaints/", {"per_page": 50})
    assert response.status_code == 200
    assert response.content.decode().count("data-complaint=") == min(count, 50)


@pytest.mark.parametrize("count", [2, 30])
def test_the_detail_and_the_panel_run_few_queries(
    client, open_hours, customer, specialist, count, django_assert_max_num_queries
):
    complaint = open_one(customer, specialist)
    for _ in range(count):
        services.complaint_assign(actor=specialist, complaint_id=complaint.pk, owner=specialist)
        open_one(customer, specialist)
    client.force_login(specialist)
    with django_assert_max_num_queries(8):
        assert client.get(complaint.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(customer.get_absolute_url()).status_code == 200
