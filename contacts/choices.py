"""Choice sets of the buyers app, and the list of temperament tags notes may carry."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ListMark(models.TextChoices):
    NONE = "none", _("None")
    BLACKLIST = "blacklist", _("Blacklist")
    WHITELIST = "whitelist", _("Whitelist")


class RevealField(models.TextChoices):
    NICK = "nick", _("Nick")
    PHONE = "phone", _("Phone")


@dataclass(frozen=True)
class TemperamentTag:
    """A tag a note may carry; `abuse` tags count as a risk signal."""

    code: str
    name_zh: str
    name_en: str
    abuse: bool = False

    @property
    def label(self):
        if (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name_en


# The fixed list notes choose from. Edit it here (codes are stored on notes, so keep retired
# codes in the list rather than deleting them); labels are shown in the reader's language.
TEMPERAMENT_TAGS = (
    TemperamentTag("impatient", "急躁", "Impatient"),
    TemperamentTag("easy_to_talk", "好沟通", "Easy to talk to"),
    TemperamentTag("phone_only", "只接电话", "Answers the phone only"),
    TemperamentTag("im_only", "只接旺旺", "Answers IM (Wangwang) only"),
    TemperamentTag("picky", "挑剔", "Picky"),
    TemperamentTag("no_calls_at_work", "工作时间勿扰", "No calls during working hours"),
    TemperamentTag("extortion", "勒索", "Extortion", abuse=True),
    TemperamentTag("professional_bad_reviewer", "职业差评", "Professional bad reviewer", abuse=True),
)
TAGS_BY_CODE = {tag.code: tag for tag in TEMPERAMENT_TAGS}
ABUSE_TAG_CODES = tuple(tag.code for tag in TEMPERAMENT_TAGS if tag.abuse)

# Ticket causes that mark the buyer as an abuser (tickets store the cause code). The default
# taxonomy's seed data spells the professional bad reviewer `professional_reviewer`.
ABUSE_CAUSE_CODES = ("extortion", "professional_bad_reviewer", "professional_reviewer")
