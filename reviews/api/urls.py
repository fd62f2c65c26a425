from django.urls import path

from .views import ReviewEventsView

urlpatterns = [path("review-events/", ReviewEventsView.as_view(), name="review-events")]
