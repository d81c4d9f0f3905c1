"""Segments 客户细分: each criterion alone and combined against a hand-built book of customers, the builder on
the customer list, saved segments with their live count, and the audited CSV export of consenting customers."""

import csv
import datetime
import io
import re
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from crm.choices import Role
from crm.models import ExportLog, Segment
from crm.segments import criteria_clean, segment_customers, segment_export_csv, segment_save
from sales.models import Lead
from service.models import Payment, RepairOrder

from ..conftest import api_client_for
from ..factories import CustomerFactory, VehicleFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def at(day: str, time: str = "10:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


class Book:
    """Seven customers of SH01 (and one of BJ01 who must never show) with known vehicles, visits, payments,
    leads, tags and consent."""

    def __init__(self, rooftop, other_rooftop, consultant):
        self.rooftop, self.sequence = rooftop, 0
        self.consultant = consultant
        self.by_name = {}
        # name: consent, tags, (model, purchased, km) or None, [(check-in, paid, cancelled)], lead grade
        plan = {
            "赵一": (
                True,
                ["VIP"],
                ("Lavida", "2020-03-01", 80_000),
                [("2025-07-01 00:30", "1500", False), ("2026-02-10", "800", False)],
                "H",
            ),
            "钱二": (True, [], ("Tiguan L", "2024-01-10", 20_000), [("2026-05-20", "600", False)], "A"),
            "孙三": (False, ["VIP", "fleet"], ("Lavida", "2018-05-01", 150_000), [], None),
            "李四": (
                True,
                ["fleet"],
                ("Passat", "2022-09-01", 45_000),
                [
                    ("2024-12-01", "1000", False),
                    ("2025-11-01", "1000", False),
                    ("2026-01-15", "1000", False),
                    ("2026-03-01", "2000", False),
                    ("2026-04-01", "9999", True),  # cancelled: neither a visit nor spend
                ],
                "B",
            ),
            "周五": (True, [], None, [], "C"),
            "吴六": (False, ["VIP"], ("Lavida", "2025-10-01", None), [("2026-06-01", "300", False)], None),
            "郑七": (False, [], ("Tiguan L", "2019-06-20", 99_000), [("2025-06-30 23:30", "12000", False)], "H"),
        }
        for number, (name, (consent, tags, car, visits, grade)) in enumerate(plan.items()):
            self.add(rooftop, name, number, consent, tags, car, visits, grade)
        self.add(other_rooftop, "王八", 99, True, ["VIP"], ("Lavida", "2020-01-01", 90_000), [], "H")

    def add(self, rooftop, name, number, consent, tags, car, visits, grade):
        customer = CustomerFactory(
            dealership=rooftop,
            full_name=name,
            mobile=f"+86138000{number:05d}",
            marketing_consent=consent,
            tags=tags,
        )
        self.by_name[name] = customer
        vehicle = None
        if car:
            model, purchased, km = car
            vehicle = VehicleFactory(
                dealership=rooftop,
                owner=customer,
                model=model,
                purchased_on=datetime.date.fromisoformat(purchased),
                odometer_km=km,
            )
        for when, paid, cancelled in visits:
            day, _, time = when.partition(" ")
            self.sequence += 1
            repair_order = RepairOrder.objects.create(
                dealership=rooftop,
                number=f"RO-{self.sequence}",
                year=2026,
                sequence=self.sequence,
                customer=customer,
                vehicle=vehicle,
                service_type="maintenance",
                status="cancelled" if cancelled else "delivered",
                odometer_km=1000,
                concern="保养",
                tax_rate="0.1300",
                checked_in_at=at(day, time or "10:00"),
            )
            Payment.objects.create(repair_order=repair_order, amount=Decimal(paid), method="wechat")
        if grade:
            Lead.objects.create(
                dealership=rooftop, customer=customer, owner=self.consultant, source="phone", grade=grade
            )


@pytest.fixture
def book(rooftop, other_rooftop, staff):
    return Book(rooftop, other_rooftop, staff[Role.SALES_CONSULTANT])


def names(rooftop, **raw) -> set[str]:
    return set(segment_customers(criteria=criteria_clean(raw), dealership=rooftop).values_list("full_name", flat=True))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"vehicle_model": "lavida"}, {"赵一", "孙三", "吴六"}),
        ({"vehicle_model": "Tig"}, {"钱二", "郑七"}),
        ({"vehicle_age_min": 5}, {"赵一", "孙三", "郑七"}),  # bought on or before 2021-06-15
        ({"vehicle_age_max": 3}, {"钱二", "李四", "吴六"}),  # bought after 2022-06-15
        ({"vehicle_age_min": 6, "vehicle_age_max": 6}, {"赵一", "郑七"}),
        ({"mileage_min": 50_000}, {"赵一", "孙三", "郑七"}),
        ({"mileage_max": 50_000}, {"钱二", "李四"}),  # 吴六's odometer was never read
        # 00:30 on 1 July in Shanghai counts from 1 July; 23:30 on 30 June does not
        ({"visits_since": "2025-07-01", "visits_min": 2}, {"赵一", "李四"}),
        ({"visits_since": "2025-07-01", "visits_max": 1}, {"钱二", "孙三", "周五", "吴六", "郑七"}),
        ({"visits_since": "2025-07-01", "visits_until": "2026-01-31", "visits_min": 2}, {"李四"}),
        ({"last_visit_after": "2026-03-01"}, {"钱二", "李四", "吴六"}),  # 李四's cancelled April visit ignored
        ({"last_visit_before": "2025-12-31"}, {"郑七"}),
        ({"spend_min": "2000"}, {"赵一", "李四", "郑七"}),
        ({"spend_max": "1000"}, {"钱二", "孙三", "周五", "吴六"}),
        ({"grade": ["H"]}, {"赵一", "郑七"}),
        ({"grade": ["A", "B"]}, {"钱二", "李四"}),
        ({"tag": "VIP"}, {"赵一", "孙三", "吴六"}),
        ({"tag": "fleet"}, {"孙三", "李四"}),
        ({"consent": True}, {"赵一", "钱二", "李四", "周五"}),
        ({"consent": "false"}, {"孙三", "吴六", "郑七"}),
    ],
)
def test_each_criterion_alone(book, rooftop, raw, expected):
    assert names(rooftop, **raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"vehicle_model": "Lavida", "tag": "VIP", "consent": True}, {"赵一"}),
        ({"mileage_min": 50_000, "spend_min": "2000"}, {"赵一", "郑七"}),
        ({"visits_since": "2025-07-01", "visits_min": 1, "grade": ["A", "B"]}, {"钱二", "李四"}),
        ({"vehicle_age_max": 3, "last_visit_after": "2026-03-01", "spend_max": "1000"}, {"钱二", "吴六"}),
        ({"tag": "VIP", "consent": False, "mileage_min": 100_000}, {"孙三"}),
        ({"grade": ["C"], "vehicle_model": "Lavida"}, set()),
    ],
)
def test_criteria_combined(book, rooftop, raw, expected):
    assert names(rooftop, **raw) == expected


