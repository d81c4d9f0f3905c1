"""The showroom pages over HTTP: the visit log, the consultant's day, the pipeline, the lead page's steps,
quote and order pages, the manager's lost review; roles and rooftops checked, refusals on the form."""

import datetime
from decimal import Decimal

import time_machine

from crm.choices import Role
from crm.models import Customer
from followup.choices import FollowUpKind
from followup.models import FollowUp
from sales import services
from sales.choices import LostReview, OrderStatus, Stage, StockStatus
from sales.models import Activity, Lead, Order, Quote, StockVehicle
from sales.models import TestDrive as Drive

from ..factories import CustomerFactory, UserFactory
from .test_funnel import VIN, local, new_lead

NOW = local(11, 20, 10)


def test_reception_logs_a_walk_in_and_a_returning_visitor_finds_their_lead(client, showroom, consultant):
    client.force_login(consultant)
    with time_machine.travel(NOW, tick=False):
        refused = client.post("/sales/visits/", {"mobile": "13900001111", "party_size": "2"})
        assert refused.status_code == 400 and "A new visitor needs a name" in refused.content.decode()
        assert not Customer.objects.filter(mobile="+8613900001111").exists()
        response = client.post(
            "/sales/visits/",
            {"mobile": "139 0000 1111", "full_name": "李雷", "party_size": "2", "model_of_interest": "ID.4"},
        )
        assert response.status_code == 302
        lead = Lead.objects.get(customer__mobile="+8613900001111")
        assert (lead.source, lead.owner, lead.stage) == ("walk_in", consultant, Stage.CONTACTED)
        # the same visitor back in the afternoon: the visit goes on the open lead, no second lead
        with time_machine.travel(local(11, 20, 15), tick=False):
            client.post("/sales/visits/", {"mobile": "+86 139-0000-1111", "party_size": "3"})
        assert Lead.objects.filter(customer=lead.customer).count() == 1
        assert Activity.objects.filter(lead=lead, kind="visit").count() == 2
        page = client.get("/sales/visits/").content.decode()
        assert page.count("李雷") >= 2 and "Left now" in page
        visit = Activity.objects.filter(lead=lead).earliest("occurred_at")
        client.post("/sales/visits/", {"end": visit.pk})
        visit.refresh_from_db()
        assert visit.ended_at is not None


def test_the_consultants_day_lists_overdue_follow_ups_first(client, showroom, consultant, staff):
    with time_machine.travel(local(11, 10, 10), tick=False):
        overdue = new_lead(consultant, CustomerFactory(dealership=showroom, full_name="赵一"), grade="H")
    with time_machine.travel(local(11, 18, 10), tick=False):
        due = new_lead(consultant, CustomerFactory(dealership=showroom, full_name="钱二"), grade="H")
        new_lead(consultant, CustomerFactory(dealership=showroom, full_name="孙三"), grade="C")
    other = UserFactory(username="other", role=Role.SALES_CONSULTANT, rooftops=[showroom])
    with time_machine.travel(local(11, 10, 10), tick=False):
        new_lead(other, CustomerFactory(dealership=showroom, full_name="周四"), grade="H")
    client.force_login(consultant)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/sales/today/").content.decode()
    assert page.index("赵一") < page.index("钱二")  # overdue (due 11-12) before today's (11-20)
    assert "孙三" not in page and "周四" not in page  # not due yet; another consultant's
    assert 'id="overdue-count">1 overdue' in page
    assert overdue.pk != due.pk


