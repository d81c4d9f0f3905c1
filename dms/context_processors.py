from crm.choices import Role


def roles(request):
    user = getattr(request, "user", None)
    names = user.role_names if user is not None and user.is_authenticated else set()
    return {"user_roles": sorted(names), "Role": Role}
