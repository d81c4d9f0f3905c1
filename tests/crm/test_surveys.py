"""Satisfaction surveys: the signed link the customer answers without logging in, the call desk asking
on the phone, a low score opening a complaint, and the results per rooftop and per advisor."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from crm.choices import ComplaintSource, Role, SurveyKind, SurveyStatus
from crm.models import Answer, BusinessHours, Complaint, SurveyResponse
from crm.surveys import make_token, survey_create
from followup.choices import FollowUpKind
from followup.services import survey_after_delivery

from ..factories import CustomerFactory, UserFactory, VehicleFactory

MONDAY = datetime.datetime(2026, 11, 23, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai


@pytest.fixture
def open_hours(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    return rooftop


@pytest.fixture
def survey(open_hours, customer, vehicle, advisor):
    with time_machine.travel(MONDAY, tick=False):
        return survey_create(subject=vehicle, customer=customer, kind=SurveyKind.SERVICE_VISIT, staff=advisor)


def answers(survey, *scores, text=""):
    """The form's fields: the scored questions in order, then the free text."""
    questions = list(survey.questionnaire.questions.all())
    data = {f"q{question.pk}": str(score) for question, score in zip(questions, scores, strict=False)}
    data[f"q{questions[-1].pk}"] = text
    return data


def test_a_delivery_sends_the_survey_link_after_the_follow_up_call(open_hours, customer, vehicle, advisor):
    with time_machine.travel(MONDAY, tick=False):
        row = survey_after_delivery(
            subject=vehicle, customer=customer, kind=SurveyKind.SERVICE_VISIT, staff=advisor, delivered_at=MONDAY
        )
        again = survey_after_delivery(
            subject=vehicle, customer=customer, kind=SurveyKind.SERVICE_VISIT, staff=advisor, delivered_at=MONDAY
        )
    survey = SurveyResponse.objects.get()
    assert row.pk == again.pk and row.kind == FollowUpKind.SURVEY and row.subject == survey
    assert row.due_at == MONDAY + datetime.timedelta(days=3)  # inside business hours already
    assert row.data["url"].endswith(f"/survey/{make_token(survey)}/")
    assert survey.expires_at == MONDAY + datetime.timedelta(days=14)
    assert [question.scale for question in survey.questionnaire.questions.all()] == [
        "five",
        "five",
        "five",
        "five",
        "ten",
        "text",
    ]


def test_the_customer_answers_from_the_link_once(client, survey):
    url = f"/survey/{make_token(survey)}/"
    page = client.get(url)
    assert page.status_code == 200 and "How satisfied are you with this visit overall?" in page.content.decode()
    out_of_range = client.post(url, answers(survey, 5, 6, 4, 5, 11))
    body = out_of_range.content.decode()
    assert out_of_range.status_code == 400 and "Choose a number from 1 to 5" in body and "from 0 to 10" in body
    assert not Answer.objects.exists()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    response = client.post(url, answers(survey, 5, 4, 5, 3, 9, text="很好"))
    assert response.status_code == 302
    survey.refresh_from_db()
    # (4 + 3 + 4 + 2 + 9) / (4 + 4 + 4 + 4 + 10) = 22 / 26
    assert survey.status == SurveyStatus.ANSWERED and survey.score == Decimal("84.6")
    assert survey.channel == "link" and survey.complaint is None
    assert "Thank you" in client.get(url).content.decode()
    twice = client.post(url, answers(survey, 1, 1, 1, 1, 0))
    assert twice.status_code == 409 and Answer.objects.count() == 6


def test_a_low_score_opens_a_complaint_for_the_advisor(client, survey, advisor, vehicle):
    client.post(f"/survey/{make_token(survey)}/", answers(survey, 2, 4, 4, 4, 8, text="等了三个小时"))
    survey.refresh_from_db()
    complaint = Complaint.objects.get()
    assert survey.complaint == complaint
    assert complaint.source == ComplaintSource.SURVEY and complaint.owner == advisor
    assert complaint.subject_id == vehicle.pk and complaint.severity == "medium"
    assert "2/5" in complaint.description and "等了三个小时" in complaint.description


def test_a_tampered_or_expired_link_is_refused(client, survey):
    token = make_token(survey)
    assert client.get(f"/survey/{token[:-2]}xx/").status_code == 404
    with time_machine.travel(MONDAY + datetime.timedelta(days=15)):
        expired = client.post(f"/survey/{token}/", answers(survey, 5, 5, 5, 5, 10))
        assert expired.status_code == 410 and "expired" in expired.content.decode()
        assert client.get(f"/survey/{token}/").status_code == 410
    assert not Answer.objects.exists()