# --- bad input: contradictions, unknown criteria ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"spend_min": "500", "spend_max": "100"}, "spend_max"),
        ({"vehicle_age_min": 5, "vehicle_age_max": 2}, "vehicle_age_max"),
        ({"visits_since": "2026-02-01", "visits_until": "2026-01-01"}, "visits_until"),
        ({"last_visit_after": "2026-05-01", "last_visit_before": "2026-04-01"}, "last_visit_before"),
        ({"visits_min": 2}, "visits_since"),
        ({"mileage_min": "-5"}, "mileage_min"),
        ({"grade": ["Z"]}, "grade"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_contradictory_or_unknown_criteria_are_refused_and_nothing_is_saved(rooftop, staff, raw, field):
    manager = staff[Role.MANAGER]
    with pytest.raises(ValidationError) as refused:
        segment_save(actor=manager, dealership=rooftop, name="坏的", criteria=raw)
    assert field in refused.value.message_dict and refused.value.message_dict[field][0]
    assert not Segment.objects.exists()


def test_a_segment_needs_a_name_a_criterion_and_a_free_name(rooftop, staff):
    manager = staff[Role.MANAGER]
    with pytest.raises(ValidationError) as refused:
        segment_save(actor=manager, dealership=rooftop, name=" ", criteria={})
    assert set(refused.value.message_dict) == {"name", "criteria"}
    segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    with pytest.raises(ValidationError) as taken:
        segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "fleet"})
    assert "name" in taken.value.message_dict
    assert list(Segment.objects.values_list("criteria", flat=True)) == [{"tag": "VIP"}]


