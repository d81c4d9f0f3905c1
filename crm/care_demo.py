"""Demo customer care: most sent surveys answered (a few low, which opens complaints), complaints at
every step of their life-cycle, the overdue ones escalated. Runs after the other apps' seeders.

Then, once per rooftop, the loyalty and marketing programme a specialist and a manager would have set up:

* three loyalty tiers and the points of every paid repair order of the last twelve months
  (``points_award``, at the rooftop's rate of points per ¥100, dated when the order was paid);
  the sales seeder already credited the cars it delivered;
* four voucher types, a consolation voucher for each closed complaint, and loyalty and referral
  vouchers redeemed on past repair orders (issued and redeemed through the voucher services, under
  ``time_machine.travel`` at the moment each happened);
* VIP and fleet (车队客户) tags and some addresses;
* three saved segments, a finished win-back campaign (some of its vouchers redeemed when the customers
  came back) and a running maintenance campaign, launched through the follow-up engine that
  ``crm.campaigns`` reaches through its registry. crm cannot record call outcomes (that stays in
  followup), so the running campaign's calls wait, due, for the dispatcher (the beat ``make run``
  starts) to put them in the specialists' queue; the finished one's unmade calls were cancelled when
  it finished.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from .campaigns import campaign_create, campaign_finish, campaign_launch, campaign_results
from .choices import (
    COMPLAINT_NEXT,
    CampaignChannel,
    ComplaintStatus,
    CustomerKind,
    QuestionScale,
    Role,
    SurveyChannel,
    SurveyStatus,
    VoucherKind,
)
from .loyalty import PAID_INVOICE, points_award
from .models import Complaint, Customer, LoyaltyTier, PointsEntry, SurveyResponse, Voucher, VoucherType
from .segments import segment_save
from .services import complaint_advance, complaints_escalate_overdue
from .surveys import survey_answer
from .vouchers import voucher_issue, voucher_redeem, voucher_type_create

ANSWER_RATE = 0.65
SOLUTIONS = ("免费返工并赠送一次保养", "退还工时费并致歉", "更换配件，店长致电道歉", "赠送代金券 200 元")


def _score(rng: random.Random, scale: str, unhappy: bool) -> str:
    if scale == QuestionScale.FIVE:
        return str(rng.choice((1, 2, 2, 3)) if unhappy else rng.choices((3, 4, 5), weights=(1, 4, 8))[0])
    return str(rng.choice((2, 3, 4, 5)) if unhappy else rng.choices((6, 7, 8, 9, 10), weights=(1, 2, 4, 5, 6))[0])


def seed(*, rooftops, staff, stdout) -> None:
    _surveys_and_complaints(staff=staff, stdout=stdout)
    _programme(rooftops=rooftops, staff=staff, stdout=stdout)


def _surveys_and_complaints(*, staff, stdout) -> None:
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


# --- loyalty, vouchers, segments and campaigns -------------------------------------------------

# At the rooftop's rate (1 point per ¥100 paid unless a manager changed it), a car bought here earns
# about 2,000 points and a year of repairs tens to a few hundred: gold takes ¥10,000 of repairs, or a car.
TIERS = (("银卡", 0), ("金卡", 100), ("铂金卡", 2_500))
# kind, name, value (¥), valid for (days)
VOUCHER_TYPES = (
    (VoucherKind.REFERRAL, "推荐购车基金", "500.00", 365),
    (VoucherKind.CONSOLATION, "投诉致歉券", "200.00", 180),
    (VoucherKind.LOYALTY, "会员保养券", "200.00", 90),
    (VoucherKind.WIN_BACK, "回厂礼券", "300.00", 120),
)
STREETS = {
    "上海": ("浦东新区张杨路", "浦东新区锦绣路", "徐汇区漕溪北路", "闵行区七莘路", "静安区江宁路", "杨浦区国权路"),
    "北京": ("朝阳区望京街", "朝阳区东三环中路", "海淀区中关村大街", "丰台区丰台路", "东城区东直门内大街"),
}
ADDRESS_SHARE = 0.35
VIP_COUNT = 8
REDEEMED_ON_VISITS = 6  # loyalty and referral vouchers a rooftop's front desk took on past repair orders
WIN_BACK_DAYS_AGO = 90  # the win-back campaign ran for a month from then
RUNNING_DAYS_AGO = 3  # the maintenance campaign started then and runs for a month
PAID = "delivered"  # service's RepairOrderStatus.DELIVERED, spelt out: crm does not import service


def _repair_orders():
    """Service's repair orders, through the relation they declare on Customer (crm imports no service)."""
    return Customer._meta.get_field("repair_orders").related_model.objects


