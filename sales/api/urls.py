from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("test-drives", views.TestDriveViewSet, basename="test-drive")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("orders", views.OrderViewSet, basename="order")
router.register("stock-vehicles", views.StockVehicleViewSet, basename="stock-vehicle")
router.register("lost-reasons", views.LostReasonViewSet, basename="lost-reason")

urlpatterns = router.urls
