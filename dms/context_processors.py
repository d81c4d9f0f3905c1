from django.utils.functional import SimpleLazyObject

from crm.choices import Role


def roles(request):
    """The user's role names for the header; read only by pages that show them (not by htmx partials)."""
    user = getattr(request, "user", None)

    def names():
        return sorted(user.role_names) if user is not None and user.is_authenticated else []

    return {"user_roles": SimpleLazyObject(names), "Role": Role}
