# Default cause taxonomy (DESIGN.md), keyword rules, call scripts and compliance phrases. All of it
# is editable in the admin; the reverse removes only the rows seeded here.

from django.db import migrations

CAUSES = [
    # (code, group, name_zh, name_en)
    ("slow_delivery", "logistics", "物流慢", "Slow delivery"),
    ("lost_parcel", "logistics", "快递丢件", "Lost parcel"),
    ("courier_attitude", "logistics", "快递员态度差", "Courier attitude"),
    ("fake_signoff", "logistics", "错投 / 虚假签收", "Wrong delivery / fake sign-off"),
    ("poor_quality", "product_service", "质量差", "Poor quality"),
    ("damaged", "product_service", "破损", "Damaged"),
    ("not_as_described", "product_service", "与描述不符（色差、尺码）", "Not as described (colour, size)"),
    ("late_shipping", "product_service", "发货慢", "Late shipping"),
    ("missing_wrong_item", "product_service", "少发 / 发错", "Missing or wrong item"),
    ("poor_after_sales", "product_service", "售后服务差", "Poor after-sales service"),
    ("changed_mind", "buyer", "不想要了", "Changed mind"),
    ("expectations_too_high", "buyer", "期望过高", "Expectations too high"),
    ("wrong_item_ordered", "buyer", "买家拍错", "Ordered the wrong item"),
    ("misclick", "buyer", "误点（本想给好评）", "Mis-click (meant positive)"),
    ("professional_bad_reviewer", "abuse", "职业差评师", "Professional bad reviewer"),
    ("extortion", "abuse", "敲诈勒索", "Extortion"),
    ("competitor_attack", "abuse", "同行恶意差评", "Competitor attack"),
    ("unknown", "other", "未知", "Unknown"),
]

KEYWORD_RULES = [
    # (cause code, priority, keywords)
    ("fake_signoff", 40, ["没收到却显示签收", "显示签收", "显示已签收", "代签", "虚假签收", "没收到就签收"]),
    ("misclick", 40, ["点错了", "点错", "手滑", "误点", "本来想给好评"]),
    ("extortion", 35, ["不赔就差评", "不给钱就", "赔钱就改", "给钱就改", "不处理就一直差评"]),
    ("lost_parcel", 30, ["丢件", "丢了", "一直没收到", "没收到货", "快递丢", "包裹丢"]),
    ("late_shipping", 30, ["发货慢", "迟迟不发货", "不发货", "几天才发货", "发货太慢", "拖着不发"]),
    ("missing_wrong_item", 25, ["少发", "发错", "漏发", "错发", "少了一个", "少了一件", "不是我买的"]),
    ("damaged", 25, ["破", "碎", "坏了", "破损", "压扁", "漏液", "摔坏", "裂了"]),
    ("courier_attitude", 20, ["快递员", "快递小哥", "送货上门", "不送上门", "放驿站"]),
    ("not_as_described", 15, ["色差", "尺码", "不符", "与描述", "和图片不一样", "偏大", "偏小", "货不对板"]),
    ("poor_quality", 15, ["线头", "质量差", "起球", "掉色", "开线", "做工", "质量不好", "味道大"]),
    ("poor_after_sales", 10, ["态度", "客服不理", "不回复", "敷衍", "没人管", "售后差"]),
    ("wrong_item_ordered", 10, ["拍错", "买错", "选错"]),
    ("changed_mind", 8, ["不想要", "不喜欢", "不需要了"]),
    ("expectations_too_high", 8, ["一般般", "没想象中", "不如预期", "不值这个价"]),
    ("slow_delivery", 5, ["快递", "物流", "慢", "好几天", "还没到", "太久"]),
]

