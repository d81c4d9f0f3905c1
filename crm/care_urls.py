from django.urls import path

from . import care_views

app_name = "care"
urlpatterns = [
    path("campaigns/", care_views.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/new/", care_views.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", care_views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/<slug:action>/", care_views.CampaignActionView.as_view(), name="campaign-action"),
    path("vouchers/", care_views.VoucherListView.as_view(), name="voucher-list"),
    path("vouchers/issue/", care_views.VoucherIssueView.as_view(), name="voucher-issue"),
    path("vouchers/<int:pk>/void/", care_views.VoucherVoidView.as_view(), name="voucher-void"),
]
