"""Satisfaction surveys 满意度调查 (CSI): a rooftop's questionnaire per kind, one survey per delivery or
visit, a signed expiring link the customer answers without logging in (or the call desk asks on the
phone), a score out of 100, and a complaint opened by a low answer."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.errors import Conflict

from .choices import (
    ComplaintCategory,
    ComplaintSource,
    QuestionScale,
    Severity,
    SurveyChannel,
    SurveyKind,
    SurveyStatus,
)
from .models import Answer, Customer, Dealership, Question, Questionnaire, SurveyResponse, User
from .services import complaint_open

SALT = "crm.survey-link"
# The standards' questions (stored in English, shown translated; a rooftop edits its own in admin).
DEFAULT_QUESTIONS = {
    SurveyKind.SERVICE_VISIT: [
        (gettext_noop("How satisfied are you with this visit overall?"), QuestionScale.FIVE),
        (gettext_noop("Did your service advisor explain the work and the price clearly?"), QuestionScale.FIVE),
        (gettext_noop("Was the work done right the first time?"), QuestionScale.FIVE),
        (gettext_noop("Was your car ready at the time we promised?"), QuestionScale.FIVE),
        (gettext_noop("How likely are you to recommend us to a friend?"), QuestionScale.TEN),
        (gettext_noop("Anything we should do better?"), QuestionScale.TEXT),
    ],
    SurveyKind.SALES_DELIVERY: [
        (gettext_noop("How satisfied are you with buying your car from us?"), QuestionScale.FIVE),
        (gettext_noop("Did your sales consultant understand what you needed?"), QuestionScale.FIVE),
        (gettext_noop("Was the car explained to you well at delivery?"), QuestionScale.FIVE),
        (gettext_noop("How likely are you to recommend us to a friend?"), QuestionScale.TEN),
        (gettext_noop("Anything we should do better?"), QuestionScale.TEXT),
    ],
}
# An answer this low on its scale is a complaint: 1–2 of 5, 0–4 of 10.
LOW_ANSWER = {QuestionScale.FIVE: 2, QuestionScale.TEN: 4}
CATEGORY = {
    SurveyKind.SERVICE_VISIT: ComplaintCategory.SERVICE_QUALITY,
    SurveyKind.SALES_DELIVERY: ComplaintCategory.SALES,
}


class LinkError(Exception):
    """The link is not one we issued (tampered or mistyped)."""


def questionnaire_in_use(dealership: Dealership, kind: str) -> Questionnaire:
    """The rooftop's questionnaire of ``kind``, with the standards' questions the first time it is asked for."""
    found = Questionnaire.objects.filter(dealership=dealership, kind=kind, active=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            questionnaire = Questionnaire.objects.create(
                dealership=dealership, kind=kind, name=str(SurveyKind(kind).label)
            )
            Question.objects.bulk_create(
                Question(questionnaire=questionnaire, position=index, text=text, scale=scale, required=scale != "text")
                for index, (text, scale) in enumerate(DEFAULT_QUESTIONS[kind], start=1)
            )
            return questionnaire
    except IntegrityError:  # another request created it first
        return Questionnaire.objects.get(dealership=dealership, kind=kind, active=True)


@transaction.atomic
def survey_create(
    *, subject: Any, customer: Customer, kind: str, staff: User | None = None, now: datetime.datetime | None = None
) -> SurveyResponse:
    """The survey about ``subject`` (a delivered order or repair order); asking twice gives the same one."""
    now = now or timezone.now()
    questionnaire = questionnaire_in_use(customer.dealership, kind)
    response, _created = SurveyResponse.objects.get_or_create(
        questionnaire=questionnaire,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        defaults={
            "dealership_id": customer.dealership_id,
            "customer": customer,
            "staff": staff,
            "expires_at": now + datetime.timedelta(days=settings.SURVEY_LINK_DAYS),
        },
    )
    return response


def make_token(response: SurveyResponse) -> str:
    """The same token every time for a survey (its expiry is the row's ``expires_at``)."""
    return signing.Signer(salt=SALT).sign_object({"survey": response.pk})


def read_token(token: str) -> int:
    try:
        return signing.Signer(salt=SALT).unsign_object(token)["survey"]
    except (signing.BadSignature, KeyError, TypeError):
        raise LinkError from None


def survey_url(response: SurveyResponse) -> str:
    return settings.PUBLIC_BASE_URL + reverse("surveys:answer", args=[make_token(response)])


def _score(questions: list[Question], values: dict[int, int]) -> Decimal | None:
    scored = [(question, values[question.pk]) for question in questions if question.bounds and question.pk in values]
    if not scored:
        return None
    earned = sum(value - question.bounds[0] for question, value in scored)
    best = sum(question.bounds[1] - question.bounds[0] for question, _value in scored)
    return (Decimal(100) * earned / best).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def parse_answers(questions: list[Question], raw: dict[str, str]) -> tuple[dict[int, int], dict[int, str]]:
    """The posted answers (``q<id>`` → value), checked against each question's scale; ValidationError
    with a message per question otherwise."""
    scores, texts, errors = {}, {}, {}
    for question in questions:
        value = (raw.get(f"q{question.pk}") or "").strip()
        if not value:
            if question.required:
                errors[f"q{question.pk}"] = _("Please answer this question.")
            continue
        if question.bounds is None:
            texts[question.pk] = value[:2000]
            continue
        low, high = question.bounds
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            errors[f"q{question.pk}"] = _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            continue
        scores[question.pk] = number
    if errors:
        raise ValidationError(errors)
    return scores, texts


@transaction.atomic
def survey_answer(
    *,
    response_id: int,
    raw: dict[str, str],
    channel: str,
    actor: User | None = None,
    now: datetime.datetime | None = None,
) -> SurveyResponse:
    """Record the customer's answers once. A link past its date is refused (the call desk may still ask
    on the phone); an answer this low on its scale opens a complaint for the person who served them."""
    now = now or timezone.now()
    response = (
        SurveyResponse.objects.select_for_update(of=("self",))
        .select_related("questionnaire", "customer", "dealership")
        .get(pk=response_id)
    )
    if response.status == SurveyStatus.ANSWERED:
        raise Conflict(_("This survey has already been answered. Thank you!"), code="answered")
    if channel == SurveyChannel.LINK and response.expires_at <= now:
        raise Conflict(_("This survey link has expired."), code="expired")
    questions = list(response.questionnaire.questions.all())
    scores, texts = parse_answers(questions, raw)
    Answer.objects.bulk_create(
        [Answer(response=response, question_id=pk, score=value) for pk, value in scores.items()]
        + [Answer(response=response, question_id=pk, text=value) for pk, value in texts.items()]
    )
    response.status, response.channel, response.answered_at = SurveyStatus.ANSWERED, channel, now
    response.score = _score(questions, scores)
    response.recorded_by = actor
    fields = ["status", "channel", "answered_at", "score", "recorded_by"]
    low = [
        question
        for question in questions
        if question.pk in scores and scores[question.pk] <= LOW_ANSWER.get(question.scale, -1)
    ]
    if low:
        lines = [f"{_(question.text)} {scores[question.pk]}/{question.bounds[1]}" for question in low]
        lines += [texts[pk] for pk in texts]
        response.complaint = complaint_open(
            customer=response.customer,
            source=ComplaintSource.SURVEY,
            description=_("Low survey score: %(lines)s") % {"lines": "; ".join(lines)},
            actor=actor,
            severity=Severity.HIGH if any(scores[q.pk] == q.bounds[0] for q in low) else Severity.MEDIUM,
            owner=response.staff,
            category=CATEGORY[response.questionnaire.kind],
            subject=response.subject_type.get_object_for_this_type(pk=response.subject_id),
        )
        fields.append("complaint")
    response.save(update_fields=fields)
    return response


@dataclass
class QuestionResult:
    text: str
    scale: str
    answered: int
    average: float | None
    bins: list[tuple[int, int, int]]  # (answer, count, share of the tallest bar in %)


@dataclass
class SurveyResults:
    sent: int
    answered: int
    average: Decimal | None
    low: int
    by_rooftop: list[dict]
    by_staff: list[dict]
    questions: list[QuestionResult]

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.answered / self.sent) if self.sent else None