def test_saving_needs_the_role_and_the_rooftop(rooftop, other_rooftop, staff):
    with pytest.raises(PermissionDenied):
        segment_save(actor=staff[Role.SERVICE_ADVISOR], dealership=rooftop, name="x", criteria={"tag": "VIP"})
    with pytest.raises(PermissionDenied):
        segment_save(actor=staff[Role.MANAGER], dealership=other_rooftop, name="x", criteria={"tag": "VIP"})
    assert not Segment.objects.exists()


# --- the builder on the customer list -------------------------------------------------------------


def test_the_customer_list_applies_the_segment_on_top_of_its_filters(client, book, staff):
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    html = client.get("/customers/", {"tag": "VIP"}).content.decode()
    assert "3 customers in this segment" in html
    assert all(name in html for name in ("赵一", "孙三", "吴六")) and "钱二" not in html and "王八" not in html
    assert 'id="segment-save"' in html and 'id="segment-export"' not in html  # specialists do not export
    narrowed = client.get("/customers/", {"tag": "VIP", "marketing_consent": "true"}).content.decode()
    assert "1 customer in this segment" in narrowed and "孙三" not in narrowed
    # the htmx swap carries the count and the actions too
    swapped = client.get("/customers/", {"tag": "VIP"}, HTTP_HX_REQUEST="true").content.decode()
    assert "3 customers in this segment" in swapped and "<nav" not in swapped


