"""The header search: one box finds customers and vehicles by name, phone, last 4 digits, plate or VIN.

Every key kind is answered from an index whatever its length (see the EXPLAIN tests):

* names: our GIN index of 1- and 2-character grams (``dms_name_grams``), because pg_trgm cannot
  index a pattern shorter than 3 characters and Chinese names are often 2 or 3 characters;
* a whole phone number: B-tree equality on the E.164 form; a phone fragment: pg_trgm;
* 4 digits: B-tree on the last 4 digits of the phones and of the plate;
* plate and VIN fragments: pg_trgm (upper-case stored, so ``LIKE`` matches the index); a
  1–2 character plate start: a ``varchar_pattern_ops`` B-tree prefix scan.

Matches are taken unordered with a LIMIT (see ``first_matches``) so the cost stays flat as the
tables grow: an ORDER BY would sort every match. Exact name hits are looked up first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Right

from .models import Customer, Vehicle
from .querysets import NameGrams, NameKey, user_dealership_ids, user_may, user_phone_region
from .validators import MAINLAND_PROVINCES, plate_normalize

RESULT_LIMIT = 8
PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
NAME_KEY_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
ALPHANUMERIC = re.compile(r"^[A-Z0-9]+$")
PLATE_START = re.compile(rf"^[{MAINLAND_PROVINCES}][A-Z][A-Z0-9]*$")


class SearchKind:
    NAME = "name"
    PHONE = "phone"
    LAST4 = "last4"
    PLATE_OR_VIN = "plate_or_vin"
    EMPTY = "empty"


@dataclass
class SearchResults:
    query: str
    kind: str
    customers: list[Customer] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.customers and not self.vehicles


def name_key(value: str) -> str:
    """Python twin of the SQL ``dms_name_key``: lower case without spaces and punctuation."""
    return NAME_KEY_STRIP.sub("", value).lower()


def name_query_grams(key: str) -> list[str]:
    if len(key) == 1:
        return [key]
    return sorted({key[position : position + 2] for position in range(len(key) - 1)})


def classify(query: str) -> str:
    query = query.strip()
    if not query:
        return SearchKind.EMPTY
    digits = PHONE_PUNCTUATION.sub("", query)
    if digits.lstrip("+").isdigit():
        return SearchKind.LAST4 if len(digits) == 4 else SearchKind.PHONE
    if ALPHANUMERIC.match(plate_normalize(query)) and any(char.isdigit() for char in query):
        return SearchKind.PLATE_OR_VIN
    if PLATE_START.match(plate_normalize(query)):
        return SearchKind.PLATE_OR_VIN  # 沪A, 沪A123
    return SearchKind.NAME


def _customer_name_filter(key: str) -> Q:
    return Q(name_grams__contains=name_query_grams(key), name_key__contains=key)


def _customers_by_name(customers: QuerySet, query: str, limit: int) -> list[Customer]:
    key = name_key(query)
    if not key:
        return []
    customers = customers.alias(name_grams=NameGrams("full_name"), name_key=NameKey("full_name"))
    found = first_matches(customers, [Q(full_name=query.strip()), _customer_name_filter(key)], limit)
    return sorted(found, key=lambda customer: customer.full_name != query.strip())  # exact hits first


def _phone_conditions(query: str, region: str) -> list[Q]:
    digits = PHONE_PUNCTUATION.sub("", query)
    try:
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return [Q(mobile=e164) | Q(other_phone=e164)]  # two B-tree equalities: a cheap BitmapOr
    except phonenumbers.NumberParseException:
        pass
    fragment = digits.lstrip("+")
    if len(fragment) < 3:
        return []
    return [Q(mobile__contains=fragment), Q(other_phone__contains=fragment)]


def _vehicles_by_plate_or_vin(vehicles: QuerySet, query: str, limit: int) -> list[Vehicle]:
    key = plate_normalize(query)
    if len(key) < 3:
        return first_matches(vehicles, [Q(plate__startswith=key)], limit)
    conditions = [Q(plate__contains=key)]
    if ALPHANUMERIC.match(key):
        conditions.append(Q(vin__contains=key))
    return first_matches(vehicles, conditions, limit)


def search(user, query: str, *, limit: int = RESULT_LIMIT) -> SearchResults:
    """Customers and vehicles in ``user``'s rooftops matching ``query``; at most ``limit`` of each."""
    query = (query or "").strip()[:100]
    results = SearchResults(query=query, kind=classify(query))
    if results.kind == SearchKind.EMPTY:
        return results
    _fill(results, user, limit)
    return results


def first_ids(queryset: QuerySet, limit: int) -> list[int]:
    """Ids of the first ``limit`` rows of ``queryset``, found through the index that serves its filter.

    Asked for a few rows matching a condition it thinks is rare, PostgreSQL bets that walking the
    table (or the rooftop's foreign-key index) will meet them early; on a large table the bet reads
    every row. A MATERIALIZED CTE is planned as if every row were wanted, so the filter's own index
    is chosen, and it is still read lazily: the LIMIT stops it after ``limit`` hits. Give it one
    indexed condition at a time: an OR of two trigram conditions is costed above a sequential scan.
    """
    if limit <= 0:
        return []
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"WITH hits AS MATERIALIZED ({sql}) SELECT * FROM hits LIMIT %s", [*params, limit])  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def first_matches(queryset: QuerySet, conditions: list[Q], limit: int) -> list:
    """Rows matching any of ``conditions``, looked up one condition (one index) at a time."""
    ids: list[int] = []
    for condition in conditions:
        ids += first_ids(queryset.filter(condition).exclude(pk__in=ids), limit - len(ids))
    if not ids:
        return []
    return list(queryset.filter(pk__in=ids))


def _fill(results: SearchResults, user, limit: int) -> None:
    query, kind = results.query, results.kind
    rooftops = user_dealership_ids(user)
    customers = Customer.objects.none()
    if user_may(user, "view", Customer):
        customers = Customer.objects.filter(dealership_id__in=rooftops).select_related("dealership").order_by()
    vehicles = Vehicle.objects.none()
    if user_may(user, "view", Vehicle):
        vehicles = Vehicle.objects.filter(dealership_id__in=rooftops).select_related("owner", "dealership").order_by()

    if kind == SearchKind.NAME:
        results.customers = _customers_by_name(customers, query, limit)
    elif kind == SearchKind.LAST4:
        customers = customers.alias(mobile_last4=Right("mobile", 4), other_last4=Right("other_phone", 4))
        results.customers = first_matches(customers, [Q(mobile_last4=query) | Q(other_last4=query)], limit)
        vehicles = vehicles.alias(plate_last4=Right("plate", 4))
        results.vehicles = first_matches(vehicles, [Q(plate_last4=query)], limit)
    elif kind == SearchKind.PHONE:
        results.customers = first_matches(customers, _phone_conditions(query, user_phone_region(user)), limit)
        digits = PHONE_PUNCTUATION.sub("", query).lstrip("+")
        if 5 <= len(digits) <= 8:  # the last 6 or 8 of a VIN are often all digits ("VIN 后六位")
            results.vehicles = first_matches(vehicles, [Q(vin__contains=digits)], limit)
    else:
        results.vehicles = _vehicles_by_plate_or_vin(vehicles, query, limit)
