"""Shapes of the buyer API. Nick and phone are always masked here; the raw values only leave
through the audited reveal endpoint."""

from rest_framework import serializers

from reviews.models import Review
from tickets.api.serializers import AssigneeSerializer, ContactAttemptSerializer, RemedySerializer
from tickets.models import Ticket

from ..choices import TEMPERAMENT_TAGS, ListMark, RevealField
from ..models import BuyerNote, BuyerStats
from ..stats import COUNTER_FIELDS


class CountersSerializer(serializers.ModelSerializer):
    class Meta:
        model = BuyerStats
        fields = COUNTER_FIELDS
        # A buyer whose counters were never computed gets empty counters with no refresh time.
        extra_kwargs = {"refreshed_at": {"allow_null": True}}


class RiskSerializer(serializers.Serializer):
    score = serializers.IntegerField(source="risk_score")
    level = serializers.CharField(source="risk_level")
    reasons = serializers.ListField(child=serializers.CharField(), source="risk_reason_texts")
    assessed_at = serializers.DateTimeField(source="risk_assessed_at", allow_null=True)


class ListMarkSerializer(serializers.Serializer):
    mark = serializers.CharField(source="list_mark")
    reason = serializers.CharField(source="list_mark_reason")
    by = AssigneeSerializer(source="list_mark_by", allow_null=True)
    at = serializers.DateTimeField(source="list_mark_at", allow_null=True)


class BestTimeSerializer(serializers.Serializer):
    label = serializers.CharField()
    reason = serializers.CharField()


class BuyerReviewSerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.external_id")

    class Meta:
        model = Review
        fields = ["review_id", "shop", "platform", "order_id", "state", "tier", "stars", "content", "rated_at"]


class BuyerTicketSerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.external_id")
    review_id = serializers.CharField(source="review.review_id")
    assignee = AssigneeSerializer(allow_null=True)
    verified = serializers.BooleanField(source="outcome_verified")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "status",
            "tier",
            "shop",
            "review_id",
            "assignee",
            "cause",
            "outcome",
            "verified",
            "created_at",
            "closed_at",
        ]


class TagSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class BuyerNoteSerializer(serializers.ModelSerializer):
    author = AssigneeSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = BuyerNote
        fields = ["id", "author", "tags", "text", "created_at"]

    def get_tags(self, note) -> TagSerializer(many=True):
        return [{"code": code, "label": label} for code, label in zip(note.tags, note.tag_labels, strict=True)]


class BuyerAttemptSerializer(ContactAttemptSerializer):
    ticket = serializers.IntegerField(source="ticket_id")

    class Meta(ContactAttemptSerializer.Meta):
        fields = [*ContactAttemptSerializer.Meta.fields, "ticket"]


class BuyerRemedySerializer(RemedySerializer):
    ticket = serializers.IntegerField(source="ticket_id")

    class Meta(RemedySerializer.Meta):
        fields = [*RemedySerializer.Meta.fields, "ticket"]


class BuyerSerializer(serializers.Serializer):
    """A BuyerProfile: the buyer (masked) with counters, risk and history in the caller's shops."""

    id = serializers.IntegerField(source="buyer.pk")
    platform = serializers.CharField(source="buyer.platform")
    open_id = serializers.CharField(source="buyer.open_id")
    nick = serializers.CharField(source="buyer.masked_nick")
    phone = serializers.CharField(source="buyer.masked_phone")
    region = serializers.CharField(source="buyer.region")
    time_zone = serializers.CharField(source="buyer.time_zone")
    first_seen_at = serializers.DateTimeField(source="buyer.first_seen_at", allow_null=True)
    last_seen_at = serializers.DateTimeField(source="buyer.last_seen_at", allow_null=True)
    counters = CountersSerializer(source="stats")
    risk = RiskSerializer(source="buyer")
    list_mark = ListMarkSerializer(source="buyer")
    best_contact_time = serializers.SerializerMethodField()
    reviews = BuyerReviewSerializer(many=True)
    tickets = BuyerTicketSerializer(many=True)
    notes = BuyerNoteSerializer(many=True)
    contact_attempts = BuyerAttemptSerializer(many=True)
    remedies = BuyerRemedySerializer(many=True)

    def get_best_contact_time(self, profile) -> BestTimeSerializer:
        label, reason = profile.best_time
        return {"label": label, "reason": str(reason)}


# Input shapes -----------------------------------------------------------------------------


class RevealInSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=RevealField.choices)
    reason = serializers.CharField(max_length=500, help_text="Why you need the raw value; it is audited.")


class RevealSerializer(serializers.Serializer):
    value = serializers.CharField()


class NoteInSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=serializers.ChoiceField(choices=[(t.code, t.name_en) for t in TEMPERAMENT_TAGS]),
        required=False,
        default=list,
    )
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ListMarkInSerializer(serializers.Serializer):
    mark = serializers.ChoiceField(choices=ListMark.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
