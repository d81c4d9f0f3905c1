from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("followups/", views.CallQueueView.as_view(), name="queue"),
    path("followups/<int:pk>/outcome/", views.RecordOutcomeView.as_view(), name="outcome"),
    path("followups/sla/", views.SlaView.as_view(), name="sla"),
]
