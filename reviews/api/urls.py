from django.urls import path

from .connector_views import TaobaoMessagesView
from .views import ReviewEventsView

urlpatterns = [
    path("review-events/", ReviewEventsView.as_view(), name="review-events"),
    path(
        "connectors/<int:connector_id>/taobao-messages/",
        TaobaoMessagesView.as_view(),
        name="connector-taobao-messages",
    ),
]
