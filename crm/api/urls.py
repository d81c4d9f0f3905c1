from rest_framework.routers import DefaultRouter

from . import care, retention, segments, surveys, views

router = DefaultRouter()
router.register("dealerships", views.DealershipViewSet, basename="dealership")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("vehicles", views.VehicleViewSet, basename="vehicle")
router.register("complaints", views.ComplaintViewSet, basename="complaint")
router.register("campaigns", care.CampaignViewSet, basename="campaign")
router.register("vouchers", care.VoucherViewSet, basename="voucher")
router.register("voucher-types", care.VoucherTypeViewSet, basename="voucher-type")
router.register("surveys", surveys.SurveyViewSet, basename="survey")

# retention, data quality and merges; segments and their audited export
urlpatterns = [*router.urls, *retention.urlpatterns, *segments.urlpatterns]
