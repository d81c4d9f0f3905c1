"""Every app's API routes under /api/."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token

from .api_kpis import KpiView

urlpatterns = [
    path("token/", obtain_auth_token, name="api-token"),
    path("kpis/", KpiView.as_view(), name="api-kpis"),
    path("", include("crm.api.urls")),
    path("", include("followup.api.urls")),
    path("", include("service.api.urls")),
    path("", include("sales.api.urls")),
]
