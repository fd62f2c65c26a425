"""Forms of the agent workspace. They validate input only; each view then calls one service."""

from decimal import Decimal

from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeData
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .choices import (
    REMEDY_ANSWER_STATUSES,
    CauseGroup,
    ContactChannel,
    ContactResult,
    Outcome,
    RemedyKind,
    RemedyStatus,
)

NOTE_MAX_LENGTH = 2000

# What {{ value }} prints in a template with autoescape on, USE_TZ and localization as configured.
_PRINT_CONTEXT = Context(autoescape=True)


def _print(value):
    """`{{ value }}`: localized, then escaped unless marked safe."""
    if type(value) is str:
        return escape(value)
    return render_value_in_context(value, _PRINT_CONTEXT)


def _print_s(value):
    """`{{ value|stringformat:'s' }}`."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs):
    """django/forms/widgets/attrs.html"""
    return "".join(
        f" {_print(name)}" if value is True else f' {_print(name)}="{_print_s(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(context):
    """django/forms/widgets/input.html (and the templates that only include it)."""
    widget = context["widget"]
    value = widget["value"]
    value = "" if value is None else f' value="{_print_s(value)}"'
    return f'<input type="{_print(widget["type"])}" name="{_print(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _textarea(context):
    """django/forms/widgets/textarea.html"""
    widget = context["widget"]
    value = _print(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_print(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(context):
    """django/forms/widgets/select.html with select_option.html; None for other option templates."""
    widget = context["widget"]
    parts = [f'<select name="{_print(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_print(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _SELECT_OPTION:
                return None
            parts.append(
                f'\n  <option value="{_print_s(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_print(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _error_list(context):
    """django/forms/errors/list/default.html (ul.html)."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_attr = f' id="{_print(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_print(error)}</li>" for error in errors)
    return f'<ul class="{_print(context["error_class"])}"{id_attr}>{items}</ul>'


_WIDGETS = "django/forms/widgets/"
_SELECT_OPTION = _WIDGETS + "select_option.html"
_IN_PYTHON = {
    **{f"{_WIDGETS}{name}.html": _input for name in ("input", "text", "number", "date", "checkbox", "hidden")},
    _WIDGETS + "textarea.html": _textarea,
    _WIDGETS + "select.html": _select,
    "django/forms/errors/list/default.html": _error_list,
}


class WorkspaceRenderer(DjangoTemplates):
    """Django's form renderer, with the few widget and error templates the workspace forms use
    written out in Python. The ticket page shows up to a dozen forms; rendering their inputs,
    options and attributes through the template engine (a template and an include of attrs.html
    for each) was about a fifth of the page's CPU. The HTML is Django's, byte for byte
    (tests/test_workspace_pages.py compares them); any other template goes to the engine."""

    def render(self, template_name, context, request=None):
        render_in_python = _IN_PYTHON.get(template_name)
        if render_in_python is not None:
            html = render_in_python(context)
            if html is not None:
                return html
        return super().render(template_name, context, request)


WORKSPACE_RENDERER = WorkspaceRenderer()


class WorkspaceForm(forms.Form):
    """A form whose element ids are unique on a page that shows many forms (each has a note)."""

    default_renderer = WORKSPACE_RENDERER

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{type(self).__name__.removesuffix('Form').lower()}_%s")
        super().__init__(*args, **kwargs)

    def fields_html(self):
        """The fields as the ticket page lays them out (templates/tickets/_form.html): each in a
        div with its errors, label, widget and help text. Written here rather than as a template
        loop over the fields: the page shows up to 20 fields, and the loop's lookups and tags cost
        it more CPU than the widgets themselves."""
        return format_html_join("", "{}", ((self._field_html(field),) for field in self))

    def _field_html(self, field):
        errors = field.errors
        if getattr(field.field.widget, "input_type", None) == "checkbox":
            control = format_html("{}<label>{} {}</label>", errors, field, field.label)
        else:
            control = format_html('{}<label for="{}">{}</label>{}', errors, field.id_for_label, field.label, field)
        help_text = format_html('<small class="hint">{}</small>', field.help_text) if field.help_text else ""
        return format_html(
            '\n  <div class="field{}">\n    \n      {}\n    \n    {}\n    {}\n  </div>\n  ',
            " has-errors" if errors else "",
            control,
            help_text,
            self.field_hint(field),
        )

    def field_hint(self, field):
        """HTML shown under `field` besides its help text."""
        return ""


# BlankForm.fields_html, by form class, omitted fields and language.
_BLANK_FIELDS_HTML = {}


class BlankForm:
    """An empty form of a WorkspaceForm class whose fields are the same for every instance (no
    choices or initial values of its own), as the ticket page shows it: the fields' HTML and no
    errors. That HTML is the same for every ticket and request in a language, so it is rendered
    once per process and language, and no form is built: building and rendering the page's seven
    empty forms was a tenth of its CPU. A form the caller submitted is shown as a bound form."""

    non_field_errors = ()

    def __init__(self, form_class, *, without=()):
        self.form_class = form_class
        self.without = tuple(without)  # fields this caller does not get

    def fields_html(self):
        key = (self.form_class, self.without, get_language())
        html = _BLANK_FIELDS_HTML.get(key)
        if html is None:
            form = self.form_class()
            for name in self.without:
                del form.fields[name]
            html = _BLANK_FIELDS_HTML[key] = form.fields_html()
        return html


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

    def __init__(self, *args, causes=(), labels=None, **kwargs):
        """`labels`: {code: label} of the causes, when the caller has them already."""
        super().__init__(*args, **kwargs)
        self.suggested = None  # the cause the keyword rules suggest, shown under the menu
        groups, group_labels = {}, dict(CauseGroup.choices)  # get_group_display() rebuilds it per call
        for cause in causes:
            label = labels[cause.code] if labels is not None else cause.label
            groups.setdefault(str(group_labels.get(cause.group, cause.group)), []).append((cause.code, label))
        self.fields["cause"].choices = [("", "---------"), *groups.items()]

    def field_hint(self, field):
        if field.name != "cause" or not self.suggested:
            return ""
        text = gettext("Suggested: %(label)s") % {"label": self.suggested.label}
        return format_html('<small class="hint" data-testid="cause-suggested">{}</small>', text)


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