def test_pipeline_counts_and_moves_a_card_on_in_bounded_queries(
    client, showroom, consultant, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        leads = [new_lead(consultant, CustomerFactory(dealership=showroom)) for _ in range(3)]
    client.force_login(consultant)
    client.get("/sales/pipeline/")  # warm the permission cache
    with django_assert_max_num_queries(8):
        small = client.get("/sales/pipeline/")
    assert 'data-count="new">3<' in small.content.decode()
    with time_machine.travel(NOW, tick=False):
        for _ in range(30):
            new_lead(consultant, CustomerFactory(dealership=showroom))
    with django_assert_max_num_queries(8):
        large = client.get("/sales/pipeline/").content.decode()
    assert 'data-count="new">33<' in large and large.count('class="card lead-card') == 25
    lead = leads[0]
    response = client.post(f"/sales/leads/{lead.pk}/advance/", {"version": lead.version, "next": "/sales/pipeline/"})
    lead.refresh_from_db()
    assert response.status_code == 302 and lead.stage == Stage.CONTACTED
    assert lead.events.filter(field="stage", to_value=Stage.CONTACTED).exists()


def test_lead_list_filters_in_bounded_queries(client, showroom, consultant, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        for index in range(12):
            new_lead(consultant, CustomerFactory(dealership=showroom), grade="HA"[index % 2])
    client.force_login(consultant)
    client.get("/sales/leads/")
    for per_page in (25, 100):
        with django_assert_max_num_queries(10):
            page = client.get(
                "/sales/leads/", {"grade": "H", "stage": "new", "source": "walk_in", "per_page": per_page}
            )
        assert page.status_code == 200 and page.content.decode().count('badge grade-H">H<') == 6


def test_the_lead_page_walks_the_steps_and_shows_refusals(client, showroom, customer, consultant, staff):
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(consultant, customer)
        client.force_login(consultant)
        url = f"/sales/leads/{lead.pk}/"
        assert client.post(url + "grade/", {"grade": "A", "version": lead.version}).status_code == 302
        lead.refresh_from_db()
        assert lead.grade == "A" and lead.next_followup_on == datetime.date(2026, 11, 23)
        stale = client.post(url + "grade/", {"grade": "H", "version": lead.version - 1})
        assert stale.status_code == 409 and "reload" in stale.content.decode()
        demo = showroom.demo_vehicles.get()
        expired = client.post(
            url + "test-drive/",
            {
                "demo_vehicle": demo.pk,
                "starts_at": "2026-11-21T10:00",
                "licence_number": "310101199001011234",
                "licence_expires_on": "2026-11-01",
            },
        )
        assert expired.status_code == 400 and "must be valid on the day" in expired.content.decode()
        assert not Drive.objects.exists()
        booked = client.post(
            url + "test-drive/",
            {
                "demo_vehicle": demo.pk,
                "starts_at": "2026-11-21T10:00",
                "licence_number": "310101199001011234",
                "licence_expires_on": "2030-01-01",
            },
        )
        assert booked.status_code == 302
        drive = Drive.objects.get()
        assert drive.starts_at == local(11, 21, 10)  # read in the rooftop's time zone
        bad_quote = client.post(
            url + "quote/",
            {
                "list_price": "-1",
                "discount": "0",
                "accessories_price": "0",
                "trade_in_value": "0",
                "insurance": "0",
                "term_months": "0",
                "annual_rate_percent": "3.99",
                "down_payment": "0",
            },
        )
        body = bad_quote.content.decode()
        assert bad_quote.status_code == 400 and not Quote.objects.exists()
        assert "zero or more" in body and "The term is 1 to 96 months" in body
        stock = StockVehicle.objects.get(vin=VIN)
        quote_response = client.post(
            url + "quote/",
            {
                "stock_vehicle": stock.pk,
                "list_price": "219900.00",
                "discount": "12000.00",
                "accessories_price": "3000",
                "trade_in_value": "0",
                "insurance": "6500",
                "down_payment": "60000",
                "term_months": "36",
                "annual_rate_percent": "3.99",
            },
        )
        quote = Quote.objects.get()
        assert quote_response["Location"] == f"/sales/quotes/{quote.pk}/"
        quote_page = client.get(f"/sales/quotes/{quote.pk}/").content.decode()
        assert "needs-approval" in quote_page and "Create the order" not in quote_page  # 12,000 > the 5,000 limit
        lost = client.post(url + "lost/", {"note": "嫌贵"})
        assert lost.status_code == 400 and "Choose why the lead was lost" in lost.content.decode()
        lead.refresh_from_db()
        assert lead.lost_review == ""
        page = client.get(url).content.decode()
        assert "Timeline" in page and "Grade" in page and "v1" in page


def test_order_page_takes_payments_and_refuses_an_unpaid_delivery(client, showroom, customer, consultant, staff):
    advisor = staff[Role.SERVICE_ADVISOR]
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(consultant, customer)
        stock = StockVehicle.objects.get(vin=VIN)
        quote = services.quote_create(
            actor=consultant, lead_id=lead.pk, model="Tiguan L", list_price=Decimal("219900"), stock_vehicle_id=stock.pk
        )
        client.force_login(consultant)
        too_much = client.post(
            f"/sales/leads/{lead.pk}/order/", {"quote": quote.pk, "stock_vehicle": stock.pk, "deposit": "300000"}
        )
        assert too_much.status_code == 400 and not Order.objects.exists()
        response = client.post(
            f"/sales/leads/{lead.pk}/order/", {"quote": quote.pk, "stock_vehicle": stock.pk, "deposit": "20000"}
        )
        order = Order.objects.get()
        assert response["Location"] == f"/sales/orders/{order.pk}/"
        lead.refresh_from_db()
        assert lead.stage == Stage.ORDERED and lead.next_followup_on is None  # no more calls to chase it
        ticks = {
            f"pdi_{item}": "on"
            for item in ("exterior", "interior", "fluids", "tyres", "electrics", "road_test", "washed")
        }
        ticks |= {
            f"doc_{item}": "on"
            for item in ("invoice", "certificate", "warranty", "manual", "insurance", "keys", "confirmation")
        }
        unpaid = client.post(f"/sales/orders/{order.pk}/deliver/", {"delivery_advisor": advisor.pk, **ticks})
        assert unpaid.status_code == 409 and "Only a paid order is delivered" in unpaid.content.decode()
        order.refresh_from_db()
        assert (
            order.status == OrderStatus.CONTRACTED
            and not FollowUp.objects.filter(kind=FollowUpKind.DELIVERY_FOLLOWUP).exists()
        )
        client.post(f"/sales/orders/{order.pk}/payment/", {"amount": "199900.00"})
        assert StockVehicle.objects.get(vin=VIN).status == StockStatus.SOLD  # paid in full: sold
        missing_pdi = client.post(f"/sales/orders/{order.pk}/deliver/", {"delivery_advisor": advisor.pk})
        assert missing_pdi.status_code == 400 and "Tick every PDI item" in missing_pdi.content.decode()
        delivered = client.post(f"/sales/orders/{order.pk}/deliver/", {"delivery_advisor": advisor.pk, **ticks})
    order.refresh_from_db()
    assert delivered.status_code == 302 and order.status == OrderStatus.DELIVERED
    assert FollowUp.objects.filter(kind=FollowUpKind.DELIVERY_FOLLOWUP, subject_id=order.pk).exists()


def test_roles_and_owners_are_checked(client, showroom, customer, consultant, staff, other_rooftop):
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(consultant, customer)
    other = UserFactory(username="other", role=Role.SALES_CONSULTANT, rooftops=[showroom])
    client.force_login(other)
    assert client.get(f"/sales/leads/{lead.pk}/").status_code == 404
    assert client.post(f"/sales/leads/{lead.pk}/grade/", {"grade": "H"}).status_code == 404
    assert client.get("/sales/lost/").status_code == 403
    lead.refresh_from_db()
    assert lead.grade == ""
    elsewhere = UserFactory(username="elsewhere", role=Role.MANAGER, rooftops=[other_rooftop])
    client.force_login(elsewhere)
    assert client.get(f"/sales/leads/{lead.pk}/").status_code == 404
    client.force_login(staff[Role.TECHNICIAN])
    assert client.get("/sales/pipeline/").status_code == 403
    assert client.get("/sales/today/").status_code == 403


def test_the_manager_reviews_lost_leads_and_sees_why(client, showroom, customer, consultant, manager):
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(consultant, customer)
        reason = services.dealership_lost_reasons(showroom).get(name="Price")
        services.lead_apply_lost(actor=consultant, lead_id=lead.pk, reason_id=reason.pk, note="嫌贵")
        client.force_login(manager)
        page = client.get("/sales/lost/").content.decode()
        assert "嫌贵" in page and "Waiting for your decision" in page
        client.post(f"/sales/leads/{lead.pk}/review/", {"approve": "1", "note": ""})
        lead.refresh_from_db()
        assert (lead.stage, lead.lost_review) == (Stage.LOST, LostReview.APPROVED)
        page = client.get("/sales/lost/").content.decode()
        assert "By reason" in page and "Price" in page
        client.post(f"/sales/leads/{lead.pk}/reactivate/", {})
    lead.refresh_from_db()
    assert lead.stage == Stage.NEW


def test_the_customer_360_shows_the_customers_leads(client, showroom, customer, consultant):
    with time_machine.travel(NOW, tick=False):
        new_lead(consultant, customer)
    client.force_login(consultant)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="customer-leads"' in page and "Tiguan L" in page


def test_the_administrator_configures_cadence_reasons_demo_cars_and_stock(client, showroom, staff, other_rooftop):
    admin_user = staff[Role.ADMINISTRATOR]
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    StockVehicle.objects.create(
        dealership=other_rooftop, vin="LSVOTHER000000001", make="VW", model="Passat", list_price=1
    )
    client.force_login(admin_user)
    for model in ("salessettings", "lostreason", "demovehicle", "stockvehicle"):
        assert client.get(f"/admin/sales/{model}/").status_code == 200
    stock = client.get("/admin/sales/stockvehicle/").content.decode()
    assert VIN in stock and "LSVOTHER000000001" not in stock  # another rooftop's stock is not listed


def test_a_lead_follow_up_in_the_call_queue_opens_the_lead(client, showroom, customer, consultant):
    with time_machine.travel(local(11, 10, 10), tick=False):
        lead = new_lead(consultant, customer, grade="H")
    call = FollowUp.objects.get(kind=FollowUpKind.LEAD_FOLLOWUP, subject_id=lead.pk)
    client.force_login(consultant)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/followups/", {"call": call.pk}).content.decode()
    assert f'href="/sales/leads/{lead.pk}/" id="call-subject"' in page


def test_stock_list_shows_days_in_stock_in_bounded_queries(
    client, showroom, consultant, other_rooftop, django_assert_max_num_queries
):
    StockVehicle.objects.filter(vin=VIN).update(arrived_on=datetime.date(2026, 7, 1))
    StockVehicle.objects.create(
        dealership=other_rooftop, vin="LSVOTHER000000001", make="VW", model="Passat", list_price=1
    )
    client.force_login(consultant)
    client.get("/sales/stock/")
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(8):
        page = client.get("/sales/stock/", {"status": "in_stock"}).content.decode()
    assert VIN in page and "LSVOTHER000000001" not in page
    assert ">142<" in page  # 1 July to 20 November, over 90 days: in red


def test_the_showroom_pages_speak_chinese(client, showroom, customer, consultant):
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(consultant, customer, grade="H")
    client.force_login(consultant)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    pipeline = client.get("/sales/pipeline/").content.decode()
    assert "销售漏斗" in pipeline and "需求分析" in pipeline
    detail = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "意向级别" in detail and "试乘试驾" in detail and "跟进记录" in detail


def test_a_new_lead_for_a_customer_on_file(client, showroom, customer, consultant, other_rooftop):
    client.force_login(consultant)
    stranger = CustomerFactory(dealership=other_rooftop)
    assert client.get("/sales/leads/new/", {"customer": stranger.pk}).status_code == 404
    refused = client.post(f"/sales/leads/new/?customer={customer.pk}", {"source": "referral"})
    assert refused.status_code == 400 and "Who referred them?" in refused.content.decode()
    response = client.post(
        f"/sales/leads/new/?customer={customer.pk}", {"source": "phone", "model_of_interest": "ID.4", "grade": "A"}
    )
    lead = Lead.objects.get(customer=customer)
    assert response["Location"] == f"/sales/leads/{lead.pk}/" and (lead.source, lead.grade) == ("phone", "A")
