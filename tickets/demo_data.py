"""Demo catalogue, team and review texts for `seed_demo`: plain data, no database access."""

# Texts are what buyers and sellers really write on Taobao, Tmall and JD, across DESIGN.md's cause
# taxonomy. None of them ties a reward to a review (好评返现 and the like are illegal since 2024-09):
# seller explanations apologise and explain, revised reviews say the problem was solved, and remedies
# are never mentioned next to a rating. tests/test_seed_demo.py scans every string here for that.

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Item:
    item_id: str
    sku_prefix: str
    title: str
    price: Decimal
    colours: tuple  # ((code, name), …)
    sizes: tuple  # ((code, name, price delta), …)
    colour_label: str = "颜色分类"
    size_label: str = "尺码"


@dataclass(frozen=True, slots=True)
class DemoShop:
    external_id: str
    platform: str
    name: str
    category: str  # apparel, home or digital: picks the item-specific texts
    weight: int  # share of the demo reviews
    items: tuple


def _item(item_id, prefix, title, price, colours, sizes, **labels):
    return Item(item_id, prefix, title, Decimal(price), tuple(colours), tuple(sizes), **labels)


SHOPS = (
    DemoShop(
        external_id="tb-57301234",
        platform="taobao",
        name="鹿岛原创女装店",
        category="apparel",
        weight=45,
        items=(
            _item(
                "652301873345",
                "6523",
                "加厚保暖白鸭绒羽绒服女中长款2025冬季新款",
                "399.00",
                [("BLK", "黑色"), ("KHK", "卡其色"), ("WHT", "米白色")],
                [("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 10)],
            ),
            _item(
                "318702264511",
                "3187",
                "纯棉宽松圆领短袖T恤女夏季百搭上衣",
                "59.90",
                [("WHT", "白色"), ("BLK", "黑色"), ("PNK", "樱花粉")],
                [("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0)],
            ),
            _item(
                "441005519826",
                "4410",
                "高腰直筒牛仔裤女春秋显瘦阔腿拖地裤",
                "129.00",
                [("LBL", "浅蓝色"), ("DBL", "深蓝色")],
                [("25", "25", 0), ("26", "26", 0), ("27", "27", 0), ("28", "28", 0), ("29", "29", 0)],
            ),
            _item(
                "770214096630",
                "7702",
                "法式碎花雪纺连衣裙女夏收腰显瘦长裙",
                "169.00",
                [("BLU", "蓝色碎花"), ("YEL", "黄色碎花")],
                [("S", "S", 0), ("M", "M", 0), ("L", "L", 0)],
            ),
            _item(
                "506631177208",
                "5066",
                "连帽加绒卫衣女秋冬宽松慵懒风外套",
                "139.00",
                [("GRY", "麻灰色"), ("BLK", "黑色"), ("PRP", "香芋紫")],
                [("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0)],
            ),
        ),
    ),
    DemoShop(
        external_id="tm-68812005",
        platform="tmall",
        name="云眠家居官方旗舰店",
        category="home",
        weight=35,
        items=(
            _item(
                "880152306617",
                "8801",
                "全棉磨毛四件套简约纯色被套床单床上用品",
                "299.00",
                [("GRY", "烟灰"), ("BLU", "雾霾蓝"), ("PNK", "樱花粉")],
                [("15", "1.5m床", 0), ("18", "1.8m床", 40)],
                size_label="适用床尺寸",
            ),
            _item(
                "881577420093",
                "8815",
                "记忆棉护颈枕头慢回弹单人枕芯",
                "89.00",
                [("WHT", "白色")],
                [("STD", "标准款", 0), ("HI", "加高款", 20)],
                size_label="款式",
            ),
            _item(
                "902318865402",
                "9023",
                "316不锈钢保温杯大容量男女便携水杯",
                "79.00",
                [("BLK", "曜石黑"), ("WHT", "珍珠白"), ("GRN", "薄荷绿")],
                [("500", "500ml", 0), ("750", "750ml", 20)],
                size_label="容量",
            ),
            _item(
                "914027731185",
                "9140",
                "加厚塑料收纳箱衣物整理箱带滑轮",
                "49.90",
                [("CLR", "透明"), ("GRY", "灰色")],
                [("45L", "45L", 0), ("65L", "65L", 15), ("90L", "90L", 30)],
                size_label="容量",
            ),
            _item(
                "930746612278",
                "9307",
                "日式陶瓷碗碟套装家用餐具",
                "159.00",
                [("BLU", "青花"), ("WHT", "白瓷")],
                [("10P", "10件套", 0), ("16P", "16件套", 60)],
                size_label="套装",
            ),
        ),
    ),
    DemoShop(
        external_id="jd-10086523",
        platform="jd",
        name="极客派数码旗舰店",
        category="digital",
        weight=20,
        items=(
            _item(
                "100045671201",
                "1201",
                "主动降噪真无线蓝牙耳机长续航运动入耳式",
                "299.00",
                [("BLK", "曜夜黑"), ("WHT", "云母白")],
                [("STD", "标准版", 0)],
                colour_label="颜色",
                size_label="版本",
            ),
            _item(
                "100052881288",
                "1288",
                "20000毫安快充充电宝22.5W自带线",
                "129.00",
                [("BLK", "黑色"), ("WHT", "白色")],
                [("STD", "标准版", 0)],
                colour_label="颜色",
                size_label="版本",
            ),
            _item(
                "100061341305",
                "1305",
                "Type-C数据线100W快充编织线",
                "39.90",
                [("BLK", "黑色"), ("GRY", "深空灰")],
                [("1M", "1米", 0), ("2M", "2米", 10)],
                colour_label="颜色",
                size_label="长度",
            ),
            _item(
                "100078231377",
                "1377",
                "87键机械键盘热插拔有线RGB背光",
                "259.00",
                [("BLK", "黑色"), ("WHT", "白色")],
                [("RED", "红轴", 0), ("BRN", "茶轴", 0), ("BLU", "青轴", 0)],
                colour_label="颜色",
                size_label="轴体",
            ),
            _item(
                "100083901419",
                "1419",
                "手机支架桌面懒人可折叠铝合金",
                "35.00",
                [("SLV", "银色"), ("GRY", "深空灰")],
                [("STD", "标准版", 0)],
                colour_label="颜色",
                size_label="版本",
            ),
        ),
    ),
)

PASSWORD = "demo1234"  # noqa: S105 -- the published demo login

# username, display name, role, shop external ids, skills
TEAM = (
    ("supervisor", "赵敏", "supervisor", ("tb-57301234", "tm-68812005", "jd-10086523"), ()),
    ("agent1", "王芳", "agent", ("tb-57301234", "tm-68812005", "jd-10086523"), ("senior",)),
    ("agent2", "李娜", "agent", ("tb-57301234", "tm-68812005"), ()),
    ("agent3", "张伟", "agent", ("tb-57301234",), ()),
    ("agent4", "刘洋", "agent", ("tm-68812005", "jd-10086523"), ()),
    ("agent5", "陈静", "agent", ("jd-10086523", "tb-57301234"), ()),
)

# Model permissions per group, as (app label, codename). Supervisors get the agents' too.
AGENT_PERMISSIONS = (
    ("tickets", "view_ticket"),
    ("tickets", "view_ticketevent"),
    ("tickets", "view_contactattempt"),
    ("tickets", "view_remedy"),
    ("reviews", "view_review"),
    ("reviews", "view_shop"),
    ("contacts", "view_buyer"),
)
SUPERVISOR_PERMISSIONS = (
    ("reviews", "add_shop"),
    ("reviews", "change_shop"),
    ("reviews", "view_apikey"),
    ("reviews", "add_apikey"),
    ("reviews", "change_apikey"),
    ("reviews", "view_connector"),
    ("reviews", "add_connector"),
    ("reviews", "change_connector"),
    ("reviews", "delete_connector"),
    ("reviews", "view_inboundevent"),
    ("tickets", "view_agentprofile"),
    ("tickets", "add_agentprofile"),
    ("tickets", "change_agentprofile"),
)

COURIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递", "顺丰速运", "邮政EMS")
JD_COURIERS = ("京东快递", "京东物流")

REGIONS = (
    "北京 朝阳区",
    "北京 海淀区",
    "上海 浦东新区",
    "上海 闵行区",
    "广东 广州",
    "广东 深圳",
    "广东 东莞",
    "浙江 杭州",
    "浙江 宁波",
    "浙江 温州",
    "江苏 南京",
    "江苏 苏州",
    "江苏 无锡",
    "四川 成都",
    "重庆 渝北区",
    "湖北 武汉",
    "湖南 长沙",
    "河南 郑州",
    "山东 济南",
    "山东 青岛",
    "福建 厦门",
    "福建 福州",
    "陕西 西安",
    "天津 南开区",
    "安徽 合肥",
    "江西 南昌",
    "辽宁 沈阳",
    "黑龙江 哈尔滨",
    "云南 昆明",
    "广西 南宁",
    "河北 石家庄",
    "新疆 乌鲁木齐",
)

# Nicks as the platforms hand them over: already masked, first and last character kept.
NICK_HEADS = "小大阿tjmxlwzcyhsqkb快爱糖喵猫鱼草木星月风晴"
NICK_TAILS = "0123456789猫鱼儿子呀哒酱宝米熊兔a5e8yo"

# Cause taxonomy (DESIGN.md). weight: share among neutral/negative reviews; dsr: the DSR score
# the cause drags down; revise/delete: how often the buyer revises to positive or deletes.
CAUSES = {
    # logistics 物流
    "slow_delivery": {"group": "logistics", "weight": 11, "dsr": "logistics", "revise": 0.45, "delete": 0.08},
    "lost_parcel": {"group": "logistics", "weight": 3, "dsr": "logistics", "revise": 0.35, "delete": 0.06},
    "courier_attitude": {"group": "logistics", "weight": 4, "dsr": "logistics", "revise": 0.45, "delete": 0.10},
    "fake_signoff": {"group": "logistics", "weight": 3, "dsr": "logistics", "revise": 0.35, "delete": 0.06},
    # product and service 商品与服务
    "poor_quality": {"group": "product", "weight": 14, "dsr": "description", "revise": 0.25, "delete": 0.05},
    "damaged": {"group": "product", "weight": 8, "dsr": "description", "revise": 0.50, "delete": 0.08},
    "not_as_described_colour": {"group": "product", "weight": 5, "dsr": "description", "revise": 0.30, "delete": 0.05},
    "not_as_described_size": {"group": "product", "weight": 7, "dsr": "description", "revise": 0.40, "delete": 0.06},
    "late_shipping": {"group": "product", "weight": 5, "dsr": "logistics", "revise": 0.35, "delete": 0.08},
    "missing_or_wrong_item": {"group": "product", "weight": 6, "dsr": "description", "revise": 0.55, "delete": 0.05},
    "poor_service": {"group": "product", "weight": 6, "dsr": "service", "revise": 0.20, "delete": 0.05},
    # buyer 买家个人
    "changed_mind": {"group": "buyer", "weight": 4, "dsr": "description", "revise": 0.30, "delete": 0.10},
    "expectations_too_high": {"group": "buyer", "weight": 6, "dsr": "description", "revise": 0.15, "delete": 0.05},
    "ordered_wrong_item": {"group": "buyer", "weight": 3, "dsr": "description", "revise": 0.40, "delete": 0.10},
    "misclick": {"group": "buyer", "weight": 3, "dsr": None, "revise": 0.80, "delete": 0.10},
    # abuse 恶意
    "professional_reviewer": {"group": "abuse", "weight": 2, "dsr": "all", "revise": 0.0, "delete": 0.0},
    "extortion": {"group": "abuse", "weight": 2, "dsr": "all", "revise": 0.0, "delete": 0.0},
    "competitor_attack": {"group": "abuse", "weight": 1, "dsr": "all", "revise": 0.0, "delete": 0.0},
    # other
    "unknown": {"group": "other", "weight": 2, "dsr": None, "revise": 0.20, "delete": 0.05},
}

# Review texts by cause and tier. Placeholders: {colour} {other_colour} {size} {courier} {days}.
# Keys: a cause (fits every item), (cause, shop category) or (cause, SKU prefix); the pools of
# all three are mixed, so an item only gets texts that make sense for it.
NEGATIVE_TEXTS = {
    "slow_delivery": {
        "negative": (
            "物流太慢了，下单{days}天才收到，{courier}一直显示运输中，问客服也说不清楚。",
            "等了整整{days}天，急着用的东西拖成这样，体验很差。",
            "{courier}太慢了，在中转站停了四天不动，以后不敢在这家买了。",
        ),
        "neutral": (
            "东西还行，就是快递太慢了，{days}天才到。",
            "商品没什么问题，物流有点慢，给个中评吧。",
        ),
    },
    "lost_parcel": {
        "negative": (
            "显示已揽收之后就再也没有物流信息了，包裹到现在都没收到。",
            "快递丢件了，{courier}说找不到，客服只让我等，等了一个星期还没结果。",
        ),
        "neutral": ("包裹中途丢了一次，后面重新寄的才收到，折腾了好久。",),
    },
    "courier_attitude": {
        "negative": (
            "{courier}的快递员态度极差，不送上门还让我自己下楼去拿，打电话直接挂断。",
            "快递员把东西扔在门口就走了，打电话还骂人，太离谱了。",
        ),
        "neutral": ("东西可以，快递员态度不好，放驿站也不通知一声。",),
    },
    "fake_signoff": {
        "negative": (
            "人根本不在家，物流却显示本人已签收，到处找都没有，{courier}虚假签收！",
            "没收到货就被签收了，联系快递也没人管，希望商家给个说法。",
        ),
        "neutral": ("显示签收了但其实放在了别的驿站，找了两天才拿到。",),
    },
    "poor_quality": {
        "negative": (
            "质量太差了，和详情页说的完全不是一个档次，不推荐购买。",
            "用了没几天就坏了，这质量对不起这个价格。",
        ),
        "neutral": (
            "一分钱一分货吧，质量一般，勉强能用。",
            "做工比较粗糙，有点失望。",
        ),
    },
    ("poor_quality", "apparel"): {
        "negative": (
            "线头特别多，做工很粗糙，{colour}还掉色，把别的衣服都染了。",
            "洗了一次就起球变形了，这质量对不起这个价格。",
        ),
        "neutral": (
            "款式还可以，就是面料有点薄，洗后有轻微缩水。",
            "线头有点多，自己剪了一下，凑合穿吧。",
        ),
    },
    ("poor_quality", "6523"): {
        "negative": (
            "羽绒一直往外钻，穿一天身上全是毛，质量太差。",
            "说是加厚款，穿上一点都不保暖，充绒量肯定不够。",
        ),
    },
    ("poor_quality", "3187"): {"negative": ("洗一次就缩水了一大截，领口也松了。",)},
    ("poor_quality", "4410"): {"negative": ("掉色太严重了，洗的时候整盆水都是蓝的。",)},
    ("poor_quality", "home"): {
        "negative": ("收到有一股很重的味道，放了好几天还有，不敢给孩子用。",),
        "neutral": (
            "有点异味，散了几天才好一些。",
            "手感一般，和之前买的差别挺大。",
        ),
    },
    ("poor_quality", "8801"): {"negative": ("洗了一次就严重缩水起球，根本不是全棉的手感。",)},
    ("poor_quality", "8815"): {"negative": ("睡了一个星期就塌了，回弹特别慢，脖子更酸了。",)},
    ("poor_quality", "9023"): {"negative": ("保温效果很差，早上装的热水中午就凉了，杯盖还漏水。",)},
    ("poor_quality", "9140"): {"negative": ("塑料很薄，装了几件衣服就变形了，盖子都盖不上。",)},
    ("poor_quality", "9307"): {"negative": ("釉面有很多黑点和气泡，有的碗底都不平。",)},
    ("poor_quality", "digital"): {
        "negative": ("做工粗糙，接口松动，用了几天就接触不良。",),
        "neutral": ("能用，但是做工有点粗糙，接口有点松。",),
    },
    ("poor_quality", "1201"): {
        "negative": ("用了三天右耳就没声音了，降噪效果也很一般。",),
        "neutral": ("续航没有宣传的那么久，一般般。",),
    },
    ("poor_quality", "1288"): {
        "negative": (
            "充电的时候发烫得厉害，不敢再用了。",
            "标称20000毫安，实际给手机充两次就没电了。",
        ),
    },
    ("poor_quality", "1305"): {"negative": ("用了一周就接触不良，充电时断时续。",)},
    ("poor_quality", "1377"): {"negative": ("有两个键经常连击，打字根本没法用。",)},
    ("poor_quality", "1419"): {"negative": ("关节太松了，手机放上去就往下掉。",)},
    "damaged": {
        "negative": (
            "收到的时候外包装都压扁了，里面的东西也坏了，拍了照片给客服。",
            "打开就是破损的，明显是发货前就有问题，很失望。",
        ),
        "neutral": ("包装有点破，东西有轻微磕碰，不影响使用但心里不舒服。",),
    },
    ("damaged", "9307"): {
        "negative": ("碗碎了三个，包装只有一层薄薄的泡沫，这样发货肯定碎啊。",),
        "neutral": ("有一个盘子边缘磕掉一小块，其他都还好。",),
    },
    ("damaged", "9140"): {"negative": ("收纳箱盖子裂了一条缝，轮子也掉了一个。",)},
    ("damaged", "digital"): {
        "negative": ("收到外壳有明显划痕，像是被人用过的，怀疑是二手翻新。",),
        "neutral": ("外壳有一道划痕，功能正常。",),
    },
    ("damaged", "1419"): {"negative": ("支架折叠处断了，根本立不住。",)},
    "not_as_described_colour": {
        "negative": (
            "色差太大了，买的{colour}收到跟{other_colour}差不多，跟图片完全两个颜色。",
            "实物颜色和详情页图片差别太大，页面图片是严重滤镜。",
        ),
        "neutral": ("有点色差，{colour}比图片暗一些，能接受吧。",),
    },
    "not_as_described_size": {
        "negative": ("尺寸和描述的不一样，量了一下差了好几厘米。",),
        "neutral": ("实际尺寸比描述的小一点。",),
    },
    ("not_as_described_size", "apparel"): {
        "negative": ("尺码严重偏小，平时穿{size}码的，这件{size}码根本穿不上，和尺码表对不上。",),
        "neutral": ("尺码偏大一码，建议大家买小一号。",),
    },
    ("not_as_described_size", "8801"): {"negative": ("说是{size}用的，床单铺上去四个角根本包不住，尺寸虚标。",)},
    ("not_as_described_size", "9023"): {"neutral": ("实际容量没有{size}，装满也差一截。",)},
    ("not_as_described_size", "9140"): {"neutral": ("实际容量比标的{size}小，装不了多少东西。",)},
    ("not_as_described_size", "1305"): {"negative": ("说是{size}的线，实际量了短了一截。",)},
    "late_shipping": {
        "negative": (
            "说好48小时内发货，结果拖了五天才发，问客服就说在排单。",
            "付款一个星期了才发货，早知道去别家买了。",
        ),
        "neutral": ("发货太慢了，等了好几天才发出。",),
    },
    "missing_or_wrong_item": {
        "negative": (
            "买的{colour}{size}，发来的是{other_colour}，发错货了还要我自己跑去寄回。",
            "少发了一件，订单里明明买了两件只收到一件。",
            "配件缺了，说明书上写的东西没有全部到。",
        ),
        "neutral": ("发错了颜色，懒得换了，凑合用吧。",),
    },
    "poor_service": {
        "negative": (
            "客服态度太差了，问问题半天不回，回了也是机器人一样的话术。",
            "售后推来推去，申请退换一直被拒，再也不会来了。",
        ),
        "neutral": ("东西还可以，客服回复太慢了。",),
    },
    "changed_mind": {
        "negative": ("买了就降价了，不想要了，申请退货还要自己出运费。",),
        "neutral": (
            "东西没什么问题，就是收到后觉得不太喜欢，不太适合我。",
            "家里人说不好看，有点后悔买了。",
        ),
    },
    "expectations_too_high": {
        "negative": ("看了好多人推荐才买的，实物很一般，完全没有想象中好。",),
        "neutral": (
            "感觉一般，没有宣传的那么神奇。",
            "中规中矩吧，没有期待中的效果。",
        ),
    },
    "ordered_wrong_item": {
        "negative": ("自己下单时选错了规格，用不上，退货还挺麻烦。",),
        "neutral": ("没看清规格就下单了，和我需要的不一样。",),
    },
    ("ordered_wrong_item", "apparel"): {"neutral": ("自己拍错了尺码，衣服本身还可以。",)},
    ("ordered_wrong_item", "digital"): {"negative": ("买错型号了，跟我的设备不匹配，用不了。",)},
    # The buyer meant a good review: the text is praise, the rating is not (a ticket all the same).
    "misclick": {
        "negative": (
            "很好很满意，质量不错，物流也快。",
            "宝贝收到了，和描述一致，很喜欢。",
        ),
        "neutral": ("东西挺好的，包装也仔细，推荐购买。",),
    },
    "professional_reviewer": {
        "negative": (
            "产品存在严重质量问题，涉嫌虚假宣传，已拍照录像取证，保留向市场监管部门投诉的权利。",
            "商家以次充好，标签信息与实物不符，已向12315举报，请商家主动联系处理。",
        ),
        "neutral": ("商品标识不规范，已截图留证，等待商家处理。",),
    },
    "extortion": {
        "negative": (
            "东西有问题，不赔三倍货款这个差评我是不会删的。",
            "不给我全额退款还不退货，我就天天来写差评，看谁耗得过谁。",
        ),
        "neutral": ("问题不解决就一直挂着，商家自己看着办。",),
    },
    "competitor_attack": {
        "negative": (
            "全是假货，大家千万别买，浪费钱。",
            "垃圾店铺，图片都是盗的，劝大家别上当。",
        ),
        "neutral": ("不如别家的好，建议去看看其他店。",),
    },
    "unknown": {
        "negative": ("不满意。", "很差。", "差评！"),
        "neutral": ("一般。", "还行吧。", "凑合。"),
    },
}

# Positive reviews are composed of a few fragments (keys: "any", shop category, SKU prefix);
# some buyers write nothing.
POSITIVE_FRAGMENTS = {
    "any": (
        "质量很好",
        "做工精细",
        "性价比很高",
        "和描述的一样",
        "包装很仔细",
        "物流很快，{days}天就到了",
        "客服很耐心",
        "第二次回购了",
        "宝贝收到了，很满意",
        "物超所值",
        "比想象中的好",
        "推荐购买",
    ),
    "apparel": (
        "面料舒服，上身效果很好",
        "{colour}很正，很显白",
        "尺码标准，平时穿{size}码刚好",
        "版型好，很显瘦",
        "没有线头，做工不错",
    ),
    "6523": ("穿着很暖和", "充绒量很足，一点都不钻绒"),
    "5066": ("加绒的很暖和",),
    "4410": ("洗了也不掉色",),
    "home": ("没有异味，可以直接用", "{colour}很温柔，和家里很搭"),
    "8801": ("手感很舒服，洗了也不起球",),
    "8815": ("睡着很舒服，脖子不酸了",),
    "9023": ("保温效果不错，早上的热水晚上还是温的",),
    "9140": ("容量大，很实用",),
    "9307": ("瓷很白很细腻，包装也很严实",),
    "digital": ("做工扎实，手感很好",),
    "1201": ("音质不错，降噪效果很明显", "连接稳定，没有断连"),
    "1288": ("充电很快，续航也可以",),
    "1305": ("线很结实，充电速度快",),
    "1377": ("打字手感很棒",),
    "1419": ("很稳，看视频很方便",),
}
POSITIVE_ENDINGS = ("！", "。", "，好评！", "，下次还来。", "，满意。")
DEFAULT_POSITIVE_TEXTS = ("此用户没有填写评价。", "系统默认好评")

# A neutral/negative review revised to positive: the problem was solved or was a misunderstanding.
REVISED_TEXTS = {
    "logistics": (
        "之前因为物流慢给了差评，后来收到了，东西本身没问题，重新评价一下。",
        "快递的问题不怪商家，客服也帮忙跟进了，东西挺好的。",
    ),
    "product": (
        "换了一件新的，这次没有问题了，质量可以。",
        "客服很负责，问题处理好了，东西本身还不错。",
        "联系客服后很快解决了，重新评价。",
    ),
    "buyer": (
        "是我自己没看清，和客服沟通后弄明白了，东西没问题。",
        "之前评价有误，东西挺好的。",
    ),
    "misclick": (
        "之前手滑点错了，东西很好，重新评价。",
        "点错了评价，特此更正，很满意。",
    ),
    "other": ("问题已经解决了，重新评价。",),
}

# 追评: a negative one after a problem that stayed, a positive one after weeks of use.
FOLLOWUP_NEGATIVE = (
    "追评：用了一段时间问题更严重了，联系客服也没有给出解决办法。",
    "追评：到现在还没有人处理，非常失望。",
    "追评：换回来的还是一样的问题。",
)
FOLLOWUP_POSITIVE = (
    "用了一个月了，质量依旧很好。",
    "洗过几次了，没有变形也没有掉色，不错。",
    "用了几周，没有发现问题，值得购买。",
)
# JD has no revision: a buyer whose problem got solved says so in a follow-up.
FOLLOWUP_SOLVED = (
    "后来客服主动联系了，补发了缺少的配件，问题解决了，客服态度很好。",
    "售后很快给换了新的，新的用着没问题。",
    "客服耐心解释了使用方法，现在用着正常了。",
)

# 评价解释: the seller's public explanation. Apologise, explain, point to after-sales; never offer
# anything in exchange for the review.
SELLER_REPLIES = {
    "logistics": (
        "亲，非常抱歉物流给您带来了不好的体验。包裹我们当天就发出了，已向{courier}反馈核实，客服会联系您跟进处理。",
        "抱歉让您久等了，近期部分地区快递中转压力大，我们已在催促快递公司，有问题请随时联系在线客服。",
    ),
    "product": (
        "亲，非常抱歉给您带来不好的购物体验。我们已核实订单，售后客服会尽快联系您处理，请留意消息。",
        "感谢您的反馈，我们已将问题反馈给品控部门，如需退换货请联系在线客服，我们会全程跟进。",
    ),
    "buyer": (
        "亲，感谢您的反馈。如果尺码或规格不合适，支持七天无理由退换，有任何问题欢迎联系客服。",
        "感谢您的反馈，下单前如对规格有疑问可以先咨询客服，我们会帮您确认。",
    ),
    "abuse": (
        "经核实，该买家收货后未联系客服，直接以差评要求额外赔偿。我们已保留聊天记录并向平台投诉，商品均有正规质检报告。",
        "本店商品均有质检报告，该评价内容与实际情况不符，我们已提交平台核实。",
    ),
    "other": ("感谢您的反馈，我们会持续改进，如有问题请联系在线客服。",),
}
POSITIVE_REPLIES = ("感谢亲的认可，期待您的再次光临！", "谢谢支持，有任何问题随时联系客服哦。")