def test_the_builder_shows_each_contradiction_and_no_customer(client, book, staff):
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    response = client.get("/customers/", {"spend_min": "500", "spend_max": "100", "tag": "VIP"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="segment-errors"' in html
    assert "Spent at most (¥): This cannot be below spent at least (¥)." in html
    assert "赵一" not in html and 'id="segment-save"' not in html
    typo = client.get("/customers/", {"visits_min": "two"}).content.decode()
    assert 'id="segment-errors"' in typo and "At least this many visits" in typo


def test_the_segment_panel_is_collapsed_until_used(client, book, advisor):
    client.force_login(advisor)
    html = client.get("/customers/").content.decode()
    assert 'id="segment-panel"' in html and 'class="collapse" id="segment-panel"' in html
    assert 'id="segment-summary"' not in html
    opened = client.get("/customers/", {"grade": "H"}).content.decode()
    assert 'class="collapse show" id="segment-panel"' in opened and "2 customers in this segment" in opened
    assert 'id="segment-save"' not in opened  # advisors build, but do not save segments


def test_the_customer_api_takes_the_criteria_and_refuses_a_contradiction(book, advisor):
    api = api_client_for(advisor)
    listed = api.get("/api/customers/", {"tag": "VIP", "consent": "true"})
    assert [row["full_name"] for row in listed.data["results"]] == ["赵一"]
    refused = api.get("/api/customers/", {"mileage_min": 9, "mileage_max": 1})
    assert refused.status_code == 400 and "mileage_max" in refused.data


# --- saving and the saved segments -------------------------------------------------------------------


def test_save_as_segment_from_the_builder(client, book, rooftop, staff):
    specialist = staff[Role.CUSTOMER_SPECIALIST]
    client.force_login(specialist)
    form = client.get("/segments/new/", {"tag": "VIP", "grade": ["H", "A"], "dealership": rooftop.pk})
    html = form.content.decode()
    assert (
        'value="VIP"' in html
        and re.search(r'value="H"[^>]*checked', html)
        and not re.search(r'value="B"[^>]*checked', html)
    )
    response = client.post(
        "/segments/new/", {"name": "VIP 高意向", "dealership": rooftop.pk, "tag": "VIP", "grade": ["H", "A"]}
    )
    segment = Segment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/segments/{segment.pk}/"
    assert segment.criteria == {"tag": "VIP", "grade": ["A", "H"]} and segment.created_by == specialist
    detail = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "1 customer now" in detail and "赵一" in detail and "孙三" not in detail


def test_a_contradictory_segment_shows_its_field_errors_and_saves_nothing(client, rooftop, staff):
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    response = client.post(
        "/segments/new/",
        {"name": "矛盾", "dealership": rooftop.pk, "spend_min": "500", "spend_max": "100", "visits_min": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="spend_max"' in html and 'data-field="visits_since"' in html
    assert not Segment.objects.exists()


def test_the_segment_list_counts_each_segment_now(client, book, rooftop, other_rooftop, staff):
    manager = staff[Role.MANAGER]
    segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    segment_save(actor=manager, dealership=rooftop, name="大客户", criteria={"spend_min": "2000"})
    Segment.objects.create(dealership=other_rooftop, name="别家", criteria={"tag": "VIP"})
    client.force_login(manager)
    html = client.get("/segments/").content.decode()
    assert "别家" not in html
    assert counts(html) == {"VIP": 3, "大客户": 3}  # sorted by name: 大客户 (赵一, 李四, 郑七), then VIP
    CustomerFactory(dealership=rooftop, full_name="新VIP", tags=["VIP"])
    assert counts(client.get("/segments/").content.decode()) == {"VIP": 4, "大客户": 3}  # live


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'<a href="/segments/\d+/">([^<]+)</a>.*?<td class="segment-count">(\d+)</td>', html, re.S)
    return {name: int(count) for name, count in found}


def test_segment_pages_are_scoped_and_need_the_role(client, rooftop, other_rooftop, staff):
    theirs = Segment.objects.create(dealership=other_rooftop, name="别家", criteria={"tag": "VIP"})
    client.force_login(staff[Role.MANAGER])
    assert client.get(f"/segments/{theirs.pk}/").status_code == 404
    assert client.post(f"/segments/{theirs.pk}/export.csv").status_code == 404
    client.force_login(staff[Role.SERVICE_ADVISOR])
    assert client.get("/segments/").status_code == 403
    assert client.get("/segments/new/").status_code == 403
    assert not ExportLog.objects.exists()


# --- the audited export ------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_export_has_only_consenting_customers_and_is_logged(client, book, rooftop, staff):
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    client.force_login(manager)
    response = client.post(f"/segments/{segment.pk}/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:4] == ["Name", "Mobile", "Email", "Preferred channel"]
    assert [row[0] for row in rows] == ["赵一"]  # 孙三 and 吴六 did not consent
    assert rows[0][1] == "+8613800000000" and rows[0][6] == f"Lavida {book.by_name['赵一'].vehicles.get().plate}"
    log = ExportLog.objects.get()
    assert (log.user, log.segment, log.row_count, log.dealership) == (manager, segment, 1, rooftop)
    assert log.criteria == {"tag": "VIP"}


def test_a_non_manager_gets_403_and_no_log(client, book, rooftop, staff):
    segment = segment_save(actor=staff[Role.MANAGER], dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    for role in (Role.CUSTOMER_SPECIALIST, Role.SERVICE_ADVISOR, Role.TECHNICIAN):
        client.force_login(staff[role])
        assert client.post(f"/segments/{segment.pk}/export.csv").status_code == 403
        assert client.post("/segments/export.csv", {"tag": "VIP", "dealership": rooftop.pk}).status_code == 403
        assert api_client_for(staff[role]).post(f"/api/segments/{segment.pk}/export/").status_code == 403
    with pytest.raises(PermissionDenied):
        segment_export_csv(actor=staff[Role.CUSTOMER_SPECIALIST], dealership=rooftop, criteria={"tag": "VIP"})
    assert not ExportLog.objects.exists()


def test_a_segment_nobody_consented_in_gives_a_message_not_a_file(client, book, rooftop, staff):
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="未同意", criteria={"consent": False})
    client.force_login(manager)
    response = client.post(f"/segments/{segment.pk}/export.csv", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/segments/{segment.pk}/"
    assert "customers consented to marketing, so there is nothing to export" in html
    empty = segment_save(actor=manager, dealership=rooftop, name="空", criteria={"tag": "无此标签"})
    html = client.post(f"/segments/{empty.pk}/export.csv", follow=True).content.decode()
    assert "No customer is in this segment" in html
    refused = api_client_for(manager).post(f"/api/segments/{segment.pk}/export/")
    assert refused.status_code == 400 and "consented" in str(refused.data)
    assert not ExportLog.objects.exists()


def test_export_from_the_builder_with_unsaved_criteria(client, book, rooftop, staff):
    manager = staff[Role.MANAGER]
    client.force_login(manager)
    html = client.get("/customers/", {"grade": ["H", "A"]}).content.decode()
    assert 'id="segment-export"' in html and 'name="grade" value="H"' in html
    response = client.post("/segments/export.csv", {"grade": ["H", "A"], "dealership": rooftop.pk})
    assert sorted(row[0] for row in read_csv(response)[1:]) == ["赵一", "钱二"]  # 郑七 did not consent
    log = ExportLog.objects.get()
    assert log.segment is None and log.criteria == {"grade": ["A", "H"]} and log.row_count == 2
    refused = client.post("/segments/export.csv", {"spend_min": "9", "spend_max": "1", "dealership": rooftop.pk})
    assert refused.status_code == 302 and "spend_min=9" in refused["Location"]
    assert ExportLog.objects.count() == 1


def test_an_interrupted_download_still_logs_what_was_sent(book, rooftop, staff):
    lines = segment_export_csv(actor=staff[Role.MANAGER], dealership=rooftop, criteria={"consent": True})
    next(lines), next(lines)  # the header and one customer, then the client goes away
    lines.close()
    assert ExportLog.objects.get().row_count == 1


# --- the API --------------------------------------------------------------------------------------


def test_api_creates_lists_and_retrieves_segments_with_live_counts(book, rooftop, other_rooftop, staff):
    api = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    created = api.post(
        "/api/segments/",
        {"name": "老车", "dealership": rooftop.pk, "criteria": {"vehicle_age_min": 5, "mileage_min": 50000}},
        format="json",
    )
    assert created.status_code == 201, created.data
    assert created.data["customer_count"] == 3 and created.data["criteria"] == {
        "vehicle_age_min": 5,
        "mileage_min": 50000,
    }
    Segment.objects.create(dealership=other_rooftop, name="别家", criteria={"tag": "VIP"})
    listed = api.get("/api/segments/")
    assert [(row["name"], row["customer_count"]) for row in listed.data["results"]] == [("老车", 3)]
    assert api.get(f"/api/segments/{created.data['id']}/").data["customer_count"] == 3
    theirs = Segment.objects.get(name="别家")
    assert api.get(f"/api/segments/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/segments/{theirs.pk}/customers/").status_code == 404


def test_api_refuses_contradictory_and_unknown_criteria_with_field_messages(rooftop, staff):
    api = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    response = api.post(
        "/api/segments/",
        {"name": "坏", "dealership": rooftop.pk, "criteria": {"spend_min": 500, "spend_max": 100, "colour": "red"}},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data["criteria"]) == {"spend_max", "colour"}
    assert "not a segment criterion" in str(response.data["criteria"]["colour"][0])
    empty = api.post("/api/segments/", {"name": "空", "dealership": rooftop.pk, "criteria": {}}, format="json")
    assert empty.status_code == 400 and "criteria" in empty.data
    assert not Segment.objects.exists()


def test_api_segment_customers_are_paginated_with_masked_phones(book, rooftop, staff):
    segment = segment_save(actor=staff[Role.MANAGER], dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    response = api_client_for(staff[Role.CUSTOMER_SPECIALIST]).get(f"/api/segments/{segment.pk}/customers/")
    assert response.data["count"] == 3
    assert {row["mobile"] for row in response.data["results"]} == {
        "+86 138****0000",
        "+86 138****0002",
        "+86 138****0005",
    }


def test_api_export_streams_consenting_customers_and_logs(book, rooftop, staff):
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="H", criteria={"grade": ["H"]})
    response = api_client_for(manager).post(f"/api/segments/{segment.pk}/export/")
    assert response.status_code == 200
    assert [row[0] for row in read_csv(response)[1:]] == ["赵一"]
    assert ExportLog.objects.get().row_count == 1


def test_the_export_log_page_is_for_managers(client, book, rooftop, staff):
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP"})
    client.force_login(manager)
    read_csv(client.post(f"/segments/{segment.pk}/export.csv"))
    html = client.get("/segments/exports/").content.decode()
    assert "VIP" in html and str(manager) in html and "Tag: VIP" in html
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    assert client.get("/segments/exports/").status_code == 403


# --- bounded queries -------------------------------------------------------------------------------
# Each bound counts the session's user and, when another process retired the cached permission snapshot
# (crm.authz), its 4 queries.


def more_customers(rooftop, count):
    for index in range(count):
        customer = CustomerFactory(dealership=rooftop, tags=["VIP"], marketing_consent=True)
        VehicleFactory(dealership=rooftop, owner=customer, odometer_km=60_000 + index)


SEGMENT_QUERY = {"tag": "VIP", "mileage_min": "50000", "visits_since": "2025-01-01", "visits_max": "3"}


@pytest.mark.parametrize("extra", [0, 60])
def test_customer_list_with_a_segment_runs_bounded_queries(
    client, book, rooftop, staff, extra, django_assert_max_num_queries
):
    more_customers(rooftop, extra)
    client.force_login(staff[Role.MANAGER])
    client.get("/customers/", SEGMENT_QUERY)  # warm the session and permission caches
    with django_assert_max_num_queries(10):  # + rooftops' zones, count, 2 filter choices, the page
        html = client.get("/customers/", {**SEGMENT_QUERY, "per_page": "100"}).content.decode()
    assert f"{2 + extra} customers in this segment" in html


@pytest.mark.parametrize("extra", [0, 30])
def test_segment_list_and_api_run_bounded_queries(client, book, rooftop, staff, extra, django_assert_max_num_queries):
    manager = staff[Role.MANAGER]
    for index in range(2 + extra):
        Segment.objects.create(dealership=rooftop, name=f"S{index:02d}", criteria={"tag": "VIP"}, created_by=manager)
    client.force_login(manager)
    client.get("/segments/")
    shown = min(2 + extra, 20)  # one count per segment shown, 20 a page
    with django_assert_max_num_queries(7 + shown):  # + count, the page, one count per segment
        html = client.get("/segments/").content.decode()
    assert len(counts(html)) == shown and set(counts(html).values()) == {3}
    api = api_client_for(manager)
    with django_assert_max_num_queries(6 + shown):
        listed = api.get("/api/segments/")
    assert len(listed.data["results"]) == shown and listed.data["count"] == 2 + extra


@pytest.mark.parametrize("extra", [0, 40])
def test_segment_detail_and_api_customers_run_bounded_queries(
    client, rooftop, staff, extra, django_assert_max_num_queries
):
    more_customers(rooftop, 3 + extra)
    manager = staff[Role.MANAGER]
    segment = segment_save(actor=manager, dealership=rooftop, name="VIP", criteria={"tag": "VIP", "mileage_min": 1})
    client.force_login(manager)
    client.get(f"/segments/{segment.pk}/")
    with django_assert_max_num_queries(8):  # + the segment, the count, the page
        html = client.get(f"/segments/{segment.pk}/").content.decode()
    assert f"{3 + extra} customers now" in html
    with django_assert_max_num_queries(7):
        assert api_client_for(manager).get(f"/api/segments/{segment.pk}/customers/").data["count"] == 3 + extra
