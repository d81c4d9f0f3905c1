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


def test_seed_demo_shows_loyalty_vouchers_segments_and_campaigns(db):
    from django.utils import timezone

    from crm.campaigns import campaign_results
    from crm.loyalty import customer_tier
    from crm.models import Campaign, Complaint, LoyaltyTier, PointsEntry, Segment, Voucher, VoucherType
    from crm.segments import saved_segment_customers
    from followup import dispatch
    from followup.models import FollowUp
    from followup.selectors import call_queue

    models = (LoyaltyTier, PointsEntry, VoucherType, Voucher, Segment, Campaign, FollowUp)
    first = StringIO()
    call_command("seed_demo", customers=40, stdout=first)
    made = [model.objects.count() for model in models]
    second = StringIO()
    call_command("seed_demo", customers=40, stdout=second)
    assert [model.objects.count() for model in models] == made  # a second run adds nothing
    assert "Demo loyalty and marketing" in first.getvalue() and "Demo loyalty" not in second.getvalue()

    now = timezone.now()
    for rooftop in Dealership.objects.all():
        # every tier has members, reached with the points of a year of paid repair orders (and cars bought)
        tiers = list(LoyaltyTier.objects.filter(dealership=rooftop).order_by("threshold"))
        assert [tier.name for tier in tiers] == ["银卡", "金卡", "铂金卡"]
        assert {customer_tier(customer) for customer in Customer.objects.filter(dealership=rooftop)} >= set(tiers)
        assert PointsEntry.objects.filter(dealership=rooftop, subject_type__model="repairorder").count() >= 100

        # four kinds of voucher; the closed complaints consoled; some taken at the front desk on past visits
        assert set(VoucherType.objects.filter(dealership=rooftop).values_list("kind", flat=True)) == {
            "referral",
            "consolation",
            "loyalty",
            "win_back",
        }
        for complaint in Complaint.objects.filter(dealership=rooftop, status="closed"):
            assert complaint.customer.vouchers.filter(voucher_type__kind="consolation").exists()
        redeemed = Voucher.objects.filter(dealership=rooftop, status="redeemed", redeemed_on_type__model="repairorder")
        assert redeemed.count() >= 3
        for voucher in redeemed:
            order = voucher.redeemed_on_type.get_object_for_this_type(pk=voucher.redeemed_on_id)
            assert order.customer_id == voucher.customer_id and voucher.redeemed_amount > 0
            redeemed_on = timezone.localdate(voucher.redeemed_at, rooftop.zone)
            assert voucher.valid_from <= redeemed_on <= voucher.valid_until and voucher.redeemed_at < now

        # saved segments, none of them empty
        segments = Segment.objects.filter(dealership=rooftop)
        assert segments.count() >= 3
        assert all(saved_segment_customers(segment).exists() for segment in segments)

        # a finished win-back campaign and a running maintenance one, each with its calls and vouchers
        campaigns = {campaign.status: campaign for campaign in Campaign.objects.filter(dealership=rooftop)}
        assert set(campaigns) == {"finished", "running"}
        assert campaigns["finished"].voucher_type.kind == "win_back"
        for campaign in campaigns.values():
            results = campaign_results(campaign=campaign)
            assert results.contacts > 0 and results.vouchers_issued == results.contacts
        assert not FollowUp.objects.filter(data__campaign_id=campaigns["finished"].pk, status="scheduled").exists()

    assert Customer.objects.filter(tags__contains=["VIP"]).exists()
    assert Customer.objects.filter(tags__contains=["车队客户"], kind="company").exists()
    assert Customer.objects.exclude(address="").exists()

    # the beat's dispatcher puts the running campaigns' calls in the specialist's queue
    while True:
        token, ids = dispatch.claim_due()
        if not ids:
            break
        dispatch.process_batch(token, ids)
    running = set(Campaign.objects.filter(status="running").values_list("pk", flat=True))
    queue = call_queue(user=User.objects.get(username="specialist"), kind="campaign_call")
    assert queue.due >= 2 and queue.overdue == 0
    assert {row.data["campaign_id"] for row in queue.rows} == running