_GENERIC = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服，打扰您一两分钟可以吗？
我们看到您{order_date}对「{item_title}」的反馈：“{review_quote}”。这次购物没让您满意，非常抱歉。
想请您具体说说遇到了什么问题？（认真倾听，不打断，最后复述一遍确认）
给您添麻烦了，真的很抱歉。针对这个问题，我们可以为您（按情况选择：补发 / 换货 / 部分退款 / 维修费用），这是我们应该做的。
您看这样处理可以吗？我们会在（约定时间）前处理好，到时再跟您确认一下结果。
谢谢您告诉我们，我们会把问题反馈给相关同事改进。"""

_LOGISTICS = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。这次物流让您久等（或出了问题），非常抱歉。
方便说说具体情况吗？比如包裹现在到哪里了、有没有收到、快递员是怎么说的？（认真倾听，记录单号和时间）
物流是我们选的合作方，出了问题是我们的责任。我们已经（或马上）联系快递公司核实，如果包裹确实异常，我们会为您（补发 / 部分退款 / 承担运费）。
我们会在（约定时间）前给您回复核实结果，您看可以吗？
感谢您的耐心，我们也会把这次的情况反馈给快递公司改进。"""

_LOST = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。包裹一直没送到您手上，真的很抱歉。
想跟您确认一下：物流信息最后显示在哪里？您身边的家人、门卫或驿站有没有代收？（认真倾听，记录情况）
我们已经向快递公司发起查件。确认丢件的话，我们会马上为您补发，或者按您的意愿退款，不需要您再等快递公司的结果。
我们会在（约定时间）前告诉您查件结果和补发单号，您看可以吗？"""

_FAKE_SIGNOFF = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。没收到包裹却显示签收，换谁都会着急，非常抱歉。
麻烦您帮忙确认：签收时间前后您在不在家？小区门卫、驿站或快递柜有没有这个包裹？（认真倾听，记录情况）
我们会立刻向快递公司投诉核实签收记录。核实期间不用您操心，如果找不到，我们会为您补发或退款。
我们会在（约定时间）前给您回复，您看可以吗？"""

_QUALITY = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。收到的东西有质量问题，非常抱歉。
方便具体说说是哪里的问题吗？如果方便，可以拍几张照片发给我们，方便我们反馈给质检和工厂。（认真倾听，不争辩）
这是我们的问题。我们可以为您（换新 / 补发 / 部分退款 / 承担维修费用），退回的运费由我们承担。
您看哪种方式更方便？我们会在（约定时间）前安排好，并跟您确认结果。
谢谢您的反馈，我们会把这个问题交给质检同事跟进。"""

_DAMAGED = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。东西在路上磕坏了，真的很抱歉。
麻烦您拍一下外包装和破损处的照片发给我们，方便我们向快递公司追责。（认真倾听，记录破损情况）
破损的我们负责到底：可以马上为您补发一件新的，或者按破损情况为您退款，您不用再寄回。
您看哪种方式合适？我们会在（约定时间）前处理好并告诉您单号。
我们也会加强包装，谢谢您告诉我们。"""

_NOT_AS_DESCRIBED = """您好，请问是{buyer_nick}吗？我是{shop}的售后客服。
我们看到您对「{item_title}」的反馈：“{review_quote}”。收到的东西和页面描述有出入，非常抱歉。
想请您具体说说是颜色、尺码还是材质和描述不一样？您平时穿（用）什么尺码？（认真倾听，记录差异）
这是我们页面描述没写清楚，我们会修改详情页。针对您这一单，我们可以为您（换货 / 退货退款 / 部分退款），来回运费由我们承担。
您看这样可以吗？我们会在（约定时间）前安排好，并跟您确认。"""

_JD = """您好，请问是{buyer_nick}吗？我是{shop}的京东店铺售后客服，打扰您一两分钟。
我们看到您对「{item_title}」的评价：“{review_quote}”。这次购物没让您满意，非常抱歉。
想请您具体说说遇到了什么问题？（认真倾听，不打断，复述确认）
给您添麻烦了。针对这个问题，我们可以为您（补发 / 换货 / 部分退款），这是我们应该做的。
我们会在（约定时间）前处理好，到时再跟您确认结果，您看可以吗？
另外说明一下：京东的评价发布后不能修改，只能在原评价下追加评价。
以后您愿不愿意写，都完全由您决定。"""

