"""A customer answers the satisfaction survey from the link on their phone, in Chinese, in a real browser;
a low score reaches the complaint list."""

import datetime

import pytest
from django.utils import timezone

from crm.choices import Role, SurveyKind
from crm.models import BusinessHours, Complaint, SurveyResponse
from crm.surveys import make_token, survey_create

from ..factories import CustomerFactory, UserFactory, VehicleFactory
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def sent_survey(transactional_db):
    from ..factories import DealershipFactory

    rooftop = DealershipFactory(code="SH01", name="上海浦东4S店")
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    advisor = UserFactory(username="advisor", full_name="王服务", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    customer = CustomerFactory(dealership=rooftop, full_name="张静怡", mobile="+8613900001234")
    vehicle = VehicleFactory(dealership=rooftop, owner=customer, plate="沪AD12345", vin="LSVAM4187C2184512")
    return survey_create(
        subject=vehicle, customer=customer, kind=SurveyKind.SERVICE_VISIT, staff=advisor, now=timezone.now()
    )


def test_a_customer_answers_the_survey_on_a_phone(live_server, browser, sent_survey):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/survey/{make_token(sent_survey)}/")
    assert "您对本次到店服务的总体满意度如何" in page.inner_text("#survey-form")
    page.click("#survey-form button[type=submit]")  # nothing chosen: every question asks for an answer
    page.wait_for_selector("#survey-errors")
    assert page.locator(".invalid-feedback").count() == 5  # the free-text question is optional
    questions = list(sent_survey.questionnaire.questions.all())
    for question, value in zip(questions[:5], ("2", "4", "3", "2", "5"), strict=True):
        page.click(f"label[for=q{question.pk}-{value}]")
    page.fill(f"textarea[name=q{questions[5].pk}]", "等了三个小时才取到车")
    screenshot(page, "survey-phone-zh")
    page.click("#survey-form button[type=submit]")
    page.wait_for_selector("#survey-done")
    context.close()
    sent_survey.refresh_from_db()
    assert sent_survey.status == "answered" and sent_survey.channel == "link"
    complaint = Complaint.objects.get()
    assert SurveyResponse.objects.get().complaint == complaint and "等了三个小时" in complaint.description
