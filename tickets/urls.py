from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True, next_page="queue"
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", views.queue, name="queue"),
    path("pool/", views.pool, name="pool"),
    path("tickets/", views.all_tickets, name="all-tickets"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:ticket_id>/contact-attempts/", views.contact_attempt_add, name="ticket-contact"),
    path("tickets/<int:ticket_id>/take/", views.ticket_take_view, name="ticket-take"),
    path("tickets/<int:ticket_id>/assign/", views.ticket_assign, name="ticket-assign"),
    path("tickets/<int:ticket_id>/cause/", views.cause_set_view, name="ticket-cause"),
    path("tickets/<int:ticket_id>/remedies/", views.remedy_add, name="ticket-remedy"),
    path("tickets/<int:ticket_id>/outcome/", views.outcome_claim_view, name="ticket-outcome"),
    path("tickets/<int:ticket_id>/explanation/", views.seller_explanation_add, name="ticket-explanation"),
    path("tickets/<int:ticket_id>/visits/", views.followup_visit_add, name="ticket-visit"),
    path("tickets/<int:ticket_id>/escalate/", views.ticket_escalate_view, name="ticket-escalate"),
    path("tickets/<int:ticket_id>/notes/", views.note_add_view, name="ticket-note"),
    path("visits/<int:visit_id>/done/", views.followup_visit_done_view, name="visit-done"),
    path("remedies/<int:remedy_id>/decide/", views.remedy_decide_view, name="remedy-decide"),
    path("remedies/<int:remedy_id>/status/", views.remedy_status_view, name="remedy-status"),
    path("approvals/", views.remedy_approvals, name="approvals"),
    path("team/", views.duty_board, name="duty-board"),
    path("duty/", views.duty_set, name="duty"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
]