CALL_SCRIPTS = [
    # (name, platform, cause, body)
    ("通用回访话术", "", "", _GENERIC),
    ("物流慢", "", "slow_delivery", _LOGISTICS),
    ("快递员态度差", "", "courier_attitude", _LOGISTICS),
    ("快递丢件", "", "lost_parcel", _LOST),
    ("虚假签收", "", "fake_signoff", _FAKE_SIGNOFF),
    ("质量问题", "", "poor_quality", _QUALITY),
    ("商品破损", "", "damaged", _DAMAGED),
    ("与描述不符", "", "not_as_described", _NOT_AS_DESCRIBED),
    ("京东通用话术", "jd", "", _JD),
]

_CASHBACK = "好评返现：用现金、红包或优惠券换取好评，2024年9月起禁止（cash back for a review is forbidden）"
_PRIZE = "以奖品、礼品诱导评价（a prize in return for a review is forbidden）"
_DELETE = "以好处换取删除或修改差评（a reward for deleting or changing a review is forbidden）"
COMPLIANCE_PHRASES = [
    # (text, kind, reason)
    ("好评返现", "phrase", _CASHBACK),
    ("晒图返现", "phrase", _CASHBACK),
    ("五星返现", "phrase", _CASHBACK),
    ("5星返现", "phrase", _CASHBACK),
    ("追评返现", "phrase", _CASHBACK),
    ("返现", "phrase", _CASHBACK),
    ("好评返", "phrase", _CASHBACK),
    ("追评返", "phrase", _CASHBACK),
    ("晒图返", "phrase", _CASHBACK),
    ("好评送", "phrase", _PRIZE),
    ("晒图送", "phrase", _PRIZE),
    ("好评有礼", "phrase", _PRIZE),
    ("晒图有礼", "phrase", _PRIZE),
    ("追评有礼", "phrase", _PRIZE),
    ("好评红包", "phrase", _CASHBACK),
    ("五星红包", "phrase", _CASHBACK),
    ("好评奖励", "phrase", _PRIZE),
    ("好评立减", "phrase", _CASHBACK),
    ("删评返", "phrase", _DELETE),
    ("改好评返", "phrase", _DELETE),
    (r"(好评|五星|5星|晒图|追评).{0,8}(有礼|有奖|抽奖)", "regex", _PRIZE),
    (r"(删|撤|改).{0,4}(差评|中评).{0,10}(返|退|红包|券|补偿)", "regex", _DELETE),
]


def seed(apps, schema_editor):
    Cause = apps.get_model("tickets", "Cause")
    CauseKeywordRule = apps.get_model("tickets", "CauseKeywordRule")
    CallScript = apps.get_model("tickets", "CallScript")
    CompliancePhrase = apps.get_model("tickets", "CompliancePhrase")
    causes = {}
    for position, (code, group, name_zh, name_en) in enumerate(CAUSES, start=1):
        causes[code], _ = Cause.objects.get_or_create(
            code=code, defaults={"group": group, "name_zh": name_zh, "name_en": name_en, "position": position * 10}
        )
    CauseKeywordRule.objects.bulk_create(
        CauseKeywordRule(cause=causes[code], priority=priority, keywords="\n".join(words))
        for code, priority, words in KEYWORD_RULES
    )
    CallScript.objects.bulk_create(
        CallScript(name=name, platform=platform, cause=cause, body=body) for name, platform, cause, body in CALL_SCRIPTS
    )
    CompliancePhrase.objects.bulk_create(
        CompliancePhrase(text=text, kind=kind, reason=reason) for text, kind, reason in COMPLIANCE_PHRASES
    )


def unseed(apps, schema_editor):
    apps.get_model("tickets", "CompliancePhrase").objects.filter(text__in=[p[0] for p in COMPLIANCE_PHRASES]).delete()
    apps.get_model("tickets", "CallScript").objects.filter(name__in=[s[0] for s in CALL_SCRIPTS]).delete()
    apps.get_model("tickets", "Cause").objects.filter(code__in=[c[0] for c in CAUSES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_workspace_actions"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
