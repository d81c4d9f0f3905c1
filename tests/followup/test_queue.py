"""The call queue page, the SLA view, ``/api/followups/`` and the customer 360 panel."""

import datetime

import pytest
from django.utils import timezone

from crm.choices import Role
from crm.models import Complaint
from followup import services
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import Attempt, FollowUp

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory, VehicleFactory


def queued(customer, *, kind=FollowUpKind.SERVICE_FOLLOWUP, due=-1, window=47, assignee=None, team=None, **extra):
    """A call already in the queue, due ``due`` hours from now, its window ending ``window`` hours after due."""
    now = timezone.now()
    subject = VehicleFactory(dealership=customer.dealership, owner=customer)  # stands in for an order
    row = services.followup_schedule(
        kind=kind,
        subject=subject,
        customer=customer,
        due_at=now + datetime.timedelta(hours=due),
        window_ends_at=now + datetime.timedelta(hours=due + window),
        assignee=assignee,
        team=Role.CUSTOMER_SPECIALIST.value if team is None else team,
    )
    FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.QUEUED, **extra)
    row.refresh_from_db()
    return row


@pytest.fixture
def specialist(staff):
    return staff[Role.CUSTOMER_SPECIALIST]


@pytest.fixture
def manager(staff):
    return staff[Role.MANAGER]


# --- API -------------------------------------------------------------------------------------


def test_api_lists_the_rooftops_followups_with_filters(rooftop, other_rooftop, specialist, customer):
    service_call = queued(customer)
    delivery_call = queued(customer, kind=FollowUpKind.DELIVERY_FOLLOWUP, due=5, assignee=specialist)
    queued(CustomerFactory(dealership=other_rooftop))  # another rooftop: never listed
    api = api_client_for(specialist)

    listed = api.get("/api/followups/").json()
    assert [row["id"] for row in listed["results"]] == [service_call.pk, delivery_call.pk]
    assert listed["results"][0]["customer_mobile"] == "+8613812345678"  # specialists may see phones

    assert [r["id"] for r in api.get("/api/followups/", {"kind": "delivery_followup"}).json()["results"]] == [
        delivery_call.pk
    ]
    soon = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert [r["id"] for r in api.get("/api/followups/", {"due_before": soon}).json()["results"]] == [service_call.pk]
    assert [r["id"] for r in api.get("/api/followups/", {"assignee": specialist.pk}).json()["results"]] == [
        delivery_call.pk
    ]
    assert api.get("/api/followups/", {"status": "done"}).json()["count"] == 0
    bad = api.get("/api/followups/", {"kind": "teatime", "due_after": "yesterday"})
    assert bad.status_code == 400
    assert set(bad.json()) >= {"kind", "due_after"}


def test_api_masks_phones_and_refuses_roles_without_the_queue(staff, rooftop, customer):
    row = queued(customer)
    assert api_client_for(staff[Role.TECHNICIAN]).get("/api/followups/").status_code == 403
    outsider = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[])
    assert api_client_for(outsider).get(f"/api/followups/{row.pk}/").status_code == 404
    assert api_client_for(outsider).post(f"/api/followups/{row.pk}/outcome/", {"outcome": "reached"}).status_code == 404


def test_api_outcome_action_records_attempts_and_refuses_bad_input(specialist, customer):
    row = queued(customer)
    api = api_client_for(specialist)

    missing = api.post(f"/api/followups/{row.pk}/outcome/", {"outcome": "reached"}, format="json")
    assert missing.status_code == 400 and "satisfaction" in missing.json()
    wrong = api.post(f"/api/followups/{row.pk}/outcome/", {"outcome": "reached", "satisfaction": 9}, format="json")
    assert wrong.status_code == 400 and "satisfaction" in wrong.json()
    past = api.post(
        f"/api/followups/{row.pk}/outcome/",
        {"outcome": "call_back", "callback_at": "2020-01-01T10:00:00+08:00"},
        format="json",
    )
    assert past.status_code == 400 and "callback_at" in past.json()
    assert Attempt.objects.filter(followup=row).count() == 0  # nothing half-written

    answered = api.post(f"/api/followups/{row.pk}/outcome/", {"outcome": "no_answer"}, format="json")
    assert answered.status_code == 200
    body = answered.json()
    assert body["status"] == "queued" and body["attempts"] == 1
    assert [attempt["outcome"] for attempt in body["attempt_log"]] == ["no_answer"]

    reached = api.post(
        f"/api/followups/{row.pk}/outcome/", {"outcome": "reached", "satisfaction": 5, "notes": "很满意"}, format="json"
    )
    assert reached.json()["status"] == "done"
    again = api.post(f"/api/followups/{row.pk}/outcome/", {"outcome": "no_answer"}, format="json")
    assert again.status_code == 400  # the call is done: a second recording is refused, not lost silently


