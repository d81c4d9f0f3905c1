from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("sales/today/", views.TodayView.as_view(), name="today"),
    path("sales/pipeline/", views.PipelineView.as_view(), name="pipeline"),
    path("sales/leads/", views.LeadListView.as_view(), name="lead-list"),
    path("sales/leads/new/", views.LeadCreateView.as_view(), name="lead-create"),
    path("sales/leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead-detail"),
    path("sales/leads/<int:pk>/<slug:action>/", views.LeadActionView.as_view(), name="lead-action"),
    path("sales/visits/", views.VisitLogView.as_view(), name="visits"),
    path("sales/quotes/<int:pk>/", views.QuoteDetailView.as_view(), name="quote-detail"),
    path("sales/orders/<int:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("sales/orders/<int:pk>/<slug:action>/", views.OrderActionView.as_view(), name="order-action"),
    path("sales/lost/", views.LostLeadsView.as_view(), name="lost"),
    path("sales/stock/", views.StockListView.as_view(), name="stock"),
]
