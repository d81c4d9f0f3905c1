"""Role checks for every API endpoint and page; rooftop scoping is ``QuerySet.for_user``.

A role lacking the model permission for an action gets 403; a row outside the caller's
rooftops is filtered out of the queryset and so is a 404, the same as a missing row.
"""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from rest_framework.permissions import DjangoModelPermissions


class RoleModelPermissions(DjangoModelPermissions):
    """DRF's model permissions, with ``view`` required for reads too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        """An action may name its own permissions (``action_permissions``) instead of the method's."""
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(required))


class RolePermissionRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Pages: anonymous users go to the login page, logged-in users without the role get 403."""

    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            self.raise_exception = True
        return super().handle_no_permission()