def test_api_list_queries_do_not_grow_with_the_page(specialist, customer, django_assert_max_num_queries):
    rows = [queued(customer) for _ in range(30)]
    for row in rows[:10]:
        services.followup_record_outcome(followup_id=row.pk, actor=specialist, outcome=Outcome.NO_ANSWER)
    api = api_client_for(specialist)
    with django_assert_max_num_queries(8):
        small = api.get("/api/followups/", {"page_size": 5})
    with django_assert_max_num_queries(8):
        big = api.get("/api/followups/", {"page_size": 30})
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 30


def test_the_openapi_schema_describes_followups_and_the_outcome_action(client, specialist):
    client.force_login(specialist)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/followups/" in schema["paths"]
    outcome = schema["paths"]["/api/followups/{id}/outcome/"]["post"]
    assert "Outcome" in str(outcome["requestBody"])
    parameters = {parameter["name"] for parameter in schema["paths"]["/api/followups/"]["get"]["parameters"]}
    assert {"kind", "status", "due_after", "due_before", "assignee"} <= parameters


# --- the call queue page ----------------------------------------------------------------------


def test_the_queue_shows_my_calls_first_then_my_teams_and_overdue_in_red(client, rooftop, specialist, staff):
    team_call = queued(CustomerFactory(dealership=rooftop, full_name="团队客户"), due=-3)
    overdue_call = queued(CustomerFactory(dealership=rooftop, full_name="逾期客户"), due=-60, window=48)
    my_call = queued(CustomerFactory(dealership=rooftop, full_name="我的客户"), due=-1, assignee=specialist)
    lead_call = queued(
        CustomerFactory(dealership=rooftop, full_name="销售线索"),
        kind=FollowUpKind.LEAD_FOLLOWUP,
        team=Role.SALES_CONSULTANT.value,
        assignee=staff[Role.SALES_CONSULTANT],
    )
    queued(CustomerFactory(dealership=rooftop, full_name="明天的客户"), due=20)  # not due yet

    client.force_login(specialist)
    page = client.get("/followups/").content.decode()
    order = [page.find(name) for name in ("我的客户", "逾期客户", "团队客户")]
    assert -1 not in order and order == sorted(order)
    assert "销售线索" not in page and "明天的客户" not in page
    assert f'data-call="{overdue_call.pk}"' in page
    overdue_row = page[
        page.index(f'data-call="{overdue_call.pk}"') - 200 : page.index(f'data-call="{overdue_call.pk}"')
    ]
    assert "overdue" in overdue_row
    assert "3 calls due" in page and "1 overdue" in page
    # the first call is open beside the list, with its script and the customer's phone to dial
    assert 'id="call-script"' in page and "tel:" in page and str(my_call.pk) in page
    assert team_call.pk and lead_call.pk


def test_a_manager_sees_the_whole_rooftop_and_escalations(client, rooftop, manager, staff):
    queued(
        CustomerFactory(dealership=rooftop, full_name="线索客户"),
        kind=FollowUpKind.LEAD_FOLLOWUP,
        assignee=staff[Role.SALES_CONSULTANT],
        team=Role.SALES_CONSULTANT.value,
    )
    escalated = queued(CustomerFactory(dealership=rooftop, full_name="升级客户"), assignee=manager)
    FollowUp.objects.filter(pk=escalated.pk).update(status=FollowUpStatus.ESCALATED)
    client.force_login(manager)
    mine = client.get("/followups/").content.decode()
    assert "升级客户" in mine and "线索客户" not in mine and "Escalated" in mine
    everything = client.get("/followups/", {"scope": "all"}).content.decode()
    assert "升级客户" in everything and "线索客户" in everything


