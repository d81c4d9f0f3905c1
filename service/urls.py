from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("service/check-in/", views.CheckInSearchView.as_view(), name="check-in"),
    path("service/check-in/<int:vehicle_id>/", views.CheckInView.as_view(), name="check-in-vehicle"),
    path("service/repair-orders/", views.RepairOrderListView.as_view(), name="repair-order-list"),
    path("service/repair-orders/<int:pk>/", views.RepairOrderDetailView.as_view(), name="repair-order-detail"),
    path("service/repair-orders/<int:pk>/print/", views.RepairOrderPrintView.as_view(), name="repair-order-print"),
    path(
        "service/repair-orders/<int:pk>/<slug:action>/",
        views.RepairOrderActionView.as_view(),
        name="repair-order-action",
    ),
    path("approve/<str:token>/", views.ApprovalLinkView.as_view(), name="approval"),
    path("approve/<str:token>/photos/<int:photo>/", views.ApprovalLinkView.as_view(), name="approval-photo"),
    path("service/photos/<slug:kind>/<int:pk>/", views.PhotoView.as_view(), name="photo"),
    path("service/board/", views.BoardView.as_view(), name="board"),
    path("service/appointments/", views.AppointmentCalendarView.as_view(), name="appointments"),
    path(
        "service/appointments/<int:pk>/<slug:action>/", views.AppointmentActionView.as_view(), name="appointment-action"
    ),
    path("service/appointments/new/<int:vehicle_id>/", views.AppointmentBookView.as_view(), name="appointment-book"),
]
