"""A customer specialist works the call queue with the keyboard, in a real browser."""

import datetime

import pytest
from django.utils import timezone

from crm.choices import Role
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import Attempt, FollowUp

from ..factories import CustomerFactory, UserFactory, VehicleFactory
from ..followup.test_queue import queued
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def call_desk(transactional_db):
    from ..factories import DealershipFactory

    rooftop = DealershipFactory(code="SH01", name="上海浦东4S店")
    specialist = UserFactory(
        username="specialist", full_name="陈回访", role=Role.CUSTOMER_SPECIALIST, rooftops=[rooftop]
    )
    overdue = queued(CustomerFactory(dealership=rooftop, full_name="赵逾期"), due=-70, window=48)
    first = queued(CustomerFactory(dealership=rooftop, full_name="钱第一"), due=-3)
    second = queued(CustomerFactory(dealership=rooftop, full_name="孙第二"), kind=FollowUpKind.DELIVERY_FOLLOWUP)
    third = queued(CustomerFactory(dealership=rooftop, full_name="李第三"), due=-0.5)
    VehicleFactory(dealership=rooftop, owner=first.customer, plate="沪AD12345")
    return rooftop, specialist, (overdue, first, second, third)


def login(page, live_server, user):
    page.goto(f"{live_server.url}/login/?next=/followups/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/followups/")


def test_specialist_works_the_queue_with_the_keyboard(live_server, page, call_desk):
    rooftop, specialist, (overdue, first, second, third) = call_desk
    login(page, live_server, specialist)

    rows = page.locator("#call-list .call-row")
    assert rows.count() == 4
    assert "赵逾期" in rows.first.inner_text() and "overdue" in rows.first.get_attribute("class")
    red = rows.first.evaluate("row => getComputedStyle(row).borderLeftColor")
    assert red == "rgb(220, 53, 69)"  # Bootstrap's danger red
    assert "active" in rows.first.get_attribute("class")  # the oldest call is open beside the list
    screenshot(page, "call-queue")

    page.keyboard.press("j")  # the next call
    page.locator(f'#call[data-call="{first.pk}"]').wait_for()
    assert "沪AD12345" in page.locator("#call").inner_text()
    page.keyboard.press("n")  # no answer: retried in 2 hours, out of the list for now
    page.locator(f'#call[data-call="{second.pk}"]').wait_for()
    attempt = Attempt.objects.get(followup=first)
    assert attempt.outcome == Outcome.NO_ANSWER and attempt.actor == specialist

    page.keyboard.press("a")  # reached, but the satisfaction is missing: a field error, nothing recorded
    page.locator(".field-error[data-field=satisfaction]").wait_for()
    assert not Attempt.objects.filter(followup=second).exists()
    page.keyboard.press("4")
    page.keyboard.press("t")
    page.keyboard.type("提车顺利")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.locator(f'#call[data-call="{third.pk}"]').wait_for()
    second.refresh_from_db()
    assert (second.status, second.satisfaction, second.notes) == (FollowUpStatus.DONE, 4, "提车顺利")

    page.keyboard.press("c")  # call back: the time field takes the focus; Enter records it
    assert page.evaluate("document.activeElement.id") == "id_callback_at"
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).astimezone(rooftop.zone).date()
    page.fill("#id_callback_at", f"{tomorrow}T10:15")
    page.press("#id_callback_at", "Enter")
    page.wait_for_function(f"!document.querySelector('#call[data-call=\"{third.pk}\"]')")
    third.refresh_from_db()
    assert third.due_at.astimezone(rooftop.zone) == datetime.datetime.combine(
        tomorrow, datetime.time(10, 15), tzinfo=rooftop.zone
    )
    assert FollowUp.objects.get(pk=overdue.pk).status == FollowUpStatus.QUEUED  # untouched


def test_the_queue_and_the_sla_view_in_chinese(live_server, page, call_desk):
    rooftop, specialist, _calls = call_desk
    specialist.groups.add(*UserFactory(role=Role.MANAGER).groups.all())
    login(page, live_server, specialist)
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert "回访" in page.locator("h1").inner_text()
    assert "逾期" in page.locator("#call-list").inner_text()
    screenshot(page, "call-queue-zh")
    page.goto(f"{live_server.url}/followups/sla/")
    assert page.locator("[data-kpi=overdue]").inner_text() == "1"
    screenshot(page, "followup-sla-zh")
