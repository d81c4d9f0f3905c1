from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("followups", views.FollowUpViewSet, basename="followup")

urlpatterns = router.urls
