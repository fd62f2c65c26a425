from rest_framework.routers import SimpleRouter

from .views import BuyerViewSet

router = SimpleRouter()
router.register("buyers", BuyerViewSet, basename="buyer")
urlpatterns = router.urls
