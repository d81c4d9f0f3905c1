"""Every list page shows its filters (a regression: the segment builder's exclusion hid them on every list
but the customers')."""

import pytest
from django.test import Client

from crm.choices import Role


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/customers/", "kind"),
        ("/vehicles/", "dealership"),
        ("/complaints/", "status"),
        ("/service/repair-orders/", "status"),
        ("/sales/leads/", "stage"),
        ("/sales/stock/", "status"),
    ],
)
def test_a_list_page_shows_its_filters(staff, url, field):
    client = Client()
    client.force_login(staff[Role.MANAGER])
    response = client.get(url)
    assert response.status_code == 200
    assert f'name="{field}"' in response.content.decode()
