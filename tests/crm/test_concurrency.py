"""Two front desks saving at the same moment: real concurrent transactions on PostgreSQL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm import services
from crm.models import Customer


def run_together(functions):
    """Run each function in its own thread and database connection, released at the same instant."""
    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            outcomes[index] = function()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_same_mobile_created_twice_at_once_gives_one_customer_and_one_clear_error(staff, rooftop):
    from crm.choices import Role

    actors = [staff[Role.SERVICE_ADVISOR], staff[Role.SALES_CONSULTANT]] * 4

    def create(actor, name):
        return lambda: services.customer_create(
            actor=actor, dealership=rooftop.pk, data={"full_name": name, "mobile": "13912345678"}
        )

    outcomes = run_together([create(actor, f"客户{index}") for index, actor in enumerate(actors)])
    created = [outcome for outcome in outcomes if isinstance(outcome, Customer)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(created) == 1, outcomes
    assert len(refused) == len(actors) - 1, outcomes
    assert all(f"/customers/{created[0].pk}/" in error.message_dict["mobile"][0] for error in refused)
    assert Customer.objects.filter(mobile="+8613912345678").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_customer_lose_no_update(staff, rooftop):
    from crm.choices import Role

    customer = services.customer_create(
        actor=staff[Role.SERVICE_ADVISOR], dealership=rooftop.pk, data={"full_name": "王五", "mobile": "13700000000"}
    )
    edits = [("email", "a@example.cn"), ("notes", "prefers mornings"), ("other_phone", "021 6888 8888")]
    outcomes = run_together(
        [
            (
                lambda field=field, value=value: services.customer_update(
                    actor=staff[Role.SERVICE_ADVISOR], customer_id=customer.pk, data={field: value}
                )
            )
            for field, value in edits
        ]
    )
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    customer.refresh_from_db()
    assert (customer.email, customer.notes, customer.other_phone) == (
        "a@example.cn",
        "prefers mornings",
        "+862168888888",
    )
    assert customer.version == 4
