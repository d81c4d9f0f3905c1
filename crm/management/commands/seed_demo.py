"""Demo rooftops, staff in every role and 500 customers with vehicles; safe to run again."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm import demo, services
from crm.choices import Channel, CustomerKind, CustomerSource, Role
from crm.models import BusinessHours, Customer, Dealership, User, Vehicle

ROOFTOPS = (
    {
        "code": "SH01",
        "name": "上海浦东4S店",
        "address": "上海市浦东新区张杨路1500号",
        "labour_rate_amount": Decimal("380.00"),
        "province": "沪",
        "letters": "ABDEF",
        "city": "上海",
        "customers": 300,
    },
    {
        "code": "BJ01",
        "name": "北京朝阳4S店",
        "address": "北京市朝阳区东三环北路38号",
        "labour_rate_amount": Decimal("360.00"),
        "province": "京",
        "letters": "ANPQ",
        "city": "北京",
        "customers": 200,
    },
)
# username, full name, role, rooftop codes
STAFF = (
    ("admin", "系统管理员", Role.ADMINISTRATOR, ("SH01", "BJ01")),
    ("manager", "赵经理", Role.MANAGER, ("SH01", "BJ01")),
    ("sales", "李销售", Role.SALES_CONSULTANT, ("SH01",)),
    ("sales_bj", "孙销售", Role.SALES_CONSULTANT, ("BJ01",)),
    ("advisor", "王服务", Role.SERVICE_ADVISOR, ("SH01",)),
    ("advisor_bj", "周服务", Role.SERVICE_ADVISOR, ("BJ01",)),
    ("specialist", "陈回访", Role.CUSTOMER_SPECIALIST, ("SH01", "BJ01")),
    ("technician", "刘技师", Role.TECHNICIAN, ("SH01",)),
    ("technician_bj", "马技师", Role.TECHNICIAN, ("BJ01",)),
)
DEMO_PASSWORD_SUFFIX = "-demo-2026"


SALES_CHANNELS = ("own",) * 6 + ("secondary",) * 2 + ("other_dealer", "unknown")


class Command(BaseCommand):
    help = "Create demo rooftops, staff (one per role, passwords printed) and 500 customers with vehicles."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=None, help="Customers per rooftop (default 300 + 200).")

    def handle(self, *args, customers=None, **options):
        rng = random.Random(20261123)
        with transaction.atomic():
            rooftops = {spec["code"]: self.rooftop(spec) for spec in ROOFTOPS}
            staff = {
                username: self.staff_member(username, name, role, [rooftops[c] for c in codes])
                for username, name, role, codes in STAFF
            }
        created = 0
        for spec in ROOFTOPS:
            owner_pool = [
                staff["sales" if spec["code"] == "SH01" else "sales_bj"],
                staff["advisor" if spec["code"] == "SH01" else "advisor_bj"],
            ]
            created += self.customers(
                rng, rooftops[spec["code"]], spec, customers or spec["customers"], owner_pool, staff["admin"]
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created} new customers "
                f"({Customer.objects.count()} customers, {Vehicle.objects.count()} vehicles in all)."
            )
        )
        for seeder in [*demo.seeders, *demo.last_seeders]:
            seeder(rooftops=rooftops, staff=staff, stdout=self.stdout)
        self.stdout.write("Demo logins (user name / password):")
        for username, _name, role, codes in STAFF:
            password = username + DEMO_PASSWORD_SUFFIX
            self.stdout.write(f"  {username:<12} {password:<22} {role.label} · {', '.join(codes)}")

    def rooftop(self, spec) -> Dealership:
        rooftop, _ = Dealership.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "address": spec["address"],
                "labour_rate_amount": spec["labour_rate_amount"],
                "time_zone": "Asia/Shanghai",
                "phone_region": "CN",
            },
        )
        for weekday in range(7):  # a 4S store opens every day
            BusinessHours.objects.update_or_create(
                dealership=rooftop,
                weekday=weekday,
                defaults={"opens_at": datetime.time(8, 30), "closes_at": datetime.time(18, 0)},
            )
        return rooftop

    def staff_member(self, username, full_name, role, rooftops) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
        if created:
            user.set_password(username + DEMO_PASSWORD_SUFFIX)
        user.is_staff = role == Role.ADMINISTRATOR
        user.is_superuser = False
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        user.dealerships.set(rooftops)
        return user

    def customers(self, rng, rooftop, spec, count, owners, actor) -> int:
        existing = set(Customer.objects.filter(dealership=rooftop).values_list("mobile", flat=True))
        created = 0
        for index in range(count):
            # Draw everything first, so a rerun walks the same random sequence and skips what exists.
            customer_data, vehicles = self.draw_customer(rng, rooftop, spec, index, owners)
            if customer_data["mobile"] in existing:
                continue
            with transaction.atomic():
                customer = services.customer_create(actor=actor, dealership=rooftop, data=customer_data)
                for vehicle_data, odometer_km in vehicles:
                    services.vehicle_create(
                        actor=actor, dealership=rooftop, owner=customer, odometer_km=odometer_km, data=vehicle_data
                    )
            existing.add(customer_data["mobile"])
            created += 1
        return created

    def draw_customer(self, rng, rooftop, spec, index, owners):
        today = timezone.localdate()
        is_company = index % 25 == 7
        window = rng.random() < 0.3
        customer = {
            "kind": CustomerKind.COMPANY if is_company else CustomerKind.PERSON,
            "full_name": demo.company_name(rng, spec["city"]) if is_company else demo.person_name(rng),
            "salutation": "" if is_company else rng.choice(("mr", "ms")),
            "mobile": demo.mainland_mobile(rng),
            "email": f"c{rooftop.pk}{index}@example.cn" if rng.random() < 0.4 else "",
            "preferred_channel": rng.choice(list(Channel.values)),
            "contact_from": datetime.time(9, 0) if window else None,
            "contact_until": datetime.time(12, 0) if window else None,
            "marketing_consent": rng.random() < 0.6,
            "born_on": None if is_company else today - datetime.timedelta(days=rng.randint(22 * 365, 65 * 365)),
            "source": rng.choice(list(CustomerSource.values)),
            "owner": rng.choice(owners),
        }
        vehicles = []
        for _ in range(rng.choices((0, 1, 2), (8, 80, 12))[0]):
            drawn = demo.vehicle(rng, spec["province"], rng.choice(spec["letters"]))
            purchased = today - datetime.timedelta(days=rng.randint(30, 8 * 365))
            odometer_km = max(500, (today - purchased).days * rng.randint(20, 60))
            vehicles.append(
                (
                    {
                        "vin": drawn.vin,
                        "plate": drawn.plate,
                        "make": drawn.make,
                        "model": drawn.model,
                        "trim": drawn.trim,
                        "year": drawn.year,
                        "colour": drawn.colour,
                        "purchased_on": purchased,
                        "warranty_ends_on": purchased + datetime.timedelta(days=3 * 365),
                        # serviced every 180 days or 10,000 km since purchase, whichever comes first
                        "next_service_on": today + datetime.timedelta(days=(purchased - today).days % 180),
                        "next_service_km": (odometer_km // 10_000 + 1) * 10_000,
                        # most sold by us, some through the secondary network or elsewhere (not drawn from
                        # rng, so the rest of the demo stays the same sequence)
                        "sales_channel": SALES_CHANNELS[(index + len(vehicles)) % len(SALES_CHANNELS)],
                    },
                    odometer_km,
                )
            )
        return customer, vehicles
