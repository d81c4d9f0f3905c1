"""Demo sales data (a ``crm.demo`` seeder): per rooftop, twelve months of leads in every stage with
their calls, showroom visits, presentations and messages, test drives on the demo cars, versioned
quotes (some financed), orders with deposits and payments, deliveries with their 2-day follow-up,
lost leads (approved, and two applications waiting for the manager), dormant leads, and the stock.

Every step is the service function a consultant, manager or specialist would have called, run under
``time_machine.travel`` at the moment it happened, so stages, grades, follow-up dates, the follow-up
engine's rows, reserved and delivered cars agree with the business rules. The open leads' last
contacts are placed so that each consultant's day starts with a few follow-ups due and a few
overdue, two test drives and two deliveries. The leads are seed_demo's own customers (those without
a car first); stock and demo cars, which no service creates, are written directly.

Every call costs a dozen queries, so the book is sized to keep ``seed_demo`` quick: 90 leads per
consultant, about 40 of them open. Run once: a second ``seed_demo`` leaves what is there.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm import demo
from crm.choices import Role
from crm.models import Customer, User
from followup import scans
from followup import services as followup
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp

from . import services
from .choices import ActivityKind, LeadSource, Stage, StockStatus, Timeframe
from .models import Activity, DemoVehicle, Lead, LostReason, Order, Quote, SalesSettings, StockVehicle, TestDrive

LEADS_PER_CONSULTANT = 90
HISTORY_DAYS = 365
# What each consultant's book looks like; the rest of LEADS_PER_CONSULTANT are delivered, lost or dormant.
OPEN = {
    Stage.NEW: 4,
    Stage.CONTACTED: 6,
    Stage.NEEDS_ANALYSED: 5,
    Stage.PRESENTED: 5,
    Stage.TEST_DRIVEN: 5,
    Stage.NEGOTIATING: 6,
}
ORDERED = 5  # two with the deposit only, three paid in full (two of them handed over today)
APPLIED, REJECTED = 2, 1  # lost applications waiting for the manager; one sent back to follow up
RECENT_DELIVERIES = 2  # delivered yesterday: their 2-day follow-up call is due today
CLOSED_SHARES = {Stage.DELIVERED: 0.42, Stage.LOST: 0.38, Stage.DORMANT: 0.20}
OVERDUE_DAYS, DUE_TODAY = (1, 2, 3, 6), 5  # graded open leads whose follow-up is overdue, due today
GRADES_BY_STAGE = {
    Stage.CONTACTED: "ABCC",
    Stage.NEEDS_ANALYSED: "ABBC",
    Stage.PRESENTED: "HAAB",
    Stage.TEST_DRIVEN: "HAAB",
    Stage.NEGOTIATING: "HHAA",
    Stage.ORDERED: "HH",
    Stage.DELIVERED: "HHA",
}
TIMEFRAMES = {"H": Timeframe.WEEK, "A": Timeframe.FORTNIGHT, "B": Timeframe.MONTH, "C": Timeframe.LATER}
SOURCES = (
    (LeadSource.WALK_IN, 34),
    (LeadSource.PHONE, 14),
    (LeadSource.WEB, 26),
    (LeadSource.REFERRAL, 8),
    (LeadSource.EVENT, 8),
    (LeadSource.SECONDARY, 7),
    (LeadSource.OTHER, 3),
)
# The rooftops sell Volkswagens (crm.demo's models), two trims each: list prices in yuan.
PRICES = {"Lavida": (109_900, 139_900), "Tiguan L": (219_900, 279_900), "Sagitar": (139_900, 189_900)}
ON_SALE = tuple(model for model in demo.MODELS if model[2] in PRICES)
USES = ("家用代步", "上下班通勤", "周末自驾游", "接送孩子上学", "商务接待", "增购第二辆车")
CALL_NOTES = ("电话沟通,客户关注油耗和保养费用", "客户询问本月优惠政策", "约客户周末到店", "客户在对比竞品,强调保值率")
MESSAGE_NOTES = ("微信发送车型配置表和报价单", "微信发送试驾视频", "发送到店路线和停车位置", "节日问候并提醒活动")
VISIT_NOTES = ("到店看车,重点看了空间和内饰", "全家到店,孩子很喜欢", "到店复看,询问提车时间")
PRESENTATION_NOTES = ("六方位绕车介绍,重点讲解安全配置", "六方位绕车介绍,演示智能互联和驾驶辅助")
DRIVE_NOTES = ("动力满意,后排空间大", "底盘扎实,隔音好", "觉得方向盘偏轻,其他满意", "加速有力,想看看更高配")
# By the rooftop's reasons in their default order: price, competitor, other dealer, postponed, unreachable.
LOST_NOTES = (
    "对比两家店,对方多优惠八千",
    "最后买了比亚迪",
    "在另一家店订了同款",
    "家里有事,明年再说",
    "电话多次未接,微信未回",
)
ACCESSORIES = (("", 0), ("脚垫+行车记录仪", 2_800), ("全车贴膜+脚垫", 6_500))
PDI = {"外观漆面": True, "内饰": True, "电气功能": True, "胎压与随车工具": True}
DOCUMENTS = {"购车发票": True, "合格证": True, "保修手册": True, "交付确认书": True}
SLOTS = [datetime.time(hour, minute) for hour in range(9, 17) for minute in (0, 30)]
GAPS = {  # days between a step and the one before it
    "contact": (0, 1),
    "analyse": (0, 0),
    "present": (1, 5),
    "drive": (0, 3),
    "quote": (0, 5),
    "requote": (1, 4),
    "order": (1, 8),
    "pay": (3, 15),
    "deliver": (1, 5),
    "nudge": (2, 6),
    "apply": (4, 20),
    "approve": (0, 2),
    "reject": (0, 1),
    "dormant": (14, 40),
}


@dataclass
class Plan:
    """One lead's story: the steps it goes through, on which day, and how it ends."""

    fate: str
    grade: str
    steps: list[str]
    source: str
    customer: Customer | None = None
    days: list[datetime.date] = field(default_factory=list)
    today_drive: bool = False
    tomorrow_drive: bool = False
    paid: bool = False
    delivery_today: bool = False