def _crew(rooftop, staff) -> tuple:
    """The rooftop's manager, customer specialist and service advisor among the demo staff."""
    people = [user for user in staff.values() if user.dealerships.filter(pk=rooftop.pk).exists()]

    def first(role: Role):
        return next((user for user in people if role.value in user.role_names), None)

    return first(Role.MANAGER), first(Role.CUSTOMER_SPECIALIST), first(Role.SERVICE_ADVISOR)


def _programme(*, rooftops, staff, stdout) -> None:
    import time_machine  # the vouchers and campaigns are placed in the past with it

    rng = random.Random(20261130)
    totals: Counter = Counter()
    for rooftop in rooftops.values():
        if VoucherType.objects.filter(dealership=rooftop).exists():
            continue  # seeded before (or set up by the rooftop): keep what is there
        manager, specialist, advisor = _crew(rooftop, staff)
        if None in (manager, specialist, advisor):
            continue
        with transaction.atomic():
            totals.update(Programme(rng, time_machine, rooftop, manager, specialist, advisor).run())
    if totals:
        stdout.write(
            "Demo loyalty and marketing: {points} invoices credited with points (members: {tiers}), "
            "{issued} vouchers issued ({redeemed} redeemed), {segments} segments, 1 finished win-back campaign "
            "and 1 running maintenance campaign a rooftop ({calls} calls due).".format(
                tiers=", ".join(f"{totals[name]} {name}" for name, _threshold in TIERS), **totals
            )
        )


