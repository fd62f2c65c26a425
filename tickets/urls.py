from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    # The agent workspace arrives with its own pages; until then the admin is the desk.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
]
