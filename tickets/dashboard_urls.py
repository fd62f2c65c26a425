"""Supervisor dashboard, exports and operations feedback (issue 6)."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/export/<slug:by>.csv", dashboard_views.breakdown_export, name="dashboard-export"),
    path("dashboard/tickets.csv", dashboard_views.tickets_export, name="tickets-export"),
    path("dashboard/feedback/", dashboard_views.sku_feedback, name="sku-feedback"),
]
