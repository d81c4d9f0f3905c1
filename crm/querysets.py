"""Rooftop scoping: the one permission layer every page, API endpoint and selector starts from."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Func, TextField


def _user_rooftops(user) -> list[tuple[int, str]]:
    """(id, phone region) of the rooftops ``user`` works at (all for a superuser)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    from .authz import snapshot

    return snapshot(user)["rooftops"]


def user_dealership_ids(user) -> list[int]:
    return [pk for pk, _region in _user_rooftops(user)]


def user_phone_region(user) -> str:
    """The region a phone number typed without a country code is read in: the user's first rooftop's."""
    rooftops = _user_rooftops(user)
    return rooftops[0][1] if rooftops else "CN"


def user_may(user, action: str, model: type[models.Model]) -> bool:
    meta = model._meta
    return bool(user and user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"))


class DealershipQuerySet(models.QuerySet):
    """Business rows; each carries its rooftop in ``dealership_id``."""

    def for_user(self, user, action: str = "view"):
        """Rows in the rooftops where ``user`` may perform ``action`` on this model; else none."""
        if not user_may(user, action, self.model):
            return self.none()
        return self.filter(dealership_id__in=user_dealership_ids(user))


class DealershipRootQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        if not user_may(user, action, self.model):
            return self.none()
        return self.filter(pk__in=user_dealership_ids(user))

    def allowing(self, user, action: str = "view"):
        return self.for_user(user, action)


class NameGrams(Func):
    """``dms_name_grams(name)``: the 1- and 2-character grams of a name, indexed with GIN.

    pg_trgm cannot index a pattern shorter than 3 characters, and Chinese names are often 2 or
    3 characters long; a GIN index over our own grams serves 1-, 2- and longer queries alike.
    """

    function = "dms_name_grams"
    output_field = ArrayField(TextField())


class NameKey(Func):
    """``dms_name_key(name)``: lower case, without spaces or punctuation (the grams' source)."""

    function = "dms_name_key"
    output_field = TextField()
