"""The customer approves additional work from a signed, expiring link sent by message."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from crm.choices import Role
from followup import dispatch
from followup.choices import FollowUpKind
from followup.models import FollowUp, Message
from service import services
from service.choices import ApprovalChannel, LineStatus


@pytest.fixture
def found_work(workshop, vehicle, staff):
    advisor, technician = staff[Role.SERVICE_ADVISOR], staff[Role.TECHNICIAN]
    order = services.repair_order_open(actor=advisor, vehicle=vehicle, concern="保养", odometer_km=41_000)
    services.labour_line_add(
        actor=advisor, repair_order_id=order.pk, operation_code="M", description="保养", hours=Decimal("1")
    )
    services.repair_order_approve(
        actor=advisor, repair_order_id=order.pk, approved_by_name="王小明", channel="in_person"
    )
    brakes = services.labour_line_add(
        actor=technician,
        repair_order_id=order.pk,
        operation_code="BRK",
        description="更换刹车片",
        hours=Decimal("2"),
        note="前片剩余2mm",
    )
    return advisor, order, brakes


def send_link(client, advisor, order) -> str:
    client.force_login(advisor)
    client.post(f"/service/repair-orders/{order.pk}/send-link/")
    message = FollowUp.objects.get(kind=FollowUpKind.APPROVAL_REQUEST, subject_id=order.pk)
    client.logout()
    return message.data["url"].split("127.0.0.1:8000", 1)[1]


def test_the_customer_approves_from_the_link_sent_by_message(client, found_work, console_path):
    advisor, order, brakes = found_work
    path = send_link(client, advisor, order)
    token, ids = dispatch.claim_due()
    dispatch.process_batch(token, ids)
    sent = Message.objects.get(followup__kind=FollowUpKind.APPROVAL_REQUEST)
    assert path in sent.body and "¥858.80" in sent.body  # 2 h × ¥380 + 13%: out at once, on the customer's channel

    page = client.get(path).content.decode()  # no login: the signed link is the authority
    assert "更换刹车片" in page and "¥858.80" in page and "前片剩余2mm" in page
    done = client.post(path, {f"line-labour:{brakes.pk}": "approve"})
    assert done.status_code == 200 and 'id="link-done"' in done.content.decode()
    brakes.refresh_from_db()
    assert (brakes.status, brakes.decided_channel, brakes.decided_by_name) == (
        LineStatus.APPROVED,
        ApprovalChannel.LINK,
        order.customer.full_name,
    )
    again = client.post(path, {f"line-labour:{brakes.pk}": "decline"})
    assert again.status_code == 400  # already answered: nothing changes
    brakes.refresh_from_db()
    assert brakes.status == LineStatus.APPROVED


def test_a_tampered_or_expired_link_is_refused(client, found_work):
    advisor, order, brakes = found_work
    path = send_link(client, advisor, order)
    token = path.strip("/").split("/")[-1]
    tampered = path.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert client.get(tampered).status_code == 404
    assert client.post(tampered, {f"line-labour:{brakes.pk}": "approve"}).status_code == 404
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        expired = client.post(path, {f"line-labour:{brakes.pk}": "approve"})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    brakes.refresh_from_db()
    assert brakes.status == LineStatus.PROPOSED


def test_a_line_added_after_the_link_was_sent_is_not_on_it(client, found_work, staff):
    advisor, order, _brakes = found_work
    path = send_link(client, advisor, order)
    later = services.labour_line_add(
        actor=staff[Role.TECHNICIAN],
        repair_order_id=order.pk,
        operation_code="SUS",
        description="减震器",
        hours=Decimal("3"),
    )
    page = client.get(path).content.decode()
    assert "减震器" not in page
    assert client.post(path, {f"line-labour:{later.pk}": "approve"}).status_code == 400
    later.refresh_from_db()
    assert later.status == LineStatus.PROPOSED