@dataclass
class Story:
    """A plan being played: the lead, the clock the steps are taken at, and what they made."""

    plan: Plan
    consultant: User
    clock: datetime.datetime
    previous: datetime.datetime | None = None
    index: int = 0
    lead: Lead | None = None
    quote: Quote | None = None
    stock: StockVehicle | None = None
    order: Order | None = None
    delivery_at: datetime.datetime | None = None
    visit_started: datetime.datetime | None = None


def seed(*, rooftops, staff, stdout) -> None:
    import time_machine  # the steps are placed in the past with it

    rng = random.Random(20261124)
    totals: Counter = Counter()
    for rooftop in rooftops.values():
        if Lead.objects.filter(dealership=rooftop).exists():
            continue  # seeded before: keep what the demo users did with it
        people = [user for user in staff.values() if rooftop in user.dealerships.all()]
        consultants = [user for user in people if user.role_names == {Role.SALES_CONSULTANT.value}]
        manager = next((user for user in people if Role.MANAGER.value in user.role_names), None)
        advisor = next((user for user in people if Role.SERVICE_ADVISOR.value in user.role_names), None)
        specialist = next((user for user in people if Role.CUSTOMER_SPECIALIST.value in user.role_names), None)
        if not consultants or manager is None or advisor is None:
            continue
        with transaction.atomic():
            seeder = RooftopSeeder(rng, time_machine, rooftop, manager, advisor, specialist)
            for consultant in consultants:
                seeder.consultant_book(consultant)
            seeder.unsold_stock()
        totals.update(seeder.counts())
    if totals:
        with transaction.atomic():  # the nightly scan sees the cars delivered long enough ago for first maintenance
            scans.scan_maintenance_due(now=timezone.now())
        stdout.write(
            "Demo sales: {leads} leads ({open} open, {delivered} delivered, {lost} lost, {dormant} dormant), "
            "{activities} activities, {drives} test drives, {quotes} quotes, {orders} orders, "
            "{stock} stock cars.".format(**totals)
        )