class Programme:
    def __init__(self, rng, time_machine, rooftop, manager, specialist, advisor) -> None:
        self.rng, self.time_machine, self.rooftop = rng, time_machine, rooftop
        self.manager, self.specialist, self.advisor = manager, specialist, advisor
        self.zone = rooftop.zone
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, self.zone)
        self.counts: Counter = Counter()

    def run(self) -> Counter:
        self.loyalty()
        self.tags_and_addresses()
        self.types = {
            kind: voucher_type_create(
                actor=self.manager,
                dealership=self.rooftop,
                data={"kind": kind, "name": name, "value": Decimal(value), "valid_days": days},
            )
            for kind, name, value, days in VOUCHER_TYPES
        }
        self.consolations()
        self.redeemed_on_visits()
        self.win_back()
        self.maintenance()
        self.counts["issued"] = Voucher.objects.filter(dealership=self.rooftop).count()
        self.counts["redeemed"] = Voucher.objects.filter(dealership=self.rooftop, status="redeemed").count()
        return self.counts

    def _travel(self, moment: datetime.datetime):
        return self.time_machine.travel(min(moment, self.now), tick=False)

    def _at(self, day: datetime.date, hour: int = 9) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=self.zone)

    def _paid_orders(self):
        """The rooftop's delivered repair orders the customer paid something for, with ``paid`` (¥)."""
        return (
            _repair_orders()
            .filter(dealership=self.rooftop, status=PAID, paid_at__isnull=False)
            .annotate(paid=Sum("payments__amount"))
            .filter(paid__gt=0)
        )

    # loyalty ---------------------------------------------------------------------------------

    def loyalty(self) -> None:
        if not LoyaltyTier.objects.filter(dealership=self.rooftop).exists():
            LoyaltyTier.objects.bulk_create(
                LoyaltyTier(dealership=self.rooftop, name=name, threshold=threshold) for name, threshold in TIERS
            )
        orders = list(
            self._paid_orders()
            .filter(paid_at__gte=self.now - datetime.timedelta(days=365))
            .select_related("customer__dealership")
            .order_by("paid_at", "pk")
        )
        for order in orders:  # once per invoice: an order service already credited is left as it is
            points_award(subject=order, customer=order.customer, paid_amount=order.paid)
        if orders:  # the ledger shows when each invoice earned its points
            PointsEntry.objects.filter(
                dealership=self.rooftop,
                reason=PAID_INVOICE,
                subject_type=ContentType.objects.get_for_model(orders[0]),
                subject_id__in=[order.pk for order in orders],
            ).update(created_at=Subquery(_repair_orders().filter(pk=OuterRef("subject_id")).values("paid_at")[:1]))
        self.counts["points"] += len(orders)
        self.balances = dict(
            PointsEntry.objects.filter(dealership=self.rooftop)
            .values("customer")
            .annotate(total=Sum("points"))
            .values_list("customer", "total")
        )
        tiers = list(LoyaltyTier.objects.filter(dealership=self.rooftop).order_by("-threshold"))
        for customer_id in Customer.objects.filter(dealership=self.rooftop).values_list("pk", flat=True):
            balance = self.balances.get(customer_id, 0)
            tier = next((tier for tier in tiers if tier.threshold <= balance), None)
            if tier is not None:
                self.counts[tier.name] += 1

    def tags_and_addresses(self) -> None:
        """VIP: the biggest point earners; 车队客户: the companies; an address for about a third."""
        ranked = sorted(self.balances, key=lambda pk: (-self.balances[pk], pk))
        vips = set(ranked[:VIP_COUNT])
        streets = next((names for city, names in STREETS.items() if self.rooftop.address.startswith(city)), None)
        changed = []
        for customer in Customer.objects.filter(dealership=self.rooftop).order_by("pk"):
            tags = list(customer.tags)
            if customer.pk in vips and "VIP" not in tags:
                tags.append("VIP")
            if customer.kind == CustomerKind.COMPANY and "车队客户" not in tags:
                tags.append("车队客户")
            address = customer.address
            if not address and streets and self.rng.random() < ADDRESS_SHARE:
                city = self.rooftop.address[:3]
                address = f"{city}{self.rng.choice(streets)}{self.rng.randint(1, 2000)}号"
                if customer.kind == CustomerKind.PERSON:
                    address += f"{self.rng.randint(1, 30)}栋{self.rng.randint(1, 28)}0{self.rng.randint(1, 4)}室"
            if tags != customer.tags or address != customer.address:
                customer.tags, customer.address, customer.version = tags, address, customer.version + 1
                changed.append(customer)
        Customer.objects.bulk_update(changed, ["tags", "address", "version"], batch_size=500)

    # vouchers --------------------------------------------------------------------------------

    def consolations(self) -> None:
        """A consolation voucher for each closed complaint, given when it was closed."""
        closed = Complaint.objects.filter(dealership=self.rooftop, status=ComplaintStatus.CLOSED)
        for complaint in closed.select_related("customer").order_by("pk"):
            with self._travel(complaint.closed_at or self.now):
                voucher_issue(
                    actor=self.specialist,
                    customer=complaint.customer,
                    voucher_type=self.types[VoucherKind.CONSOLATION],
                )

    def _redeem(self, voucher: Voucher, order) -> None:
        with self._travel(order.delivered_at):
            voucher_redeem(actor=self.advisor, code=voucher.code, subject=order, amount=order.paid)

    def redeemed_on_visits(self) -> None:
        """Members given a maintenance voucher (or a referral fund) a few weeks before a visit, which the
        front desk took when the car was delivered."""
        recent = list(
            self._paid_orders()
            .filter(
                delivered_at__gte=self.now - datetime.timedelta(days=150),
                delivered_at__lt=self.now - datetime.timedelta(days=7),
            )
            .select_related("customer__dealership")
            .order_by("pk")
        )
        picked, seen = [], set()
        for order in self.rng.sample(recent, len(recent)):
            if order.customer_id not in seen:
                seen.add(order.customer_id)
                picked.append(order)
            if len(picked) == REDEEMED_ON_VISITS:
                break
        for index, order in enumerate(sorted(picked, key=lambda order: order.delivered_at)):
            kind = VoucherKind.REFERRAL if index % 3 == 2 else VoucherKind.LOYALTY
            with self._travel(order.checked_in_at - datetime.timedelta(days=self.rng.randint(5, 40))):
                voucher = voucher_issue(actor=self.specialist, customer=order.customer, voucher_type=self.types[kind])
            self._redeem(voucher, order)

    # segments and campaigns ------------------------------------------------------------------

    def win_back(self) -> None:
        """Customers with a car over a year old and no visit in the twelve months before the campaign were
        called with a win-back voucher; some came back and used it. The campaign is over."""
        launched_on = self.today - datetime.timedelta(days=WIN_BACK_DAYS_AGO)
        launched_at = self._at(launched_on)
        with self._travel(launched_at):
            segment = segment_save(
                actor=self.specialist,
                dealership=self.rooftop,
                name=f"12个月未到店（截至 {launched_on:%Y-%m-%d}）",
                criteria={
                    "visits_since": launched_on - datetime.timedelta(days=365),
                    "visits_until": launched_on - datetime.timedelta(days=1),
                    "visits_max": 0,
                    "vehicle_age_min": 1,
                },
            )
            campaign = campaign_create(
                actor=self.specialist,
                data={
                    "name": "老客户回厂关怀",
                    "segment": segment,
                    "offer": "回厂保养凭券立减 ¥300，免费全车检测",
                    "voucher_type": self.types[VoucherKind.WIN_BACK],
                    "channel": CampaignChannel.CALL,
                    "starts_on": launched_on,
                    "ends_on": launched_on + datetime.timedelta(days=29),
                },
            )
            campaign_launch(actor=self.specialist, campaign_id=campaign.pk)
        with self._travel(self._at(campaign.ends_on + datetime.timedelta(days=1))):
            campaign_finish(actor=self.specialist, campaign_id=campaign.pk)
        self.counts["segments"] += 1
        vouchers = {voucher.customer_id: voucher for voucher in Voucher.objects.filter(campaign=campaign)}
        returns = (
            self._paid_orders()
            .filter(customer_id__in=list(vouchers), checked_in_at__gt=launched_at)
            .select_related("customer__dealership")
            .order_by("delivered_at", "pk")
        )
        for order in returns:
            voucher = vouchers.get(order.customer_id)
            if voucher is None:
                continue
            del vouchers[order.customer_id]  # the first visit back
            if timezone.localdate(order.delivered_at, self.zone) <= voucher.valid_until and self.rng.random() < 0.75:
                self._redeem(voucher, order)

    def maintenance(self) -> None:
        """A running campaign for the Lavida owners who agreed to marketing, and a VIP segment."""
        started_on = self.today - datetime.timedelta(days=RUNNING_DAYS_AGO)
        with self._travel(self._at(started_on, 8)):
            segment = segment_save(
                actor=self.specialist,
                dealership=self.rooftop,
                name="朗逸车主（同意营销）",
                criteria={"vehicle_model": "Lavida", "consent": True},
            )
            campaign = campaign_create(
                actor=self.specialist,
                data={
                    "name": "朗逸车主保养季",
                    "segment": segment,
                    "offer": "保养工时 8 折，凭会员保养券再减 ¥200",
                    "voucher_type": self.types[VoucherKind.LOYALTY],
                    "channel": CampaignChannel.CALL,
                    "starts_on": started_on,
                    "ends_on": started_on + datetime.timedelta(days=30),
                },
            )
            campaign_launch(actor=self.specialist, campaign_id=campaign.pk)
        segment_save(actor=self.specialist, dealership=self.rooftop, name="VIP客户", criteria={"tag": "VIP"})
        self.counts["segments"] += 2
        self.counts["calls"] += campaign_results(campaign=campaign).contacts
