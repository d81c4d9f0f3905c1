from django.urls import path

from . import retention_views

app_name = "retention"
urlpatterns = [
    path("retention/", retention_views.RetentionView.as_view(), name="retention"),
    path("retention/win-back/", retention_views.WinBackSegmentView.as_view(), name="win-back"),
    path("data-quality/", retention_views.DataQualityView.as_view(), name="data-quality"),
    path("customers/<int:pk>/merge/", retention_views.CustomerMergeView.as_view(), name="customer-merge"),
]
