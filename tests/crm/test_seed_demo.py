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
