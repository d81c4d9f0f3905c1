"""Campaigns 营销活动: a draft on a saved segment becomes calls in the queue (or marketing messages to consenting
customers), each with a voucher when the campaign has a type; launching twice adds nothing; finishing cancels
what is left; results (contacted, booked, redeemed, revenue) on a hand-built set; a win-back campaign on the
lost customers; pages and API per role and rooftop, with bounded queries."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import campaigns
from crm.campaigns import campaign_create, campaign_finish, campaign_launch, campaign_results
from crm.choices import CampaignStatus, Role, VoucherKind, VoucherStatus
from crm.models import BusinessHours, Campaign, Customer, Segment, Voucher, VoucherType
from crm.vouchers import code_display, voucher_redeem
from dms.errors import Conflict
from followup import dispatch
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp
from followup.services import followup_record_outcome

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory
from .test_vouchers import repair_order_for

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
MONDAY_8AM = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
MONDAY_9AM = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def hours(rooftop):
    for weekday in range(6):  # closed on Sundays
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(9, 0), closes_at=datetime.time(18, 0)
        )
    return rooftop


@pytest.fixture
def specialist(staff):
    return staff[Role.CUSTOMER_SPECIALIST]


@pytest.fixture
def vip(hours):
    """A saved segment (tag vip) and its customers: who consented, who has no phone, and one outside it."""
    people = {
        "consenting": CustomerFactory(dealership=hours, tags=["vip"], marketing_consent=True),
        "silent": CustomerFactory(dealership=hours, tags=["vip"], marketing_consent=False),
        "no_phone": CustomerFactory(dealership=hours, tags=["vip"], marketing_consent=True, mobile=""),
        "emailer": CustomerFactory(
            dealership=hours,
            tags=["vip"],
            marketing_consent=True,
            mobile="",
            email="a@example.com",
            preferred_channel="email",
        ),
        "outside": CustomerFactory(dealership=hours, tags=["walk-in"], marketing_consent=True),
    }
    segment = Segment.objects.create(dealership=hours, name="VIP", criteria={"tag": "vip"})
    return segment, people


@pytest.fixture
def win_back(rooftop):
    return VoucherType.objects.create(
        dealership=rooftop, kind=VoucherKind.WIN_BACK, name="回厂礼券", value=Decimal("200.00"), valid_days=30
    )


def draft(actor, segment, *, channel="call", voucher_type=None, **extra):
    data = {
        "name": extra.pop("name", "冬季回厂关怀"),
        "segment": segment,
        "offer": extra.pop("offer", "免费冬季检测，工时 8 折"),
        "voucher_type": voucher_type,
        "channel": channel,
        "starts_on": extra.pop("starts_on", datetime.date(2026, 11, 30)),
        "ends_on": extra.pop("ends_on", datetime.date(2026, 12, 31)),
    }
    with time_machine.travel(MONDAY_8AM, tick=False):
        return campaign_create(actor=actor, data=data)


def launch(actor, campaign, at=MONDAY_8AM):
    with time_machine.travel(at, tick=False):
        return campaign_launch(actor=actor, campaign_id=campaign.pk)


def rows(campaign):
    return FollowUp.objects.filter(data__campaign_id=campaign.pk)


# --- launch ---------------------------------------------------------------------------------------


def test_a_call_campaign_puts_the_segments_customers_in_the_queue_each_with_a_voucher(vip, win_back, specialist):
    segment, people = vip
    campaign = draft(specialist, segment, voucher_type=win_back)
    assert campaign.status == CampaignStatus.DRAFT and not FollowUp.objects.exists()
    launch(specialist, campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    calls = rows(campaign)
    called = {row.customer_id for row in calls}
    # everyone in the segment with a phone, consent or not (a call, not a marketing message)
    assert called == {people["consenting"].pk, people["silent"].pk}
    vouchers = Voucher.objects.filter(campaign=campaign)
    assert {voucher.customer_id for voucher in vouchers} == called
    for call in calls:
        voucher = vouchers.get(customer_id=call.customer_id)
        assert call.kind == FollowUpKind.CAMPAIGN_CALL and call.status == FollowUpStatus.SCHEDULED
        assert (call.subject_type.model, call.subject_id) == ("voucher", voucher.pk)
        assert call.due_at == MONDAY_9AM  # inside business hours, not at 8:00
        assert call.window_ends_at == datetime.datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)
        assert call.team == Role.CUSTOMER_SPECIALIST.value
        assert call.data["voucher_code"] == voucher.code and call.data["offer"] == "免费冬季检测，工时 8 折"
        assert voucher.value == Decimal("200.00") and voucher.voucher_type == win_back


def test_launching_twice_adds_nothing(vip, win_back, specialist):
    segment, _ = vip
    campaign = draft(specialist, segment, voucher_type=win_back)
    launch(specialist, campaign)
    before = (FollowUp.objects.count(), Voucher.objects.count())
    with pytest.raises(Conflict, match="running; it cannot be launched"):
        launch(specialist, campaign)
    assert (FollowUp.objects.count(), Voucher.objects.count()) == before == (2, 2)


def test_a_message_campaign_reaches_only_consenting_customers_with_the_offer_and_their_code(
    vip, win_back, specialist, settings, tmp_path
):
    segment, people = vip
    campaign = draft(specialist, segment, channel="sms", voucher_type=win_back)
    launch(specialist, campaign)
    messages = rows(campaign)
    assert {row.customer_id for row in messages} == {people["consenting"].pk, people["emailer"].pk}
    assert {row.kind for row in messages} == {FollowUpKind.CAMPAIGN_MESSAGE}
    assert Voucher.objects.filter(campaign=campaign).count() == 2  # none for those not messaged
    message = messages.get(customer=people["consenting"])
    text = dispatch.message_text(message)
    assert "免费冬季检测" in text and code_display(message.data["voucher_code"]) in text
    # the dispatcher sends it inside business hours like any message
    settings.FOLLOWUP_CONSOLE_PATH = str(tmp_path / "console.jsonl")
    settings.FOLLOWUP_CHANNELS = dict.fromkeys(("sms", "wechat", "email"), "followup.channels.ConsoleProvider")
    with time_machine.travel(MONDAY_9AM + datetime.timedelta(minutes=1), tick=False):
        token, ids = dispatch.claim_due()
        assert dispatch.process_batch(token, ids)["sent"] == 2
    assert rows(campaign).filter(status=FollowUpStatus.DONE, outcome=Outcome.SENT).count() == 2


def test_without_a_voucher_the_customer_is_the_subject_and_is_not_called_twice_at_once(vip, specialist):
    segment, people = vip
    first = draft(specialist, segment, name="一")
    second = draft(specialist, segment, name="二")
    launch(specialist, first)
    launch(specialist, second)
    assert rows(first).count() == 2 and not Voucher.objects.exists()
    assert rows(second).count() == 0  # each customer is already owed a campaign call
    assert {(row.subject_type.model, row.subject_id) for row in rows(first)} == {
        ("customer", people["consenting"].pk),
        ("customer", people["silent"].pk),
    }


def test_a_campaign_that_ended_or_another_rooftops_or_a_role_without_it_is_refused_and_nothing_is_scheduled(
    vip, win_back, specialist, staff, other_rooftop
):
    segment, _ = vip
    campaign = draft(specialist, segment, voucher_type=win_back, ends_on=datetime.date(2026, 12, 1))
    with pytest.raises(ValidationError, match="ended on"):
        launch(specialist, campaign, at=datetime.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    with pytest.raises(ObjectDoesNotExist):
        launch(staff[Role.TECHNICIAN], campaign)
    with pytest.raises(ObjectDoesNotExist):
        launch(UserFactory(role=Role.MANAGER, rooftops=[other_rooftop]), campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not FollowUp.objects.exists() and not Voucher.objects.exists()


def test_creating_checks_dates_rooftop_and_voucher_type(vip, win_back, specialist, other_rooftop, staff):
    segment, _ = vip
    with pytest.raises(ValidationError) as refused:
        draft(specialist, segment, starts_on=datetime.date(2026, 12, 5), ends_on=datetime.date(2026, 12, 1))
    assert "cannot end before it starts" in refused.value.message_dict["ends_on"][0]
    theirs = VoucherType.objects.create(dealership=other_rooftop, kind="win_back", name="券", value=10)
    with pytest.raises(ValidationError) as refused:
        draft(specialist, segment, voucher_type=theirs)
    assert "segment's dealership" in refused.value.message_dict["voucher_type"][0]
    their_segment = Segment.objects.create(dealership=other_rooftop, name="VIP", criteria={})
    with pytest.raises(PermissionDenied):
        draft(specialist, their_segment)
    with pytest.raises(PermissionDenied):
        draft(staff[Role.SERVICE_ADVISOR], segment)
    assert not Campaign.objects.exists()


def test_finishing_cancels_the_calls_not_made_yet(vip, win_back, specialist):
    segment, _ = vip
    campaign = draft(specialist, segment, voucher_type=win_back)
    launch(specialist, campaign)
    with time_machine.travel(MONDAY_9AM, tick=False):
        campaign_finish(actor=specialist, campaign_id=campaign.pk)
    assert set(rows(campaign).values_list("status", flat=True)) == {FollowUpStatus.CANCELLED}
    assert Campaign.objects.get().status == CampaignStatus.FINISHED
    assert set(Voucher.objects.values_list("status", flat=True)) == {VoucherStatus.ISSUED}  # still valid
    with pytest.raises(Conflict, match="finished; it cannot be finished"):
        campaign_finish(actor=specialist, campaign_id=campaign.pk)


# --- results --------------------------------------------------------------------------------------


def test_results_on_a_hand_built_set(hours, win_back, specialist, advisor, django_assert_max_num_queries):
    customers = [CustomerFactory(dealership=hours, tags=["lost"]) for _ in range(5)]
    segment = Segment.objects.create(dealership=hours, name="Lost", criteria={"tag": "lost"})
    campaign = draft(specialist, segment, voucher_type=win_back)
    launch(specialist, campaign)
    with time_machine.travel(MONDAY_9AM + datetime.timedelta(minutes=1), tick=False):
        token, ids = dispatch.claim_due()
        assert dispatch.process_batch(token, ids)["queued"] == 5
        calls = {row.customer_id: row for row in rows(campaign)}
        outcomes = [
            {"outcome": Outcome.REACHED, "satisfaction": 4},
            {"outcome": Outcome.BOOKED, "booking": "12-03 10:00"},
            {"outcome": Outcome.REFUSED, "refusal_reason": "not_interested"},
            {"outcome": Outcome.NO_ANSWER},  # still to call again: not contacted
            {"outcome": Outcome.WRONG_NUMBER},  # done, but nobody heard the offer
        ]
        for customer, outcome in zip(customers, outcomes, strict=True):
            followup_record_outcome(followup_id=calls[customer.pk].pk, actor=specialist, **outcome)
        for customer, amount in ((customers[0], "500.00"), (customers[1], "1200.50")):
            code = Voucher.objects.get(campaign=campaign, customer=customer).code
            voucher_redeem(actor=advisor, code=code, subject=repair_order_for(customer, advisor), amount=amount)
    with django_assert_max_num_queries(2):
        results = campaign_results(campaign=campaign)
    assert results == campaigns.CampaignResults(
        contacts=5,
        contacted=3,
        booked=1,
        vouchers_issued=5,
        vouchers_redeemed=2,
        revenue=Decimal("1700.50"),
    )
    listed = campaigns.campaign_list(user=specialist).get(pk=campaign.pk)
    assert (
        listed.contact_count,
        listed.contacted_count,
        listed.booked_count,
        listed.issued_count,
        listed.redeemed_count,
        listed.revenue,
    ) == (5, 3, 1, 5, 2, Decimal("1700.50"))
    assert [bar["share"] for bar in results.bars()] == [60, 20, 40]


def test_the_results_query_uses_the_campaign_index(vip, win_back, specialist):
    segment, _ = vip
    campaign = draft(specialist, segment, voucher_type=win_back)
    launch(specialist, campaign)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = campaigns.campaign_contacts(campaign.pk).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "followup_campaign" in plan


def test_a_win_back_campaign_calls_the_lost_customers_with_a_win_back_voucher(hours, win_back, specialist, advisor):
    lost, regular = CustomerFactory(dealership=hours), CustomerFactory(dealership=hours)
    with time_machine.travel(datetime.datetime(2025, 8, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair_order_for(lost, advisor)  # the last visit, 16 months ago
    with time_machine.travel(datetime.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair_order_for(regular, advisor)
    segment = Segment.objects.create(
        dealership=hours, name="流失客户 (12 个月未回厂)", criteria={"last_visit_before": "2025-11-30"}
    )
    campaign = draft(specialist, segment, voucher_type=win_back, name="流失客户召回", offer="回厂保养赠送 ¥200 代金券")
    launch(specialist, campaign)
    call = rows(campaign).get()
    assert call.customer == lost and call.kind == FollowUpKind.CAMPAIGN_CALL
    assert Voucher.objects.get(campaign=campaign).voucher_type.kind == VoucherKind.WIN_BACK


def test_the_campaign_call_script_gives_the_offer_and_code(vip, win_back, specialist):
    from followup.scripts import script_for

    segment, _ = vip
    campaign = draft(specialist, segment, voucher_type=win_back)
    launch(specialist, campaign)
    call = rows(campaign).first()
    steps = " ".join(script_for(call, specialist)["steps"])
    assert "免费冬季检测" in steps and code_display(call.data["voucher_code"]) in steps


# --- pages ----------------------------------------------------------------------------------------


def test_create_launch_and_finish_through_the_pages(client, vip, win_back, specialist):
    segment, _ = vip
    client.force_login(specialist)
    assert 'id="campaign-form"' in client.get("/campaigns/new/").content.decode()
    with time_machine.travel(MONDAY_8AM, tick=True):
        response = client.post(
            "/campaigns/new/",
            {
                "name": "冬季关怀",
                "segment": segment.pk,
                "offer": "免费检测",
                "voucher_type": win_back.pk,
                "channel": "call",
                "starts_on": "2026-11-30",
                "ends_on": "2026-11-29",
            },
        )
        assert response.status_code == 400 and "cannot end before it starts" in response.content.decode()
        response = client.post(
            "/campaigns/new/",
            {
                "name": "冬季关怀",
                "segment": segment.pk,
                "offer": "免费检测",
                "voucher_type": win_back.pk,
                "channel": "call",
                "starts_on": "2026-11-30",
                "ends_on": "2026-12-31",
            },
        )
        campaign = Campaign.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert 'id="launch"' in page and "2 customers to contact now" in page
        response = client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
        assert "is running" in response.content.decode() and 'id="finish"' in response.content.decode()
        assert rows(campaign).count() == 2
        response = client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
        assert "cannot be launched" in response.content.decode() and rows(campaign).count() == 2
        client.post(f"/campaigns/{campaign.pk}/finish/")
    assert Campaign.objects.get().status == CampaignStatus.FINISHED


def test_campaign_pages_refuse_a_technician_and_hide_another_rooftops(client, vip, specialist, staff, other_rooftop):
    segment, _ = vip
    campaign = draft(specialist, segment)
    client.force_login(staff[Role.TECHNICIAN])
    for url in ("/campaigns/", "/campaigns/new/", f"/campaigns/{campaign.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/launch/").status_code == 403
    client.force_login(UserFactory(role=Role.MANAGER, rooftops=[other_rooftop]))
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client.post(f"/campaigns/{campaign.pk}/launch/").status_code == 404
    assert campaign.name not in client.get("/campaigns/").content.decode()
    assert Campaign.objects.get().status == CampaignStatus.DRAFT and not FollowUp.objects.exists()


@pytest.mark.parametrize("count", [2, 30])
def test_the_campaign_list_and_detail_run_the_same_few_queries(
    client, vip, win_back, specialist, count, django_assert_max_num_queries
):
    segment, _ = vip
    for index in range(count):
        campaign = draft(specialist, segment, voucher_type=win_back, name=f"活动{index}")
        if index % 2:
            launch(specialist, campaign)
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT)  # launch again, more rows
            launch(specialist, campaign)
    client.force_login(specialist)
    client.get("/campaigns/")
    with django_assert_max_num_queries(8):
        response = client.get("/campaigns/", {"per_page": 50})
    assert response.content.decode().count("data-campaign=") == count
    with django_assert_max_num_queries(8):
        page = client.get(f"/campaigns/{campaign.pk}/")
    assert 'id="campaign-results"' in page.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_create_launch_results_finish(vip, win_back, specialist):
    segment, _ = vip
    api = api_client_for(specialist)
    payload = {
        "name": "冬季关怀",
        "segment": segment.pk,
        "offer": "免费检测",
        "voucher_type": win_back.pk,
        "channel": "call",
        "starts_on": "2026-11-30",
        "ends_on": "2026-12-31",
    }
    with time_machine.travel(MONDAY_8AM, tick=True):
        response = api.post("/api/campaigns/", payload, format="json")
        assert response.status_code == 201, response.data
        pk = response.data["id"]
        assert response.data["status"] == "draft" and response.data["results"]["contacts"] == 0
        response = api.post(f"/api/campaigns/{pk}/launch/")
        assert response.status_code == 200 and response.data["status"] == "running"
        assert response.data["results"]["contacts"] == 2 and response.data["results"]["vouchers_issued"] == 2
        response = api.post(f"/api/campaigns/{pk}/launch/")
        assert response.status_code == 409 and FollowUp.objects.count() == 2
        assert api.get(f"/api/campaigns/{pk}/results/").data == {
            "contacts": 2,
            "contacted": 0,
            "booked": 0,
            "vouchers_issued": 2,
            "vouchers_redeemed": 0,
            "revenue": "0.00",
        }
        assert api.post(f"/api/campaigns/{pk}/finish/").data["status"] == "finished"
        bad = api.post("/api/campaigns/", {**payload, "ends_on": "2026-11-01"}, format="json")
        assert bad.status_code == 400 and "ends_on" in bad.data


def test_api_a_technician_403_another_rooftop_404_and_nothing_scheduled(vip, specialist, staff, other_rooftop):
    segment, _ = vip
    campaign = draft(specialist, segment)
    technician = api_client_for(staff[Role.TECHNICIAN])
    assert technician.get("/api/campaigns/").status_code == 403
    assert technician.post(f"/api/campaigns/{campaign.pk}/launch/").status_code == 403
    outsider = api_client_for(UserFactory(role=Role.MANAGER, rooftops=[other_rooftop]))
    assert outsider.get(f"/api/campaigns/{campaign.pk}/").status_code == 404
    assert outsider.get(f"/api/campaigns/{campaign.pk}/results/").status_code == 404
    assert outsider.post(f"/api/campaigns/{campaign.pk}/launch/").status_code == 404
    assert outsider.post(f"/api/campaigns/{campaign.pk}/finish/").status_code == 404
    response = outsider.post(
        "/api/campaigns/",
        {"name": "x", "segment": segment.pk, "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        format="json",
    )
    assert response.status_code == 400  # the segment "does not exist" for them
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    assert not FollowUp.objects.exists() and not Voucher.objects.exists()


@pytest.mark.parametrize("count", [2, 30])
def test_the_campaign_api_list_runs_the_same_few_queries(
    vip, win_back, specialist, count, django_assert_max_num_queries
):
    segment, _ = vip
    for index in range(count):
        campaign = draft(specialist, segment, voucher_type=win_back, name=f"活动{index}")
        if index % 3 == 0:
            launch(specialist, campaign)
    api = api_client_for(specialist)
    api.get("/api/campaigns/")
    with django_assert_max_num_queries(3):
        response = api.get("/api/campaigns/", {"page_size": 50})
    assert len(response.data["results"]) == count
    with CaptureQueriesContext(connection) as queries:
        api.get(f"/api/campaigns/{campaign.pk}/results/")
    assert len(queries) <= 4


def test_customers_are_not_changed_by_a_launch(vip, win_back, specialist):
    segment, _ = vip
    before = list(Customer.objects.order_by("pk").values_list("pk", "version", "updated_at"))
    launch(specialist, draft(specialist, segment, voucher_type=win_back))
    assert list(Customer.objects.order_by("pk").values_list("pk", "version", "updated_at")) == before
