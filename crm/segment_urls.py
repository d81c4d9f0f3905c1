from django.urls import path

from . import segment_views

app_name = "segments"
urlpatterns = [
    path("segments/", segment_views.SegmentListView.as_view(), name="list"),
    path("segments/new/", segment_views.SegmentCreateView.as_view(), name="create"),
    path("segments/export.csv", segment_views.BuilderExportView.as_view(), name="builder-export"),
    path("segments/exports/", segment_views.ExportLogView.as_view(), name="exports"),
    path("segments/<int:pk>/", segment_views.SegmentDetailView.as_view(), name="detail"),
    path("segments/<int:pk>/export.csv", segment_views.SegmentExportView.as_view(), name="export"),
    path("customers/reveals/", segment_views.RevealLogView.as_view(), name="reveals"),
    path("customers/<int:pk>/reveal/<str:field>/", segment_views.RevealView.as_view(), name="reveal"),
]
