"""Demo customer care: most sent surveys answered (a few low, which opens complaints), complaints at
every step of their life-cycle, the overdue ones escalated. Runs after the other apps' seeders."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from .choices import COMPLAINT_NEXT, ComplaintStatus, QuestionScale, SurveyChannel, SurveyStatus
from .models import Complaint, SurveyResponse
from .services import complaint_advance, complaints_escalate_overdue
from .surveys import survey_answer

ANSWER_RATE = 0.65
SOLUTIONS = ("免费返工并赠送一次保养", "退还工时费并致歉", "更换配件，店长致电道歉", "赠送代金券 200 元")


def _score(rng: random.Random, scale: str, unhappy: bool) -> str:
    if scale == QuestionScale.FIVE:
        return str(rng.choice((1, 2, 2, 3)) if unhappy else rng.choices((3, 4, 5), weights=(1, 4, 8))[0])
    return str(rng.choice((2, 3, 4, 5)) if unhappy else rng.choices((6, 7, 8, 9, 10), weights=(1, 2, 4, 5, 6))[0])


def seed(*, rooftops, staff, stdout) -> None:
    if SurveyResponse.objects.exclude(status=SurveyStatus.SENT).exists():
        return
    rng = random.Random(20261129)
    now = timezone.now()
    specialist = staff.get("specialist")
    answered = 0
    with transaction.atomic():
        for survey in (
            SurveyResponse.objects.filter(status=SurveyStatus.SENT, created_at__lt=now - datetime.timedelta(days=3))
            .select_related("questionnaire")
            .order_by("pk")
        ):
            if rng.random() > ANSWER_RATE:
                continue
            unhappy = rng.random() < 0.07
            raw = {
                f"q{question.pk}": (
                    _score(rng, question.scale, unhappy)
                    if question.bounds
                    else rng.choice(("", "", "服务很周到", "等待时间有点长"))
                )
                for question in survey.questionnaire.questions.all()
            }
            by_phone = rng.random() < 0.3
            survey_answer(
                response_id=survey.pk,
                raw=raw,
                channel=SurveyChannel.CALL if by_phone else SurveyChannel.LINK,
                actor=specialist if by_phone else None,
                now=min(survey.created_at + datetime.timedelta(days=rng.randint(3, 6)), now),
            )
            answered += 1
        handled = 0
        if specialist is not None:
            for complaint in Complaint.objects.filter(status=ComplaintStatus.RECEIVED).order_by("pk"):
                steps = rng.randint(0, 5)
                for _ in range(steps):
                    if complaint.status not in COMPLAINT_NEXT:
                        break
                    to_status = COMPLAINT_NEXT[complaint.status][0]
                    complaint = complaint_advance(
                        actor=specialist,
                        complaint_id=complaint.pk,
                        to_status=to_status,
                        solution=rng.choice(SOLUTIONS) if to_status == ComplaintStatus.SOLUTION_AGREED else "",
                        note="客户表示满意" if to_status == ComplaintStatus.CALLBACK_DONE else "",
                    )
                handled += steps > 0
    escalated = complaints_escalate_overdue(now=now)
    stdout.write(
        f"Demo customer care: {answered} surveys answered, {handled} complaints handled, {escalated} escalated."
    )
