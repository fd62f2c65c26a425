"""Forms of the agent workspace. They validate input only; each view then calls one service."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import REMEDY_ANSWER_STATUSES, ContactChannel, ContactResult, Outcome, RemedyKind, RemedyStatus

NOTE_MAX_LENGTH = 2000


class WorkspaceForm(forms.Form):
    """A form whose element ids are unique on a page that shows many forms (each has a note)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{type(self).__name__.removesuffix('Form').lower()}_%s")
        super().__init__(*args, **kwargs)


def _note(label=None, *, required=False):
    return forms.CharField(
        label=label or _("Note"),
        required=required,
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DutyForm(WorkspaceForm):
    on_duty = forms.TypedChoiceField(
        label=_("Duty"), choices=[("1", _("On duty")), ("0", _("Off duty"))], coerce=lambda v: v == "1"
    )
    return_uncontacted = forms.BooleanField(label=_("Hand back uncontacted tickets"), required=False)


class ContactAttemptForm(WorkspaceForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    result = forms.ChoiceField(label=_("Result"), choices=ContactResult.choices)
    note = _note()
    override_reason = forms.CharField(
        label=_("Reason to call anyway"),
        required=False,
        max_length=500,
        help_text=_("Only when a call breaks the contact etiquette (quiet hours, daily cap) and cannot wait."),
    )


class AssignForm(WorkspaceForm):
    agent = forms.TypedChoiceField(label=_("Agent"), coerce=int, choices=())
    force = forms.BooleanField(label=_("Even over capacity"), required=False)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(p.user_id, str(p)) for p in agents]


class CauseForm(WorkspaceForm):
    cause = forms.ChoiceField(label=_("Cause"), choices=())
    note = _note()

    def __init__(self, *args, causes=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups = {}
        for cause in causes:
            group = cause.get_group_display() if hasattr(cause, "get_group_display") else cause.group
            groups.setdefault(str(group), []).append((cause.code, cause.label))
        self.fields["cause"].choices = [("", "---------"), *groups.items()]


class RemedyForm(WorkspaceForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=RemedyKind.choices)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=10, decimal_places=2, min_value=Decimal("0.00"), max_value=Decimal("99999999.99")
    )
    status = forms.ChoiceField(label=_("Buyer's answer"), choices=[(s.value, s.label) for s in REMEDY_ANSWER_STATUSES])
    note = _note()
    override_reason = forms.CharField(
        label=_("Supervisor's reason to grant it anyway"),
        required=False,
        max_length=500,
        help_text=_("Only for a high-risk buyer: without a supervisor's reason no remedy is recorded."),
    )


class RemedyDecisionForm(WorkspaceForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"), choices=[("1", _("Approve")), ("0", _("Reject"))], coerce=lambda v: v == "1"
    )
    reason = _note(_("Reason"))

    def clean(self):
        data = super().clean()
        if data.get("approve") is False and not data.get("reason"):
            self.add_error("reason", _("Say why the remedy is rejected."))
        return data


class RemedyStatusForm(WorkspaceForm):
    status = forms.ChoiceField(
        label=_("Buyer's answer"),
        choices=[(s.value, s.label) for s in (RemedyStatus.OFFERED, RemedyStatus.ACCEPTED, RemedyStatus.DECLINED)],
    )


class OutcomeForm(WorkspaceForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "---------"), *Outcome.choices])
    note = _note()


class SellerExplanationForm(WorkspaceForm):
    content = forms.CharField(
        label=_("Seller explanation"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class FollowUpVisitForm(WorkspaceForm):
    due_on = forms.DateField(label=_("Visit on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = _note()


class EscalateForm(WorkspaceForm):
    reason = _note(_("Reason"), required=True)


class NoteForm(WorkspaceForm):
    text = _note(_("Note"), required=True)
