from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("dealerships", views.DealershipViewSet, basename="dealership")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("vehicles", views.VehicleViewSet, basename="vehicle")
router.register("complaints", views.ComplaintViewSet, basename="complaint")

urlpatterns = router.urls

from . import retention  # noqa: E402 - retention, data quality and merges, appended

urlpatterns = [*urlpatterns, *retention.urlpatterns]
