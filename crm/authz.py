"""Who may do what, where: each user's permissions, roles and rooftops, cached in Redis between requests.

Every page and API call needs them; read from PostgreSQL they cost four queries a request, from
the cache one round trip (``get_many`` of the user's snapshot and the version). Any change to
roles, permissions, rooftop assignments, users or rooftops bumps the version, at once and again
when its transaction commits, which retires every snapshot; the TTL bounds what a change made
behind Django's back (raw SQL) can leave stale.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "authz-version"
TTL_SECONDS = 300


def _read(user) -> dict:
    from .models import Dealership

    rooftops = Dealership.objects.all() if user.is_superuser else user.dealerships.all()
    return {
        "permissions": ModelBackend().get_all_permissions(user),
        "roles": set(user.groups.values_list("name", flat=True)),
        "rooftops": list(rooftops.order_by("pk").values_list("pk", "phone_region")),
    }


def snapshot(user) -> dict:
    """``user``'s permissions, roles and rooftops (id, phone region), cached per request and in Redis."""
    cached = getattr(user, "_authz_snapshot", None)
    if cached is None:
        key = f"authz:user:{user.pk}"
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, 1, timeout=None)
            version = cache.get(VERSION_KEY, 1)
        cached = found.get(key)
        if cached is None or cached["version"] != version:
            cached = {"version": version, **_read(user)}
            cache.set(key, cached, TTL_SECONDS)
        user._authz_snapshot = cached
    return cached


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def invalidate(*args, **kwargs) -> None:
    """Retire every snapshot (a signal receiver: roles, rooftops or users changed).

    Once now, and once after the commit: a request reading between the two would cache the
    uncommitted past under the new version.
    """
    _bump()
    transaction.on_commit(_bump)


class CachedModelBackend(ModelBackend):
    """Django's model permissions, read from the user's cached snapshot."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return snapshot(user_obj)["permissions"]