def survey_results(*, user: User, kind: str, start: datetime.datetime, end: datetime.datetime) -> SurveyResults:
    """CSI for the user's rooftops: surveys sent in [start, end), their answers and scores per rooftop,
    per advisor or consultant, and the distribution of every scored question. Five statements."""
    sent = SurveyResponse.objects.for_user(user).filter(
        questionnaire__kind=kind, created_at__gte=start, created_at__lt=end
    )
    answered = sent.filter(status=SurveyStatus.ANSWERED)
    totals = sent.aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=Q(status=SurveyStatus.ANSWERED)),
        average=Avg("score", filter=Q(status=SurveyStatus.ANSWERED)),
        low=Count("pk", filter=Q(complaint__isnull=False)),
    )
    by_rooftop = list(
        answered.values("dealership__name").annotate(n=Count("pk"), average=Avg("score")).order_by("dealership__name")
    )
    by_staff = list(
        answered.values("staff__full_name", "staff__username")
        .annotate(n=Count("pk"), average=Avg("score"), low=Count("pk", filter=Q(complaint__isnull=False)))
        .order_by("average", "staff__full_name")[:50]
    )
    counts = (
        Answer.objects.filter(response__in=answered.values("pk"), score__isnull=False)
        .values("question__text", "question__scale", "question__position", "score")
        .annotate(n=Count("pk"))
        .order_by("question__position", "question__text", "score")
    )
    grouped: dict[tuple, dict[int, int]] = {}
    for row in counts:
        grouped.setdefault((row["question__position"], row["question__text"], row["question__scale"]), {})[
            row["score"]
        ] = row["n"]
    questions = []
    for (_position, text, scale), by_score in grouped.items():
        low, high = (1, 5) if scale == QuestionScale.FIVE else (0, 10)
        tallest = max(by_score.values())
        total = sum(by_score.values())
        questions.append(
            QuestionResult(
                text=text,
                scale=scale,
                answered=total,
                average=round(sum(score * n for score, n in by_score.items()) / total, 2),
                bins=[
                    (value, by_score.get(value, 0), round(100 * by_score.get(value, 0) / tallest))
                    for value in range(low, high + 1)
                ],
            )
        )
    return SurveyResults(
        sent=totals["sent"],
        answered=totals["answered"],
        average=totals["average"],
        low=totals["low"],
        by_rooftop=by_rooftop,
        by_staff=by_staff,
        questions=questions,
    )
