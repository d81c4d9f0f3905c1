from django.urls import path

from . import views

app_name = "crm"
urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle-list"),
    path("vehicles/new/", views.VehicleCreateView.as_view(), name="vehicle-create"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle-detail"),
    path("vehicles/<int:pk>/edit/", views.VehicleUpdateView.as_view(), name="vehicle-update"),
    path("vehicles/<int:pk>/owner/", views.VehicleChangeOwnerView.as_view(), name="vehicle-change-owner"),
    path("complaints/", views.ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/new/", views.ComplaintCreateView.as_view(), name="complaint-create"),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/advance/",
        views.ComplaintActionView.as_view(),
        {"action": "advance"},
        name="complaint-advance",
    ),
    path(
        "complaints/<int:pk>/assign/",
        views.ComplaintActionView.as_view(),
        {"action": "assign"},
        name="complaint-assign",
    ),
]
