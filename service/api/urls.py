from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("repair-orders", views.RepairOrderViewSet, basename="repair-order")
router.register("parts", views.PartViewSet, basename="part")
router.register("jobs", views.JobViewSet, basename="job")
router.register("technicians", views.TechnicianViewSet, basename="technician")

urlpatterns = router.urls
