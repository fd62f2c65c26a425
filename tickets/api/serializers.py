"""Output shapes of tickets (API.md § Tickets). Personal data is masked here."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from rest_framework import serializers

from ..choices import REMEDY_ANSWER_STATUSES, ContactChannel, ContactResult, Outcome, RemedyKind, RemedyStatus
from ..models import Cause, ContactAttempt, Remedy, Ticket, TicketEvent


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


class RemedyResultSerializer(RemedySerializer):
    """A remedy as a write returns it: the detail's fields plus approval and compliance."""

    ticket = serializers.IntegerField(source="ticket_id")
    requested_status = serializers.ChoiceField(
        choices=RemedyStatus.choices,
        help_text="The status the agent recorded; a pending remedy takes it once approved.",
    )
    compliance = serializers.ListField(
        source="compliance_reasons",
        child=serializers.CharField(),
        help_text="Why the note was flagged as tying the remedy to a review; empty when it was not.",
    )
    offered_by = AssigneeSerializer(allow_null=True)
    decided_by = AssigneeSerializer(allow_null=True)

    class Meta(RemedySerializer.Meta):
        fields = [
            "id",
            "ticket",
            "kind",
            "amount",
            "status",
            "requested_status",
            "note",
            "compliance",
            "offered_by",
            "decided_by",
            "decided_at",
            "decision_reason",
            "created_at",
        ]


class CauseSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="label", help_text="The name in the request's language.")

    class Meta:
        model = Cause
        fields = ["code", "group", "name", "name_zh", "name_en"]


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    message = serializers.CharField(source="display_message", read_only=True, help_text="In the request's language.")

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "message", "data", "created_at"]

    def get_actor(self, event) -> str:
        if event.actor is not None:
            return event.actor.get_full_name() or event.actor.get_username()
        return event.actor_label or "system"  # stable labels for integrations ("assignment", "SLA")


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
    override_reason = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        default="",
        help_text="Why a phone attempt against the shop's contact etiquette (daily cap, spacing, quiet hours) "
        "must go ahead; without it such an attempt is refused with 409 `etiquette`.",
    )


class RemedyInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RemedyKind.choices)
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("99999999.99")
    )
    status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in REMEDY_ANSWER_STATUSES],
        help_text="The buyer's answer. Over the caller's cap the remedy waits for approval first.",
    )
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    override_reason = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        default="",
        help_text="A supervisor's reason to grant a remedy to a high-risk buyer; otherwise 409 `high_risk_buyer`.",
    )


class CauseInSerializer(serializers.Serializer):
    cause = serializers.CharField(max_length=64, help_text="An active cause code (GET /api/v1/causes/).")
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

    def validate_cause(self, value):
        if not Cause.objects.filter(code=value, active=True).exists():
            raise serializers.ValidationError("Not an active cause code.")
        return value


class OutcomeInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class RemedyDecisionInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default="", help_text="Required to reject."
    )

    def validate(self, attrs):
        if not attrs["approve"] and not attrs["reason"].strip():
            raise serializers.ValidationError({"reason": ["Say why the remedy is rejected."]})
        return attrs


class AssignInSerializer(serializers.Serializer):
    agent = serializers.IntegerField(min_value=1, help_text="The user id of an agent of the ticket's shop.")
    force = serializers.BooleanField(required=False, default=False, help_text="Assign even over the agent's capacity.")

    def validate_agent(self, value):
        # No such person is a bad value (400), not a refusal by the rules (409 not_allowed_for_shop).
        if not get_user_model().objects.filter(pk=value, is_active=True).exists():
            raise serializers.ValidationError("No active user has this id.")
        return value


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
