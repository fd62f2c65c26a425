from django.urls import path

from . import views

urlpatterns = [
    path("buyers/<int:buyer_id>/", views.buyer_detail, name="buyer-detail"),
    path("buyers/<int:buyer_id>/reveal/", views.buyer_reveal_view, name="buyer-reveal"),
    path("buyers/<int:buyer_id>/notes/", views.buyer_note_add_view, name="buyer-note"),
    path("buyers/<int:buyer_id>/list-mark/", views.buyer_list_mark_view, name="buyer-list-mark"),
    path("buyers/<int:buyer_id>/evidence/", views.evidence_pack, name="buyer-evidence"),
]
