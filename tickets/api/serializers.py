"""Output shapes of tickets (API.md § Tickets). Personal data is masked here."""

from rest_framework import serializers

from ..choices import ContactChannel, ContactResult
from ..models import ContactAttempt, Remedy, Ticket, TicketEvent


class AssigneeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class DsrSerializer(serializers.Serializer):
    description = serializers.IntegerField(allow_null=True)
    service = serializers.IntegerField(allow_null=True)
    logistics = serializers.IntegerField(allow_null=True)


class FollowupSerializer(serializers.Serializer):
    content = serializers.CharField()
    image_count = serializers.IntegerField(allow_null=True)
    negative = serializers.BooleanField(allow_null=True)
    occurred_at = serializers.DateTimeField()


class ReplySerializer(serializers.Serializer):
    content = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class TicketReviewSerializer(serializers.Serializer):
    review_id = serializers.CharField()
    order_id = serializers.CharField()
    tier = serializers.CharField()
    stars = serializers.IntegerField(allow_null=True)
    dsr = DsrSerializer(allow_null=True)
    content = serializers.CharField()
    image_count = serializers.IntegerField()
    followup = serializers.SerializerMethodField()
    reply = serializers.SerializerMethodField()

    def get_followup(self, review) -> FollowupSerializer(allow_null=True):
        if review.followup_at is None:
            return None
        return FollowupSerializer(
            {
                "content": review.followup_content,
                "image_count": review.followup_image_count,
                "negative": review.followup_negative,
                "occurred_at": review.followup_at,
            }
        ).data

    def get_reply(self, review) -> ReplySerializer(allow_null=True):
        if review.replied_at is None:
            return None
        return ReplySerializer({"content": review.reply_content, "occurred_at": review.replied_at}).data


class MaskedBuyerSerializer(serializers.Serializer):
    id = serializers.CharField(source="open_id")
    nick = serializers.CharField(source="masked_nick")
    phone = serializers.CharField(source="masked_phone")


class SlaSerializer(serializers.Serializer):
    state = serializers.CharField(source="sla_state")
    first_contact_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    first_contact_at = serializers.DateTimeField(allow_null=True)
    first_reached_at = serializers.DateTimeField(allow_null=True)


class TicketSerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.external_id")
    assignee = AssigneeSerializer(allow_null=True)
    review = TicketReviewSerializer()
    buyer = MaskedBuyerSerializer(source="review.buyer", allow_null=True)
    sla = SlaSerializer(source="*")
    cause = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    verified = serializers.BooleanField(source="outcome_verified")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "status",
            "tier",
            "shop",
            "platform",
            "assignee",
            "review",
            "buyer",
            "sla",
            "cause",
            "outcome",
            "verified",
            "created_at",
            "closed_at",
        ]

    def get_cause(self, ticket) -> str | None:
        return ticket.cause or None

    def get_outcome(self, ticket) -> str | None:
        return ticket.outcome or None


class ContactAttemptSerializer(serializers.ModelSerializer):
    agent = AssigneeSerializer(allow_null=True)

    class Meta:
        model = ContactAttempt
        fields = ["id", "channel", "result", "note", "agent", "created_at"]


class RemedySerializer(serializers.ModelSerializer):
    class Meta:
        model = Remedy
        fields = ["id", "kind", "amount", "status", "note", "created_at"]


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "message", "data", "created_at"]

    def get_actor(self, event) -> str:
        if event.actor is not None:
            return event.actor.get_full_name() or event.actor.get_username()
        return event.actor_label or "system"


class TicketDetailSerializer(TicketSerializer):
    contact_attempts = ContactAttemptSerializer(many=True)
    remedies = RemedySerializer(many=True)
    timeline = TimelineEventSerializer(many=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "contact_attempts", "remedies", "timeline"]


# Input shapes -----------------------------------------------------------------------------


class ContactAttemptInSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    result = serializers.ChoiceField(choices=ContactResult.choices)
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class AssignInSerializer(serializers.Serializer):
    agent = serializers.IntegerField(min_value=1)
    force = serializers.BooleanField(required=False, default=False, help_text="Assign even over the agent's capacity.")


class DutyInSerializer(serializers.Serializer):
    on_duty = serializers.BooleanField()
    return_tickets = serializers.BooleanField(
        required=False, default=False, help_text="Going off duty: hand back tickets not yet contacted."
    )


class DutySerializer(serializers.Serializer):
    on_duty = serializers.BooleanField()
    capacity = serializers.IntegerField()
    open_tickets = serializers.IntegerField()
    returned_ticket_ids = serializers.ListField(child=serializers.IntegerField())
