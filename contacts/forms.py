"""Forms of the buyer page. They validate input only; each view then calls one service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .buyer_services import NOTE_MAX, REASON_MAX
from .choices import TEMPERAMENT_TAGS, ListMark, RevealField


def tag_choices():
    """(code, label) in the active language; built per form so the language is the reader's."""
    return [(tag.code, tag.label) for tag in TEMPERAMENT_TAGS]


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), choices=RevealField.choices)
    reason = forms.CharField(label=_("Reason (audited)"), max_length=REASON_MAX, strip=True, widget=forms.TextInput())

    def __init__(self, *args, nick_allowed=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not nick_allowed:
            self.fields["field"].choices = [(RevealField.PHONE.value, RevealField.PHONE.label)]


class BuyerNoteForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("Temperament"), required=False, choices=(), widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = tag_choices()

    def clean(self):
        data = super().clean()
        if not data.get("tags") and not data.get("text"):
            raise forms.ValidationError(_("Choose a tag or write something."))
        return data


class ListMarkForm(forms.Form):
    mark = forms.ChoiceField(label=_("List"), choices=ListMark.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX, strip=True)

    def clean(self):
        data = super().clean()
        if data.get("mark") in (ListMark.BLACKLIST, ListMark.WHITELIST) and not data.get("reason"):
            self.add_error("reason", _("Give a reason for the list mark."))
        return data