def test_the_call_desk_asks_on_the_phone(client, survey, staff, other_rooftop):
    client.force_login(staff[Role.TECHNICIAN])
    assert client.get(f"/surveys/{survey.pk}/ask/").status_code == 403
    client.force_login(UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop]))
    assert client.get(f"/surveys/{survey.pk}/ask/").status_code == 404
    specialist = staff[Role.CUSTOMER_SPECIALIST]
    client.force_login(specialist)
    with time_machine.travel(MONDAY + datetime.timedelta(days=20)):  # past the link's date: the phone still works
        response = client.post(f"/surveys/{survey.pk}/ask/", answers(survey, 5, 5, 5, 5, 10))
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.channel == "call" and survey.recorded_by == specialist and survey.score == Decimal("100.0")


def test_results_per_rooftop_and_advisor_with_the_distribution(
    client, open_hours, rooftop, staff, django_assert_max_num_queries
):
    advisor = staff[Role.SERVICE_ADVISOR]
    other = UserFactory(full_name="李顾问", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    manager = staff[Role.MANAGER]

    def answered(staff_member, *scores):
        customer = CustomerFactory(dealership=rooftop)
        with time_machine.travel(MONDAY, tick=False):
            survey = survey_create(
                subject=VehicleFactory(dealership=rooftop, owner=customer),
                customer=customer,
                kind=SurveyKind.SERVICE_VISIT,
                staff=staff_member,
            )
            client.post(f"/survey/{make_token(survey)}/", answers(survey, *scores))

    answered(advisor, 5, 5, 5, 5, 10)
    answered(advisor, 4, 4, 4, 4, 8)
    answered(other, 1, 3, 3, 3, 5)
    client.force_login(manager)
    params = {"kind": "service_visit", "since": "2026-11-01", "until": "2026-11-30"}
    client.get("/surveys/", params)
    with django_assert_max_num_queries(10):
        page = client.get("/surveys/", params).content.decode()
    # 26/26 = 100, (3+3+3+3+8)/26 = 76.9, (0+2+2+2+5)/26 = 42.3; mean 73.1
    assert 'id="csi-average">73.1<' in page
    assert "李顾问" in page and "42.3" in page
    # the overall question: one 1, one 4, one 5
    assert 'title="1: 1"' in page and 'title="4: 1"' in page and 'title="5: 1"' in page and 'title="2: 0"' in page
    for _ in range(10):
        answered(advisor, 5, 5, 5, 5, 10)
    with django_assert_max_num_queries(10):
        assert client.get("/surveys/", params).status_code == 200


def test_the_api_lists_surveys_records_phone_answers_and_gives_results(
    survey, staff, other_rooftop, django_assert_max_num_queries
):
    from ..conftest import api_client_for

    specialist = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    listed = specialist.get("/api/surveys/", {"kind": "service_visit", "status": "sent"}).json()
    assert [row["id"] for row in listed["results"]] == [survey.pk]
    questions = [row.pk for row in survey.questionnaire.questions.all()]
    refused = specialist.post(f"/api/surveys/{survey.pk}/answer/", {"answers": {str(questions[0]): "9"}}, format="json")
    assert refused.status_code == 400 and f"q{questions[0]}" in refused.json()
    assert not Answer.objects.exists()
    answers = {str(pk): value for pk, value in zip(questions, ("5", "5", "4", "4", "9", "好"), strict=True)}
    answered = specialist.post(f"/api/surveys/{survey.pk}/answer/", {"answers": answers}, format="json")
    assert answered.status_code == 200 and answered.json()["channel"] == "call"
    assert answered.json()["score"] == "88.5"  # (4 + 4 + 3 + 3 + 9) / 26
    again = specialist.post(f"/api/surveys/{survey.pk}/answer/", {"answers": answers}, format="json")
    assert again.status_code == 409
    results = specialist.get("/api/surveys/results/", {"kind": "service_visit", "since": "2026-11-01"}).json()
    assert results["answered"] == 1 and results["questions"][0]["distribution"]["5"] == 1
    assert api_client_for(staff[Role.TECHNICIAN]).get("/api/surveys/").status_code == 403
    outsider = api_client_for(UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop]))
    assert outsider.get(f"/api/surveys/{survey.pk}/").status_code == 404
    advisor = api_client_for(staff[Role.SERVICE_ADVISOR])
    assert advisor.post(f"/api/surveys/{survey.pk}/answer/", {"answers": answers}, format="json").status_code == 403
    rooftop = survey.dealership
    for _ in range(10):  # more surveys, each answered: the list's query count stays the same
        customer = CustomerFactory(dealership=rooftop)
        more = survey_create(
            subject=VehicleFactory(dealership=rooftop, owner=customer),
            customer=customer,
            kind=SurveyKind.SERVICE_VISIT,
        )
        specialist.post(f"/api/surveys/{more.pk}/answer/", {"answers": answers}, format="json")
    specialist.get("/api/surveys/")
    with django_assert_max_num_queries(6):
        page = specialist.get("/api/surveys/")
    assert page.json()["count"] == 11 and len(page.json()["results"][0]["answers"]) == 6