def test_recording_an_outcome_on_the_page_moves_to_the_next_call(client, rooftop, specialist):
    first = queued(CustomerFactory(dealership=rooftop, full_name="第一位"), due=-5)
    second = queued(CustomerFactory(dealership=rooftop, full_name="第二位"), due=-2)
    client.force_login(specialist)

    refused = client.post(f"/followups/{first.pk}/outcome/", {"outcome": "refused"})
    assert refused.status_code == 400
    assert "Say why the customer refused." in refused.content.decode()
    assert Attempt.objects.count() == 0

    done = client.post(
        f"/followups/{first.pk}/outcome/",
        {"outcome": "reached", "satisfaction": "2", "notes": "等了两个小时"},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200
    body = done.content.decode()
    assert "第一位" not in body and f'data-call="{second.pk}"' in body  # the next call is open
    first.refresh_from_db()
    assert first.status == FollowUpStatus.DONE and first.satisfaction == 2
    complaint = Complaint.objects.get(customer=first.customer)  # a 2 out of 5 opens a complaint
    assert complaint.description == "等了两个小时"


def test_a_call_back_time_is_read_in_the_rooftops_clock(client, rooftop, specialist, customer):
    row = queued(customer)
    client.force_login(specialist)
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).astimezone(rooftop.zone).date()
    client.post(f"/followups/{row.pk}/outcome/", {"outcome": "call_back", "callback_at": f"{tomorrow}T15:30"})
    row.refresh_from_db()
    assert row.status == FollowUpStatus.QUEUED
    assert row.due_at.astimezone(rooftop.zone).time() == datetime.time(15, 30)


def test_another_rooftops_call_is_not_found(client, other_rooftop, specialist):
    row = queued(CustomerFactory(dealership=other_rooftop))
    client.force_login(specialist)
    assert client.get("/followups/", {"call": row.pk}).status_code == 404
    assert client.post(f"/followups/{row.pk}/outcome/", {"outcome": "no_answer"}).status_code == 404
    assert Attempt.objects.count() == 0


def test_technicians_have_no_call_queue(client, staff):
    client.force_login(staff[Role.TECHNICIAN])
    assert client.get("/followups/").status_code == 403
    assert client.get("/followups/sla/").status_code == 403


@pytest.mark.parametrize("calls", [5, 60])
def test_the_queue_page_query_count_does_not_grow(client, rooftop, specialist, calls, django_assert_max_num_queries):
    for _ in range(calls):
        row = queued(CustomerFactory(dealership=rooftop))
        services.followup_record_outcome(followup_id=row.pk, actor=specialist, outcome=Outcome.NO_ANSWER)
        FollowUp.objects.filter(pk=row.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=5))
    client.force_login(specialist)
    with django_assert_max_num_queries(16):
        response = client.get("/followups/")
    assert response.content.decode().count("call-row") >= min(calls, 50)


# --- the SLA view and the customer 360 ----------------------------------------------------------


def test_the_sla_view_counts_two_day_followups(client, rooftop, manager, specialist):
    now = timezone.now()
    kept = queued(CustomerFactory(dealership=rooftop), due=-30, window=48)
    services.followup_record_outcome(followup_id=kept.pk, actor=specialist, outcome=Outcome.REACHED, satisfaction=5)
    late = queued(CustomerFactory(dealership=rooftop), due=-60, window=48)
    FollowUp.objects.filter(pk=late.pk).update(status=FollowUpStatus.DONE, done_at=now - datetime.timedelta(hours=1))
    queued(CustomerFactory(dealership=rooftop, full_name="超时未回访"), due=-60, window=48)  # overdue
    queued(CustomerFactory(dealership=rooftop), due=-2, window=46)  # due now
    queued(CustomerFactory(dealership=rooftop), kind=FollowUpKind.MAINTENANCE_DUE, due=-60, window=48)  # not 2-day

    client.force_login(manager)
    page = client.get("/followups/sla/").content.decode()

    def kpi(name):
        start = page.index(f'data-kpi="{name}">') + len(f'data-kpi="{name}">')
        return page[start : page.index("<", start)]

    assert (kpi("due_now"), kpi("done_in_window"), kpi("done_late"), kpi("overdue")) == ("1", "1", "1", "1")
    assert kpi("rate") == "33.3%"
    assert "超时未回访" in page[page.index('id="sla-overdue"') :]


def test_the_customer_360_shows_the_customers_followups(client, rooftop, specialist, advisor, customer):
    row = queued(customer)
    services.followup_record_outcome(followup_id=row.pk, actor=specialist, outcome=Outcome.NO_ANSWER)
    client.force_login(advisor)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    panel = page[page.index('id="panel-followups"') :]
    assert "Service follow-up" in panel and "No answer" in panel and str(specialist) in panel
