"""Walk-around and additional-work photos: only real images, not too large, shown to staff and on the link."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from crm.choices import Role
from service import services
from service.models import DamageMark, LinePhoto


def jpeg(size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("IMG_0001.JPG", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def order(workshop, vehicle, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return services.repair_order_open(
        actor=staff[Role.SERVICE_ADVISOR], vehicle=vehicle, concern="x", odometer_km=41_000
    )


def test_a_damage_photo_is_stored_and_shown_to_staff(client, order, staff):
    client.force_login(staff[Role.SERVICE_ADVISOR])
    response = client.post(
        f"/service/repair-orders/{order.pk}/damage/",
        {"panel": "front_bumper", "damage": "scratch", "note": "右前角", "photo": jpeg()},
    )
    assert response.status_code == 302
    mark = DamageMark.objects.get()
    assert mark.photo.name.endswith(".jpg") and "IMG_0001" not in mark.photo.name  # a name of our own
    page = client.get(f"/service/repair-orders/{order.pk}/").content.decode()
    assert f"/service/photos/damage/{mark.pk}/" in page
    served = client.get(f"/service/photos/damage/{mark.pk}/")
    assert served.status_code == 200 and b"".join(served.streaming_content)[:2] == b"\xff\xd8"


def test_a_file_that_is_not_a_photo_or_too_large_is_refused(client, order, staff, settings):
    client.force_login(staff[Role.SERVICE_ADVISOR])
    fake = SimpleUploadedFile("brakes.jpg", b"%PDF-1.7 not an image", content_type="image/jpeg")
    refused = client.post(
        f"/service/repair-orders/{order.pk}/damage/", {"panel": "bonnet", "damage": "dent", "photo": fake}
    )
    assert refused.status_code == 400 and "not a photo" in refused.content.decode()
    settings.PHOTO_MAX_BYTES = 1000
    big = client.post(
        f"/service/repair-orders/{order.pk}/damage/", {"panel": "bonnet", "damage": "dent", "photo": jpeg((800, 600))}
    )
    assert big.status_code == 400 and "at most 1000\xa0bytes" in big.content.decode()
    assert not DamageMark.objects.exists()


def test_a_line_photo_goes_with_the_approval_link(client, order, staff):
    advisor, technician = staff[Role.SERVICE_ADVISOR], staff[Role.TECHNICIAN]
    services.labour_line_add(
        actor=advisor, repair_order_id=order.pk, operation_code="M", description="保养", hours=Decimal("1")
    )
    services.repair_order_approve(actor=advisor, repair_order_id=order.pk, approved_by_name="x", channel="phone")
    brakes = services.labour_line_add(
        actor=technician, repair_order_id=order.pk, operation_code="B", description="刹车片", hours=Decimal("2")
    )
    client.force_login(technician)
    client.post(f"/service/repair-orders/{order.pk}/line-photo/", {"line": f"labour:{brakes.pk}", "photo": jpeg()})
    photo = LinePhoto.objects.get(labour_line=brakes)
    from service.approvals import make_token

    token = make_token(order, [f"labour:{brakes.pk}"])
    client.logout()
    page = client.get(f"/approve/{token}/").content.decode()
    assert f"/approve/{token}/photos/{photo.pk}/" in page
    assert client.get(f"/approve/{token}/photos/{photo.pk}/").status_code == 200
    other = make_token(order, ["labour:999999"])
    assert client.get(f"/approve/{other}/photos/{photo.pk}/").status_code == 404  # not a photo of that link's lines
    assert client.get(f"/service/photos/line/{photo.pk}/").status_code == 302  # staff photos need a login
