"""Permissions and rooftops are cached between requests, and every change to them is seen at once."""

from django.contrib.auth.models import Group

from crm.choices import Role

from ..factories import CustomerFactory


def test_revoking_a_role_takes_effect_on_the_next_request(client, advisor, customer):
    client.force_login(advisor)
    assert client.get(customer.get_absolute_url()).status_code == 200
    advisor.groups.remove(Group.objects.get(name=Role.SERVICE_ADVISOR.value))
    assert client.get(customer.get_absolute_url()).status_code == 403


def test_a_permission_taken_from_the_role_is_gone_at_once(client, advisor, customer):
    client.force_login(advisor)
    assert client.get("/customers/new/").status_code == 200
    Group.objects.get(name=Role.SERVICE_ADVISOR.value).permissions.remove(
        *Group.objects.get(name=Role.SERVICE_ADVISOR.value).permissions.filter(codename="add_customer")
    )
    assert client.get("/customers/new/").status_code == 403


def test_leaving_a_rooftop_hides_its_customers_at_once(client, advisor, rooftop, other_rooftop):
    advisor.dealerships.add(other_rooftop)
    stranger = CustomerFactory(dealership=other_rooftop)
    client.force_login(advisor)
    assert client.get(stranger.get_absolute_url()).status_code == 200
    advisor.dealerships.remove(other_rooftop)
    assert client.get(stranger.get_absolute_url()).status_code == 404


def test_a_repeated_search_reads_no_permissions_from_the_database(
    client, advisor, customer, django_assert_max_num_queries
):
    client.force_login(advisor)
    client.get("/search/", {"q": "王小明"})
    # The user row, then the search's own lookups (exact name, name grams) and the row fetch.
    with django_assert_max_num_queries(4):
        response = client.get("/search/", {"q": "王小明"})
    assert "王小明" in response.content.decode()


def test_migrated_roles_have_exactly_the_default_permissions(db):
    from crm.roles import DEFAULT_PERMISSIONS

    for role, expected in DEFAULT_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        granted = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list("content_type__app_label", "codename")
        }
        assert granted == set(expected), role


def test_a_missing_role_group_is_recreated_with_its_defaults(db):
    from crm.roles import ensure_roles

    Group.objects.filter(name=Role.TECHNICIAN.value).delete()
    ensure_roles()
    technician = Group.objects.get(name=Role.TECHNICIAN.value)
    codenames = set(technician.permissions.values_list("codename", flat=True))
    assert "view_vehicle" in codenames and "view_customer_phone" not in codenames
