"""The header search: one box finds customers and vehicles by name, phone, last 4 digits, plate or VIN.

Every key kind is answered from an index whatever its length (see the EXPLAIN tests):

* names: our GIN index of 1- and 2-character grams (``dms_name_grams``), because pg_trgm cannot
  index a pattern shorter than 3 characters and Chinese names are often 2 or 3 characters;
* a whole phone number: B-tree equality on the E.164 form; a phone fragment: pg_trgm;
* 4 digits: B-tree on the last 4 digits of the phones and of the plate;
* plate and VIN fragments: pg_trgm (upper-case stored, so ``LIKE`` matches the index); a
  1–2 character plate start: a ``varchar_pattern_ops`` B-tree prefix scan.

Matches are taken unordered with a LIMIT so the cost stays flat as the tables grow; exact hits
are looked up first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.db.models import Q, QuerySet
from django.db.models.functions import Right

from .models import Customer, Dealership, Vehicle
from .querysets import NameGrams, NameKey, user_dealership_ids, user_may
from .validators import plate_normalize

RESULT_LIMIT = 8
PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
NAME_KEY_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
ALPHANUMERIC = re.compile(r"^[A-Z0-9]+$")


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
    if re.match(r"^[\u4e00-\u9fff][A-Za-z]", query) and any(char.isdigit() for char in query):
        return SearchKind.PLATE_OR_VIN  # 沪A1234
    return SearchKind.NAME


def _customer_name_filter(key: str) -> Q:
    return Q(name_grams__contains=name_query_grams(key), name_key__contains=key)


def _customers_by_name(customers: QuerySet, query: str) -> list[Customer]:
    key = name_key(query)
    if not key:
        return []
    exact = list(customers.filter(full_name=query.strip())[:RESULT_LIMIT])
    if len(exact) >= RESULT_LIMIT:
        return exact
    rest = (
        customers.alias(name_grams=NameGrams("full_name"), name_key=NameKey("full_name"))
        .filter(_customer_name_filter(key))
        .exclude(pk__in=[customer.pk for customer in exact])[: RESULT_LIMIT - len(exact)]
    )
    return exact + list(rest)


def _phone_filter(query: str, region: str) -> Q:
    digits = PHONE_PUNCTUATION.sub("", query)
    try:
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return Q(mobile=e164) | Q(other_phone=e164)
    except phonenumbers.NumberParseException:
        pass
    fragment = digits.lstrip("+")
    if len(fragment) < 3:
        return Q(pk__in=[])
    return Q(mobile__contains=fragment) | Q(other_phone__contains=fragment)


def _vehicles_by_plate_or_vin(vehicles: QuerySet, query: str) -> list[Vehicle]:
    key = plate_normalize(query)
    if len(key) >= 3:
        condition = Q(plate__contains=key)
        if ALPHANUMERIC.match(key):
            condition |= Q(vin__contains=key)
    else:
        condition = Q(plate__startswith=key)
    return list(vehicles.filter(condition)[:RESULT_LIMIT])


def search(user, query: str, *, limit: int = RESULT_LIMIT) -> SearchResults:
    """Customers and vehicles in ``user``'s rooftops matching ``query``; at most ``limit`` of each."""
    query = (query or "").strip()[:100]
    kind = classify(query)
    results = SearchResults(query=query, kind=kind)
    if kind == SearchKind.EMPTY:
        return results
    rooftops = user_dealership_ids(user)
    customers = Customer.objects.none()
    if user_may(user, "view", Customer):
        customers = Customer.objects.filter(dealership_id__in=rooftops).select_related("dealership")
    vehicles = Vehicle.objects.none()
    if user_may(user, "view", Vehicle):
        vehicles = Vehicle.objects.filter(dealership_id__in=rooftops).select_related("owner", "dealership")

    if kind == SearchKind.NAME:
        results.customers = _customers_by_name(customers, query)
    elif kind == SearchKind.LAST4:
        results.customers = list(
            customers.alias(mobile_last4=Right("mobile", 4), other_last4=Right("other_phone", 4)).filter(
                Q(mobile_last4=query) | Q(other_last4=query)
            )[:limit]
        )
        results.vehicles = list(vehicles.alias(plate_last4=Right("plate", 4)).filter(plate_last4=query)[:limit])
    elif kind == SearchKind.PHONE:
        region = _search_region(rooftops)
        results.customers = list(customers.filter(_phone_filter(query, region))[:limit])
        digits = PHONE_PUNCTUATION.sub("", query).lstrip("+")
        if 5 <= len(digits) <= 17:  # the serial part of a VIN is digits: "VIN 后六位"
            results.vehicles = list(vehicles.filter(vin__contains=digits)[:limit])
    else:
        results.vehicles = _vehicles_by_plate_or_vin(vehicles, query)
    return results


def _search_region(rooftop_ids: list[int]) -> str:
    if not rooftop_ids:
        return "CN"
    return Dealership.objects.filter(pk=rooftop_ids[0]).values_list("phone_region", flat=True).first() or "CN"
