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

from . import care  # noqa: E402 - the customer-care routes, appended

router.register("campaigns", care.CampaignViewSet, basename="campaign")
router.register("vouchers", care.VoucherViewSet, basename="voucher")
router.register("voucher-types", care.VoucherTypeViewSet, basename="voucher-type")
urlpatterns = router.urls

from . import segments  # noqa: E402 - segments and their audited export, appended

urlpatterns = [*urlpatterns, *segments.urlpatterns]
