from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import dashboard_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("health/", views.health, name="health"),
    path("dashboard/", dashboard_views.home, name="dashboard-home"),
    path("dashboard/targets/", dashboard_views.TargetsView.as_view(), name="dashboard-targets"),
    path("dashboard/<slug:name>/", dashboard_views.DashboardView.as_view(), name="dashboard"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("dms.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("crm.urls")),
    path("", include("followup.urls")),
    path("", include("service.urls")),
    path("", include("sales.urls")),
    path("", include("crm.survey_urls")),
    path("", include("crm.segment_urls")),
    path("", include("crm.retention_urls")),
    path("", include("crm.care_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