class RooftopSeeder:
    def __init__(self, rng, time_machine, rooftop, manager, advisor, specialist) -> None:
        self.rng, self.time_machine, self.rooftop = rng, time_machine, rooftop
        self.manager, self.advisor, self.specialist = manager, advisor, specialist
        self.zone = rooftop.zone
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, self.zone)
        self.settings = SalesSettings.of(rooftop)
        self.reasons = [reason.pk for reason in _lost_reasons(rooftop)]
        self.province = "沪" if rooftop.code.startswith("SH") else "京"
        self.cars = self._demo_cars()
        self.taken: set[tuple[int, datetime.datetime]] = set()
        self.handovers = 0
        # The leads are seed_demo's customers: prospects first (no car yet), then owners buying their next one.
        customers = list(Customer.objects.filter(dealership=rooftop).prefetch_related("vehicles").order_by("pk"))
        self.rng.shuffle(customers)
        customers.sort(key=lambda customer: bool(customer.vehicles.all()))
        self.customers = itertools.cycle(customers)
        self.referrers = customers[-50:]

    # --- the plan ---------------------------------------------------------------------------------

    def consultant_book(self, consultant: User) -> None:
        """A consultant's year: the closed history, the open pipeline, and what today holds for them."""
        plans = self._plans()
        # Open leads take a customer each (while there are enough); the closed history reuses them.
        for plan in sorted(plans, key=lambda plan: plan.fate in CLOSED_SHARES):
            plan.customer = next(self.customers)
        for plan in plans:
            self._run(plan, consultant)

    def _plans(self) -> list[Plan]:
        rng = self.rng
        plans = [self._plan(stage) for stage, count in OPEN.items() for _ in range(count)]
        plans += [self._plan("rejected") for _ in range(REJECTED)]
        for plan, back in zip([plan for plan in plans if plan.fate == Stage.NEW], (1, 0, 2, 1, 3, 0), strict=False):
            plan.days = [self.today - datetime.timedelta(days=back)]  # yesterday's are due today, older overdue
        graded = [plan for plan in plans if plan.fate != Stage.NEW]
        rng.shuffle(graded)
        for plan in [plan for plan in graded if plan.fate == Stage.TEST_DRIVEN][:2]:
            plan.today_drive = True
        for plan in [plan for plan in graded if plan.fate == Stage.PRESENTED][:2]:
            plan.tomorrow_drive = True
        dues = [-days for days in OVERDUE_DAYS] + [0] * DUE_TODAY
        for plan in graded:
            cadence = self.settings.cadence_days(plan.grade)
            due = dues.pop() if dues and not plan.today_drive else rng.randint(1, cadence - 1)
            self._place(plan, end=self.today + datetime.timedelta(days=due - cadence))
        for _ in range(APPLIED):
            plan = self._plan("applied")
            self._place(plan, end=self.today - datetime.timedelta(days=rng.randint(1, 2)))
            plans.append(plan)
        for index in range(ORDERED):
            plan = self._plan(Stage.ORDERED)
            plan.paid, plan.delivery_today = index >= ORDERED - 3, index >= ORDERED - 2
            if plan.paid:
                plan.steps.append("pay")
            self._place(plan, end=self.today - datetime.timedelta(days=rng.randint(1, 12)))
            plans.append(plan)
        closed = LEADS_PER_CONSULTANT - len(plans)
        for stage, share in CLOSED_SHARES.items():
            for index in range(round(closed * share)):
                plan = self._plan(stage)
                if stage == Stage.DELIVERED and index < RECENT_DELIVERIES:
                    self._place(plan, end=self.today - datetime.timedelta(days=1))
                else:
                    span = sum(GAPS[step][1] for step in plan.steps) + 4
                    self._place(plan, start=self.today - datetime.timedelta(days=rng.randint(span, HISTORY_DAYS)))
                plans.append(plan)
        plans.sort(key=lambda plan: plan.days[0])
        return plans

    def _plan(self, fate: str) -> Plan:
        rng = self.rng
        reach = fate
        if fate in (Stage.LOST, "applied", "rejected"):  # most lost leads drop out early
            reach = rng.choices(
                (Stage.CONTACTED, Stage.NEEDS_ANALYSED, Stage.PRESENTED, Stage.TEST_DRIVEN, Stage.NEGOTIATING),
                (35, 30, 15, 10, 10),
            )[0]
        elif fate == Stage.DORMANT:
            reach = rng.choices((Stage.CONTACTED, Stage.NEEDS_ANALYSED, Stage.PRESENTED), (50, 35, 15))[0]
        funnel = (Stage.NEW, Stage.CONTACTED, Stage.NEEDS_ANALYSED, Stage.PRESENTED, Stage.TEST_DRIVEN)
        steps = ["contact", "analyse", "present", "drive"][: funnel.index(reach)] if reach in funnel else []
        if reach in (Stage.NEGOTIATING, Stage.ORDERED, Stage.DELIVERED):
            steps = ["contact", "analyse", "present"]
            if rng.random() < 0.75:
                steps.append("drive")
            steps.append("quote")
            if rng.random() < 0.35:
                steps.append("requote")
        if reach == Stage.ORDERED:
            steps.append("order")
        if reach == Stage.DELIVERED:
            steps += ["order", "pay", "deliver"]
        if len(steps) > 1 and rng.random() < 0.25:
            steps.insert(rng.randint(1, len(steps) - 1), "nudge")
        steps += {
            Stage.LOST: ["apply", "approve"],
            "applied": ["apply"],
            "rejected": ["apply", "reject", "nudge"],
            Stage.DORMANT: ["nudge", "dormant"],
        }.get(fate, [])
        grade = rng.choice(GRADES_BY_STAGE.get(reach, "HABC")) if reach != Stage.NEW else ""
        source = rng.choices([source for source, _ in SOURCES], [weight for _, weight in SOURCES])[0]
        return Plan(fate=fate, grade=grade, steps=steps, source=source)

    def _place(self, plan: Plan, *, start: datetime.date | None = None, end: datetime.date | None = None) -> None:
        """Days for the creation and each step, from ``start`` or so that the last contact is on ``end``."""
        gaps = [self.rng.randint(*GAPS[step]) for step in plan.steps]
        if plan.source == LeadSource.WALK_IN:  # the lead came from a visit: its first contact, often more
            for index, step in enumerate(plan.steps[:3]):
                if step in ("contact", "analyse") or (step == "present" and self.rng.random() < 0.7):
                    gaps[index] = 0
        if plan.today_drive:  # presented yesterday, the drive is today
            gaps[-1] = 1
            end = self.today
        if start is None:
            start = end - datetime.timedelta(days=sum(gaps))
        days, day = [start], start
        for gap in gaps:
            day += datetime.timedelta(days=gap)
            days.append(day)
        plan.days = days

    # --- running a plan through the services -------------------------------------------------------

    def _at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=self.zone)

    def _day(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.zone).date()

    def _travel(self, moment: datetime.datetime):
        return self.time_machine.travel(min(moment, self.now), tick=False)

    def _run(self, plan: Plan, consultant: User) -> None:
        rng = self.rng
        created = self._at(plan.days[0], rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        if plan.fate == Stage.NEW and plan.days[0] == self.today:
            created = self.now - datetime.timedelta(minutes=rng.randint(20, 180))
        story = Story(plan=plan, consultant=consultant, clock=created)
        story.lead = self._create(story)
        for index, (step, day) in enumerate(zip(plan.steps, plan.days[1:], strict=True)):
            story.index, story.previous = index, story.clock
            planned = self._at(day, rng.randint(9, 15), rng.choice((0, 10, 20, 30, 40, 50)))
            story.clock = max(planned, story.clock + datetime.timedelta(minutes=rng.randint(5, 30)))
            getattr(self, f"_step_{step}")(story)
        if plan.tomorrow_drive:
            self._book(story, self.today + datetime.timedelta(days=1), complete=False)

    def _create(self, story: Story) -> Lead:
        rng, plan = self.rng, story.plan
        source = plan.source
        model = rng.choice(ON_SALE)[2]
        customer, trade_in = plan.customer, ""
        vehicles = list(customer.vehicles.all())
        if vehicles and rng.random() < 0.6:  # 置换: the car they drive now is traded in
            trade_in = f"{vehicles[0].make} {vehicles[0].model} {vehicles[0].year}"
        with self._travel(story.clock):
            referrer = None
            if source == LeadSource.REFERRAL:
                others = [other for other in self.referrers[:50] if other.pk != customer.pk]
                referrer = rng.choice(others) if others else None
                if referrer is None:
                    source = LeadSource.WALK_IN
            return services.lead_create(
                actor=story.consultant,
                customer=customer,
                source=source,
                referrer=referrer,
                model_of_interest=model,
                budget=Decimal(round(PRICES[model][0] * rng.uniform(0.9, 1.3), -4)) if plan.steps else None,
                intended_use=rng.choice(USES) if plan.steps else "",
                timeframe=TIMEFRAMES.get(plan.grade, ""),
                trade_in=trade_in,
                finance_need=rng.random() < 0.4,
            )

    def _log(self, story: Story, kind: str, outcome: str, *, minutes: int = 0, occurred_at=None, **extra) -> None:
        """A contact ``minutes`` long from the story's clock (or earlier, at ``occurred_at``), logged when it ends."""
        if occurred_at is None:
            occurred_at = story.clock
            story.clock += datetime.timedelta(minutes=minutes)
        with self._travel(story.clock):
            services.activity_log(
                actor=story.consultant,
                lead_id=story.lead.pk,
                kind=kind,
                occurred_at=occurred_at,
                outcome=outcome,
                **extra,
            )
        story.clock += datetime.timedelta(minutes=2)

    def _visit(self, story: Story, outcome: str | None = None) -> None:
        stay = self.rng.choice((40, 60, 75, 90, 120))
        story.visit_started = story.clock
        self._log(
            story,
            ActivityKind.VISIT,
            outcome or self.rng.choice(VISIT_NOTES),
            minutes=stay,
            party_size=self.rng.choice((1, 2, 2, 3, 4)),
            ended_at=story.clock + datetime.timedelta(minutes=stay),
        )

    def _then(self, story: Story, minutes: int = 5):
        story.clock += datetime.timedelta(minutes=minutes)
        return self._travel(story.clock)

    def _step_contact(self, story: Story) -> None:
        plan = story.plan
        if story.lead.source == LeadSource.WALK_IN and story.index == 0:
            story.clock = story.lead.created_at + datetime.timedelta(minutes=1)
            self._visit(story)
        else:
            self._log(story, ActivityKind.CALL, self.rng.choice(CALL_NOTES), minutes=8, next_step="邀约到店")
        if "analyse" not in plan.steps:
            self._grade(story)

    def _step_analyse(self, story: Story) -> None:
        """In the same conversation as the first contact: budget, use, timeframe, trade-in, finance."""
        with self._then(story, 15):
            services.lead_set_stage(
                actor=story.consultant,
                lead_id=story.lead.pk,
                stage=Stage.NEEDS_ANALYSED,
                note="需求分析:预算、用途、购车时间、置换与贷款意向",
            )
        self._grade(story)

    def _grade(self, story: Story) -> None:
        plan = story.plan
        first = "A" if plan.grade == "H" and "quote" in plan.steps else plan.grade  # H once they negotiate
        with self._then(story):
            services.lead_set_grade(actor=story.consultant, lead_id=story.lead.pk, grade=first)

    def _step_present(self, story: Story) -> None:
        """The six-point walk-around, during the walk-in's first visit or on a visit of its own."""
        started = story.visit_started
        if started is None or self._day(started) != self._day(story.clock):
            started = story.clock
            self._visit(story)
        note = self.rng.choice(PRESENTATION_NOTES)
        self._log(story, ActivityKind.PRESENTATION, note, occurred_at=started + datetime.timedelta(minutes=20))
        with self._then(story):
            services.lead_set_stage(actor=story.consultant, lead_id=story.lead.pk, stage=Stage.PRESENTED)

    def _step_drive(self, story: Story) -> None:
        """Booked at the end of the step before, driven on this step's day."""
        day = self._day(story.clock)
        story.clock = story.previous
        self._book(story, day, complete=True)

    def _book(self, story: Story, day: datetime.date, *, complete: bool) -> None:
        rng = self.rng
        earliest = story.clock + datetime.timedelta(minutes=30)
        while True:
            free = [
                (car, start)
                for car in self.cars
                for time in SLOTS
                if (start := self._at(day, time.hour, time.minute)) >= earliest and (car, start) not in self.taken
            ]
            if free:
                break
            day += datetime.timedelta(days=1)
        car, starts_at = rng.choice(free)
        self.taken.add((car, starts_at))
        with self._then(story, 1):
            drive = services.test_drive_book(
                actor=story.consultant,
                lead_id=story.lead.pk,
                demo_vehicle_id=car,
                starts_at=starts_at,
                licence_number=_licence_number(rng),
                licence_expires_on=day + datetime.timedelta(days=rng.randint(200, 3000)),
            )
        finished = drive.ends_at + datetime.timedelta(minutes=10)
        if complete and finished < self.now:
            story.clock = finished
            with self._travel(finished):
                services.test_drive_complete(
                    actor=story.consultant, test_drive_id=drive.pk, feedback=rng.choice(DRIVE_NOTES)
                )

    def _step_quote(self, story: Story) -> None:
        plan, lead = story.plan, story.lead
        if self._day(story.clock) != self._day(story.previous):
            self._visit(story, "到店洽谈价格和金融方案")  # else still in the showroom after the drive
        if plan.grade == "H" and lead.grade != "H":
            with self._then(story):
                lead = services.lead_set_grade(actor=story.consultant, lead_id=lead.pk, grade="H")
        trim = self.rng.randrange(2)
        self._quote(story, PRICES[lead.model_of_interest][trim], trim, discount=self.rng.choice((2000, 3000, 5000)))

    def _step_requote(self, story: Story) -> None:
        previous = story.quote
        self._log(story, ActivityKind.CALL, "客户还价,申请更多优惠", minutes=10)
        bigger = self.rng.random() < 0.3  # beyond the consultant's limit: the manager approves it
        trim = PRICES[story.lead.model_of_interest].index(int(previous.list_price))
        self._quote(story, int(previous.list_price), trim, discount=int(previous.discount) + (5000 if bigger else 1000))

    def _quote(self, story: Story, price: int, trim: int, *, discount: int) -> None:
        rng, lead, plan = self.rng, story.lead, story.plan
        last_quote = max(index for index, step in enumerate(plan.steps) if step in ("quote", "requote"))
        stock = None
        if story.index == last_quote and "order" in plan.steps:  # the car they will order
            stock = self._stock_for(lead.model_of_interest, trim, self._day(story.clock))
        accessories, accessories_price = rng.choice(ACCESSORIES)
        insurance = rng.randrange(5_000, 9_000, 100)
        trade_in = rng.randrange(20_000, int(price * 0.4), 1_000) if lead.trade_in else 0
        finance = {}
        if lead.finance_need:
            total = price - discount + accessories_price + insurance - trade_in
            finance = {
                "down_payment": Decimal(round(total * rng.choice((0.3, 0.4, 0.5)), -3)),
                "term_months": rng.choice((12, 24, 36, 60)),
                "annual_rate": rng.choice((Decimal("0.0000"), Decimal("0.0299"), Decimal("0.0399"))),
            }
        with self._then(story, 20):
            quote = services.quote_create(
                actor=story.consultant,
                lead_id=lead.pk,
                model=lead.model_of_interest,
                list_price=Decimal(price),
                discount=Decimal(discount),
                accessories=accessories,
                accessories_price=Decimal(accessories_price),
                trade_in_value=Decimal(trade_in),
                insurance=Decimal(insurance),
                stock_vehicle_id=stock.pk if stock else None,
                **finance,
            )
        if services.needs_discount_approval(quote):
            with self._then(story, 30):
                services.quote_approve_discount(actor=self.manager, quote_id=quote.pk)
        story.quote, story.stock = quote, stock or story.stock

    def _stock_for(self, model: str, trim: int, day: datetime.date, in_transit: bool | None = None) -> StockVehicle:
        """A car in the stock list: at the yard since some days before ``day``, or still on its way."""
        rng = self.rng
        wmi, make, name, trims = next(item for item in ON_SALE if item[2] == model)
        if in_transit is None:
            in_transit = day > self.today - datetime.timedelta(days=10) and rng.random() < 0.3
        return StockVehicle.objects.create(
            dealership=self.rooftop,
            vin=demo.vin(rng, wmi, day.year),
            make=make,
            model=name,
            trim=trims[trim % len(trims)],
            colour=rng.choice(demo.COLOURS),
            list_price=Decimal(PRICES[model][trim]),
            status=StockStatus.IN_TRANSIT if in_transit else StockStatus.IN_STOCK,
            arrived_on=None if in_transit else day - datetime.timedelta(days=rng.randint(5, 60)),
        )

    def _step_nudge(self, story: Story) -> None:
        if self.rng.random() < 0.5:
            self._log(story, ActivityKind.MESSAGE, self.rng.choice(MESSAGE_NOTES), minutes=3)
        else:
            self._log(story, ActivityKind.CALL, self.rng.choice(CALL_NOTES), minutes=6)

    def _step_order(self, story: Story) -> None:
        quote = story.quote
        deposit = Decimal(self.rng.choice((5_000, 10_000, 20_000)))
        if quote.down_payment:
            deposit = min(deposit, quote.down_payment)
        self._visit(story, "签订购车合同,交定金")
        with self._then(story):
            story.order = services.order_create(
                actor=story.consultant, quote_id=quote.pk, stock_vehicle_id=story.stock.pk, deposit=deposit
            )

    def _step_pay(self, story: Story) -> None:
        order, quote = story.order, story.quote
        parts = [order.total - order.paid]
        if quote.down_payment and quote.down_payment > order.paid:  # the down payment, then the loan
            parts = [quote.down_payment - order.paid, order.total - quote.down_payment]
        for amount in parts:
            if amount > 0:
                with self._then(story, 90):
                    story.order = services.order_payment(actor=story.consultant, order_id=order.pk, amount=amount)
        if story.plan.fate == Stage.DELIVERED:
            day = story.plan.days[story.plan.steps.index("deliver") + 1]
            story.delivery_at = self._at(day, self.rng.choice((10, 14, 16)))
        elif story.plan.delivery_today:
            story.delivery_at = self._at(self.today, *((10, 30), (15, 0), (16, 30))[self.handovers % 3])
            self.handovers += 1
        else:
            story.delivery_at = self._at(self.today + datetime.timedelta(days=2), 10)
        with self._then(story, 30):
            services.order_schedule_delivery(actor=story.consultant, order_id=order.pk, delivery_at=story.delivery_at)

    def _step_deliver(self, story: Story) -> None:
        order = story.order
        story.clock = max(story.clock, story.delivery_at)
        with self._then(story, 60):
            services.order_deliver(
                actor=story.consultant,
                order_id=order.pk,
                delivery_advisor=self.advisor,
                pdi_checklist=dict(PDI),
                documents_checklist=dict(DOCUMENTS),
            )
        called = self._at(self._day(story.clock) + datetime.timedelta(days=1), 10, 30)
        if self.specialist is None or called >= self.now - datetime.timedelta(hours=12):
            return  # delivered yesterday: the 2-day call is still to make
        row = followup.live_followups(subject=order, kind=FollowUpKind.DELIVERY_FOLLOWUP).first()
        if row is None:
            return
        with self._travel(called):
            FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.QUEUED)  # as the dispatcher queues it
            followup.followup_record_outcome(
                followup_id=row.pk,
                actor=self.specialist,
                outcome=Outcome.REACHED,
                satisfaction=self.rng.choice((4, 5, 5)),
                notes="对新车很满意,已提醒首保时间",
            )

    def _step_apply(self, story: Story) -> None:
        index = self.rng.randrange(len(self.reasons))
        note = LOST_NOTES[index % len(LOST_NOTES)]
        self._log(story, ActivityKind.CALL, note, minutes=5)
        with self._then(story):
            services.lead_apply_lost(
                actor=story.consultant, lead_id=story.lead.pk, reason_id=self.reasons[index], note=note
            )

    def _step_approve(self, story: Story) -> None:
        with self._then(story):
            services.lead_review_lost(actor=self.manager, lead_id=story.lead.pk, approve=True, note="同意战败")

    def _step_reject(self, story: Story) -> None:
        with self._then(story):
            services.lead_review_lost(
                actor=self.manager, lead_id=story.lead.pk, approve=False, note="客户还有意向,邀约参加周末团购会"
            )

    def _step_dormant(self, story: Story) -> None:
        with self._then(story):
            services.lead_set_stage(
                actor=story.consultant, lead_id=story.lead.pk, stage=Stage.DORMANT, note="客户暂缓购车"
            )

    # --- cars -------------------------------------------------------------------------------------

    def _demo_cars(self) -> list[int]:
        rng = self.rng
        cars = []
        for index in range(3 if self.rooftop.code.startswith("SH") else 2):
            wmi, _make, model, _trims = ON_SALE[index % len(ON_SALE)]
            car, _ = DemoVehicle.objects.get_or_create(
                dealership=self.rooftop,
                vin=demo.vin(rng, wmi, self.today.year),
                defaults={"model": model, "plate": demo.mainland_plate(rng, self.province, "A")},
            )
            cars.append(car.pk)
        return cars

    def unsold_stock(self) -> None:
        """Cars to sell: most in the yard (some for months), a few on the way from the factory."""
        rng = self.rng
        for index in range(18):
            since = self.today - datetime.timedelta(days=rng.choice((0, 7, 20, 35, 70, 120)))
            self._stock_for(rng.choice(list(PRICES)), rng.randrange(2), since, in_transit=index < 5)

    def counts(self) -> Counter:
        leads = Lead.objects.filter(dealership=self.rooftop)
        stages = Counter(leads.values_list("stage", flat=True))
        return Counter(
            leads=sum(stages.values()),
            open=sum(stages[stage] for stage in OPEN),
            delivered=stages[Stage.DELIVERED],
            lost=stages[Stage.LOST],
            dormant=stages[Stage.DORMANT],
            activities=Activity.objects.filter(dealership=self.rooftop).count(),
            drives=TestDrive.objects.filter(dealership=self.rooftop).count(),
            quotes=Quote.objects.filter(dealership=self.rooftop).count(),
            orders=Order.objects.filter(dealership=self.rooftop).count(),
            stock=StockVehicle.objects.filter(dealership=self.rooftop).count(),
        )


def _licence_number(rng: random.Random) -> str:
    """A mainland licence number is the holder's ID number: region, birth date, sequence, check."""
    born = datetime.date(1965, 1, 1) + datetime.timedelta(days=rng.randrange(40 * 365))
    return f"{rng.choice((310101, 310115, 110105, 110108))}{born:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"


def _lost_reasons(rooftop) -> list[LostReason]:
    services.dealership_lost_reasons(rooftop)
    return list(LostReason.objects.filter(dealership=rooftop, active=True).order_by("pk"))
