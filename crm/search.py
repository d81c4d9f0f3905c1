"""The header search: one box finds customers and vehicles by name, phone, last 4 digits, plate or VIN.

Every key kind is answered from an index whatever its length (see the EXPLAIN tests):

* names: our GIN index of 1- and 2-character grams (``dms_name_grams``), because pg_trgm cannot
  index a pattern shorter than 3 characters and Chinese names are often 2 or 3 characters;
* a whole phone number: B-tree equality on the E.164 form;
* the end of a phone, plate or VIN (last 4 digits, "VIN 后六位", a plate's digits): a B-tree on the
  reversed value, searched as a prefix; the start of a plate (``沪A``): a pattern-ops B-tree;
* a fragment from the middle, only when nothing starts or ends with it: pg_trgm (values are
  stored normalised and upper-case, so a plain ``LIKE`` matches the trigram index).

Matches are taken unordered with a LIMIT (see ``first_matches``) so the cost stays flat as the tables
grow: an ORDER BY would sort every match. Exact name hits are shown first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Reverse

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
    """The grams every name containing ``key`` has: its 2-character grams (itself if 1 character)."""
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


@dataclass
class Tier:
    """Conditions tried together, each through its own index; a later tier is tried for customers (or
    vehicles) only if this one found none."""

    customers: list[Q] = field(default_factory=list)
    vehicles: list[Q] = field(default_factory=list)


def full_phone(query: str, region: str) -> str | None:
    """``query`` as an E.164 number if it is a whole valid phone number, else None."""
    try:
        number = phonenumbers.parse(PHONE_PUNCTUATION.sub("", query), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def plan(kind: str, query: str, region: str) -> list[Tier]:
    """What to look up for ``query``: endings and beginnings first (B-tree range scans whose cost does
    not grow with the table), fragments inside a value (pg_trgm) only when nothing starts or ends with it."""
    if kind == SearchKind.NAME:
        key = name_key(query)
        if not key:
            return []
        names = [Q(full_name=query), Q(name_grams__contains=name_query_grams(key), name_key__contains=key)]
        if not ALPHANUMERIC.match(plate_normalize(query)):
            return [Tier(customers=names)]
        # Latin letters only: a name, or the letters of a plate (贵YMHTG6).
        first, *rest = _plate_or_vin_tiers(plate_normalize(query))
        return [Tier(customers=names, vehicles=first), *(Tier(vehicles=conditions) for conditions in rest)]
    if kind in (SearchKind.PHONE, SearchKind.LAST4):
        e164 = full_phone(query, region) if kind == SearchKind.PHONE else None
        if e164:
            return [Tier(customers=[Q(mobile=e164) | Q(other_phone=e164)])]
        digits = PHONE_PUNCTUATION.sub("", query).lstrip("+")
        ending = digits[::-1]
        # 4 digits: a phone's or plate's last four; 5 to 8: also a VIN's last six or eight ("VIN 后六位").
        tiers = [
            Tier(
                customers=[Q(mobile_reversed__startswith=ending), Q(other_reversed__startswith=ending)],
                vehicles=[Q(plate_reversed__startswith=ending), Q(vin_reversed__startswith=ending)],
            )
        ]
        if len(digits) >= 3:
            tiers.append(
                Tier(
                    customers=[Q(mobile__contains=digits), Q(other_phone__contains=digits)],
                    vehicles=[Q(plate__contains=digits), Q(vin__contains=digits)],
                )
            )
        return tiers
    return [Tier(vehicles=conditions) for conditions in _plate_or_vin_tiers(plate_normalize(query))]


def _plate_or_vin_tiers(key: str) -> list[list[Q]]:
    """Vehicle conditions by tier: the start or end of a plate or VIN, then (3+ characters) the middle."""
    ending = key[::-1]
    is_vin_like = bool(ALPHANUMERIC.match(key))
    tiers = [[Q(plate__startswith=key), Q(plate_reversed__startswith=ending)]]
    if is_vin_like:
        tiers[0].append(Q(vin_reversed__startswith=ending))
    if len(key) >= 3:
        tiers.append([Q(plate__contains=key)] + ([Q(vin__contains=key)] if is_vin_like else []))
    return tiers


def search(user, query: str, *, limit: int = RESULT_LIMIT) -> SearchResults:
    """Customers and vehicles in ``user``'s rooftops matching ``query``; at most ``limit`` of each."""
    query = (query or "").strip()[:100]
    results = SearchResults(query=query, kind=classify(query))
    if results.kind == SearchKind.EMPTY:
        return results
    rooftops = user_dealership_ids(user)
    customers = Customer.objects.none()
    if user_may(user, "view", Customer):
        customers = (
            Customer.objects.filter(dealership_id__in=rooftops)
            .select_related("dealership")
            .order_by()
            .alias(
                name_grams=NameGrams("full_name"),
                name_key=NameKey("full_name"),
                mobile_reversed=Reverse("mobile"),
                other_reversed=Reverse("other_phone"),
            )
        )
    vehicles = Vehicle.objects.none()
    if user_may(user, "view", Vehicle):
        vehicles = (
            Vehicle.objects.filter(dealership_id__in=rooftops)
            .select_related("owner", "dealership")
            .order_by()
            .alias(plate_reversed=Reverse("plate"), vin_reversed=Reverse("vin"))
        )
    tiers = plan(results.kind, query, user_phone_region(user))
    # Customers and vehicles each go down the tiers until one finds something for them.
    for tier in tiers:
        results.customers = first_matches(customers, tier.customers, limit)
        if results.customers:
            break
    for tier in tiers:
        results.vehicles = first_matches(vehicles, tier.vehicles, limit)
        if results.vehicles:
            break
    results.customers.sort(key=lambda customer: customer.full_name != query)  # exact name hits first
    return results


def first_matches(queryset: QuerySet, conditions: list[Q], limit: int) -> list:
    """Up to ``limit`` rows matching any of ``conditions``, each looked up through its own index, in one statement.

    Asked for a few rows matching a condition it thinks is rare, PostgreSQL bets that walking the
    table (or the rooftop's foreign-key index) will meet them early; on a large table the bet reads
    every row. A MATERIALIZED CTE is planned as if every row were wanted, so the condition's own
    index is chosen, and it is still read lazily: its LIMIT stops it after ``limit`` hits. One CTE
    per condition: an OR of two trigram conditions is costed above a sequential scan.
    """
    if not conditions or limit <= 0:
        return []
    # The SQL text comes from Django's compiler; every user value travels as a parameter.
    lookups, params = [], []
    for condition in conditions:
        sql, condition_params = queryset.filter(condition).order_by().values("pk").query.sql_with_params()
        lookups.append(f"(WITH hits AS MATERIALIZED ({sql}) SELECT * FROM hits LIMIT %s)")  # noqa: S608
        params += [*condition_params, limit]
    union = " UNION ".join(lookups)
    matches = RawSQL(f"SELECT * FROM ({union}) AS matches LIMIT %s", [*params, limit])  # noqa: S608, S611
    return list(queryset.filter(pk__in=matches))
