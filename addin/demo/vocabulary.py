"""The demo's world: names, companies, places, products, and the words of a sales team.

Plain data plus the small constructors that build it. Most phrases come as ``(zh, en)`` pairs
(:data:`Pair`): the Chinese version for Chinese customers or a Chinese workbook, the English one
otherwise. Weights are relative: only their ratios matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

Pair = tuple[str, str]  # (Chinese, English) versions of one phrase


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _pairs(text: str) -> list[Pair]:
    """``"王 wang 李 li"`` -> ``[("王", "wang"), ("李", "li")]``."""
    words = text.split()
    return list(zip(words[0::2], words[1::2]))


SURNAMES = _pairs(
    "王 wang 李 li 张 zhang 刘 liu 陈 chen 杨 yang 赵 zhao 黄 huang 周 zhou 吴 wu 徐 xu "
    "孙 sun 胡 hu 朱 zhu 高 gao 林 lin 何 he 郭 guo 马 ma 罗 luo 梁 liang 宋 song 郑 zheng "
    "谢 xie 韩 han 唐 tang 冯 feng 于 yu 董 dong 程 cheng 曹 cao 袁 yuan 邓 deng 沈 shen "
    "曾 zeng 彭 peng 吕 lv 蒋 jiang 蔡 cai 潘 pan 丁 ding 魏 wei 叶 ye 任 ren 姚 yao 卢 lu"
)
SURNAME_WEIGHTS = [1 / (rank + 4) for rank in range(len(SURNAMES))]  # 王, 李, 张 most common
GIVEN = _pairs(
    "伟 wei 芳 fang 娜 na 敏 min 静 jing 丽 li 强 qiang 磊 lei 军 jun 洋 yang 勇 yong 艳 yan "
    "杰 jie 涛 tao 明 ming 超 chao 秀英 xiuying 华 hua 建国 jianguo 晓东 xiaodong 海燕 haiyan "
    "志强 zhiqiang 雪梅 xuemei 俊杰 junjie 思远 siyuan 子涵 zihan 欣怡 xinyi 宇航 yuhang "
    "文博 wenbo 佳琪 jiaqi 浩然 haoran 婷婷 tingting 建华 jianhua 玉兰 yulan 晨 chen 鹏 peng "
    "斌 bin 慧 hui 颖 ying 琳 lin 凯 kai 毅 yi 国强 guoqiang 丽娟 lijuan 春梅 chunmei 宏 hong"
)
# Brand words of Chinese company names, with pinyin by syllable (for initials: 恒达 -> hd).
BRANDS = _pairs(
    "恒达 heng-da 华信 hua-xin 鑫源 xin-yuan 远航 yuan-hang 瑞丰 rui-feng 博远 bo-yuan "
    "汇通 hui-tong 金桥 jin-qiao 嘉禾 jia-he 天成 tian-cheng 宏图 hong-tu 立信 li-xin "
    "云帆 yun-fan 盛世 sheng-shi 永康 yong-kang 德润 de-run 鼎盛 ding-sheng 安泰 an-tai "
    "易联 yi-lian 卓越 zhuo-yue 海纳 hai-na 启明 qi-ming 正通 zheng-tong 明辉 ming-hui "
    "万嘉 wan-jia 同创 tong-chuang 和信 he-xin 佳美 jia-mei 润泽 run-ze 星河 xing-he "
    "锦程 jin-cheng 富源 fu-yuan 长青 chang-qing"
)
# (word in the company name, its pinyin, its English, industry key)
TRADES: tuple[tuple[str, str, str, str], ...] = (
    ("贸易", "maoyi", "Trading", "trade"),
    ("商贸", "shangmao", "Commerce", "trade"),
    ("科技", "keji", "Technology", "software"),
    ("信息技术", "xinxi", "Information Technology", "software"),
    ("电子", "dianzi", "Electronics", "electronics"),
    ("机械", "jixie", "Machinery", "manufacturing"),
    ("精密制造", "jingmi", "Precision Manufacturing", "manufacturing"),
    ("医疗器械", "yiliao", "Medical Devices", "healthcare"),
    ("物流", "wuliu", "Logistics", "logistics"),
    ("供应链", "gongyinglian", "Supply Chain", "logistics"),
    ("食品", "shipin", "Foods", "food"),
    ("纺织", "fangzhi", "Textiles", "textiles"),
    ("服饰", "fushi", "Apparel", "textiles"),
    ("教育科技", "jiaoyu", "Education Technology", "education"),
    ("建设工程", "jianshe", "Construction Engineering", "construction"),
    ("连锁超市", "chaoshi", "Supermarkets", "retail"),
    ("企业管理咨询", "zixun", "Management Consulting", "services"),
)
INDUSTRIES: dict[str, Pair] = {
    "trade": ("批发贸易", "Wholesale & trade"),
    "software": ("软件和信息技术", "Software & IT"),
    "electronics": ("电子", "Electronics"),
    "manufacturing": ("制造业", "Manufacturing"),
    "healthcare": ("医疗健康", "Healthcare"),
    "logistics": ("物流运输", "Logistics"),
    "food": ("食品饮料", "Food & beverage"),
    "textiles": ("纺织服装", "Textiles & apparel"),
    "education": ("教育", "Education"),
    "construction": ("建筑工程", "Construction"),
    "retail": ("零售", "Retail"),
    "services": ("专业服务", "Professional services"),
}
# (city, pinyin, region, telephone area code, weight)
CITIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("上海", "Shanghai", "华东", "21", 9),
    ("杭州", "Hangzhou", "华东", "571", 6),
    ("苏州", "Suzhou", "华东", "512", 5),
    ("南京", "Nanjing", "华东", "25", 4),
    ("宁波", "Ningbo", "华东", "574", 4),
    ("厦门", "Xiamen", "华东", "592", 2),
    ("青岛", "Qingdao", "华东", "532", 2),
    ("北京", "Beijing", "华北", "10", 7),
    ("天津", "Tianjin", "华北", "22", 3),
    ("石家庄", "Shijiazhuang", "华北", "311", 1),
    ("广州", "Guangzhou", "华南", "20", 5),
    ("深圳", "Shenzhen", "华南", "755", 6),
    ("东莞", "Dongguan", "华南", "769", 3),
    ("佛山", "Foshan", "华南", "757", 2),
    ("成都", "Chengdu", "西南", "28", 4),
    ("重庆", "Chongqing", "西南", "23", 3),
    ("昆明", "Kunming", "西南", "871", 1),
    ("武汉", "Wuhan", "华中", "27", 4),
    ("长沙", "Changsha", "华中", "731", 3),
    ("郑州", "Zhengzhou", "华中", "371", 2),
)
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 158 159 166 177 180 181 "
    "186 187 188 189 198 199"
)
CN_TITLES = ("采购经理", "总经理", "IT主管", "运营总监", "财务经理", "行政主管", "副总经理")
EN_TITLES = (
    "Purchasing Manager",
    "Operations Director",
    "IT Manager",
    "Managing Director",
    "Head of Procurement",
    "Office Manager",
    "CFO",
)

EN_FIRST = _words(
    "James Emma Oliver Sophie Michael Olivia Daniel Charlotte David Amelia Thomas Grace Ryan "
    "Chloe Matthew Hannah Andrew Lucy Mark Rachel Peter Laura Sean Megan Liam Jessica Nathan "
    "Emily Robert Sarah Kevin Natalie Simon Anna Paul Claire"
)
EN_LAST = _words(
    "Smith Johnson Brown Taylor Wilson Evans Walker Wright Thompson Hughes Clarke Roberts "
    "Green Hall Wood Harris Lewis Martin Turner Cooper Parker Bennett Morgan Reed"
)
NICKNAMES = {"Michael": "Mike", "Robert": "Bob", "Andrew": "Andy", "Matthew": "Matt"}
EN_BRANDS = _words(
    "Northwind Bluewater Redwood Silverline Harbor Summit Pinecrest Brightpath Ironbridge "
    "Clearwater Maple Oakridge Kestrel Lakeside Greenfield Westbrook Highland Cobalt Atlas "
    "Meridian Beacon Evergreen Falcon Granite Horizon Riverstone Sterling Willow Fairview "
    "Copperleaf Northstar Bayside"
)
EN_TRADES: tuple[tuple[str, str], ...] = (
    ("Traders", "trade"),
    ("Supplies", "trade"),
    ("Logistics", "logistics"),
    ("Freight", "logistics"),
    ("Foods", "food"),
    ("Retail", "retail"),
    ("Stores", "retail"),
    ("Systems", "software"),
    ("Software", "software"),
    ("Analytics", "software"),
    ("Health", "healthcare"),
    ("Medical", "healthcare"),
    ("Engineering", "manufacturing"),
    ("Manufacturing", "manufacturing"),
    ("Electronics", "electronics"),
    ("Apparel", "textiles"),
    ("Learning", "education"),
    ("Builders", "construction"),
    ("Consulting", "services"),
)


@dataclass(frozen=True)
class Country:
    code: str
    region: str
    currency: str
    tld: str
    suffixes: tuple[str, ...]
    phone: str  # a format: "#" is a random digit, "N" one from 2 to 9
    weight: int
    surnames: tuple[str, ...] = ()  # local surnames mixed into the English ones
    city: str = ""


COUNTRIES = (
    Country("US", "North America", "USD", ".com", ("Inc.", "LLC", "Corp."), "+1 312 555 01##", 10,
             (), "Chicago"),
    Country("CA", "North America", "USD", ".ca", ("Inc.", "Ltd."), "+1 416 555 01##", 3,
             (), "Toronto"),
    Country("GB", "EMEA", "USD", ".co.uk", ("Ltd", "Limited", "plc"), "+44 20 7946 0###", 6,
             (), "London"),
    Country("IE", "EMEA", "EUR", ".ie", ("Ltd", "Limited"), "+353 1 N## ####", 3,
             ("Murphy", "Kelly", "O'Brien", "Byrne", "Walsh"), "Dublin"),
    Country("NL", "EMEA", "EUR", ".nl", ("B.V.",), "+31 20 N## ####", 2,
             ("de Vries", "Jansen", "Bakker"), "Amsterdam"),
    Country("DE", "EMEA", "EUR", ".de", ("GmbH",), "+49 30 N### ####", 2,
             ("Müller", "Schmidt", "Weber"), "Berlin"),
    Country("AE", "EMEA", "USD", ".ae", ("LLC", "FZE"), "+971 4 N## ####", 1,
             ("Khan", "Al Mansouri"), "Dubai"),
    Country("ZA", "EMEA", "USD", ".co.za", ("(Pty) Ltd",), "+27 21 N## ####", 1,
             ("van der Merwe", "Naidoo"), "Cape Town"),
    Country("AU", "APAC", "USD", ".com.au", ("Pty Ltd",), "+61 2 5550 ####", 4,
             (), "Sydney"),
    Country("SG", "APAC", "USD", ".com.sg", ("Pte. Ltd.",), "+65 6### ####", 3,
             ("Tan", "Lim", "Ng"), "Singapore"),
    Country("NZ", "APAC", "USD", ".co.nz", ("Limited",), "+64 9 N## ####", 1,
             (), "Auckland"),
    Country("IN", "APAC", "USD", ".in", ("Pvt. Ltd.",), "+91 80 N### ####", 1,
             ("Patel", "Sharma", "Iyer"), "Bengaluru"),
)  # fmt: skip

# Sales reps: (name, serves Chinese customers weight, serves English customers weight)
REPS: tuple[tuple[str, int, int], ...] = (
    ("王芳", 4, 0),
    ("李强", 3, 0),
    ("陈静", 3, 0),
    ("Kevin Zhang", 1, 2),
    ("Emily Carter", 0, 3),
    ("James Wilson", 0, 2),
)
SUPPORT = (("赵敏", 3, 0), ("孙悦", 2, 0), ("Sarah Lee", 0, 3), ("Kevin Zhang", 0, 1))

# (zh, en, weight for Chinese customers, weight for English ones)
SOURCES: tuple[tuple[str, str, int, int], ...] = (
    ("官网", "Website", 18, 22),
    ("展会", "Trade show", 18, 18),
    ("客户转介绍", "Referral", 15, 14),
    ("电话营销", "Cold call", 9, 6),
    ("微信", "WeChat", 14, 0),
    ("百度推广", "Baidu ads", 12, 0),
    ("阿里巴巴国际站", "Alibaba.com", 0, 12),
    ("领英", "LinkedIn", 0, 14),
    ("谷歌广告", "Google Ads", 0, 8),
    ("合作伙伴", "Partner", 8, 6),
)
TRADE_SHOW: Pair = ("展会", "Trade show")
TAGS: dict[str, Pair] = {
    "vip": ("VIP", "VIP"),
    "key": ("大客户", "Key account"),
    "reseller": ("渠道商", "Reseller"),
    "renewal": ("待续约", "Renewal due"),
    "newsletter": ("订阅简报", "Newsletter"),
    "price": ("价格敏感", "Price sensitive"),
    "public": ("政企", "Public sector"),
    "trial": ("试用中", "Trial"),
}


class Product(NamedTuple):
    sku: str
    name: str
    short: str  # for deal titles
    price: float
    currency: str
    unit: str
    kind: str  # licence, subscription, service, hardware
    low: int  # typical quantities in one deal
    high: int


PRODUCTS = (
    Product("CRM-STD-CN", "客户管理软件 标准版", "CRM标准版", 19800, "CNY", "套", "licence", 1, 3),
    Product("CRM-PRO-CN", "客户管理软件 专业版", "CRM专业版", 49800, "CNY", "套", "licence", 1, 2),
    Product("CLOUD-10-CN", "云服务订阅（10用户）", "云服务订阅", 12000, "CNY", "年",
             "subscription", 1, 6),
    Product("IMPL-CN", "实施服务", "实施服务", 2500, "CNY", "人天", "service", 5, 40),
    Product("TRAIN-CN", "现场培训", "现场培训", 8000, "CNY", "次", "service", 1, 4),
    Product("SUPPORT-CN", "年度维保服务", "年度维保", 9800, "CNY", "年", "subscription", 1, 3),
    Product("SCAN-200", "无线条码扫描枪", "扫描枪", 1280, "CNY", "台", "hardware", 5, 60),
    Product("POS-X5", "POS 收银一体机", "收银一体机", 4980, "CNY", "台", "hardware", 2, 30),
    Product("CRM-STD-INT", "CRM Software Standard Edition", "CRM licences", 2900, "USD", "pcs",
             "licence", 1, 3),
    Product("CLOUD-10-INT", "Cloud subscription (10 users)", "Cloud subscription", 1800, "USD",
             "year", "subscription", 1, 6),
    Product("IMPL-INT", "Remote implementation services", "Implementation", 600, "USD", "day",
             "service", 5, 30),
    Product("TERM-H1", "Handheld data terminal H1", "Handheld terminals", 690, "USD", "pcs",
             "hardware", 5, 80),
)  # fmt: skip
KIND_WEIGHTS = {"licence": 4, "subscription": 4, "service": 3, "hardware": 3}
TO_USD = {"USD": 1.0, "EUR": 1.09, "CNY": 0.139}  # fixed demo rates
PROBABILITY = {
    "Lead": 0.1,
    "Qualified": 0.25,
    "Proposal": 0.5,
    "Negotiation": 0.7,
    "Won": 1.0,
    "Lost": 0.0,
}
OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")

CONCERNS: tuple[Pair, ...] = (
    ("价格和付款方式", "pricing and payment terms"),
    ("数据安全", "data security"),
    ("实施周期", "the implementation timeline"),
    ("售后响应速度", "support response times"),
    ("与现有ERP的对接", "integration with their ERP"),
    ("移动端支持", "mobile access"),
    ("数据迁移", "migrating their old data"),
)
NEXT_STEPS: tuple[Pair, ...] = (
    ("发送正式报价单", "send a formal quote"),
    ("安排产品演示", "schedule a product demo"),
    ("提供同行业案例", "share a customer case study"),
    ("约技术负责人开会", "set up a call with their IT lead"),
    ("准备合同草稿", "prepare the draft contract"),
    ("申请特价审批", "get a discount approved internally"),
)
# Subjects by kind and phase of the deal: (zh, en)
SUBJECTS: dict[str, dict[str, tuple[Pair, ...]]] = {
    "call": {
        "early": (
            ("初次电话沟通需求", "Intro call"),
            ("电话确认预算和采购时间", "Call: budget and timeline"),
        ),
        "mid": (
            ("电话跟进报价", "Follow-up call on the quote"),
            ("电话解答技术问题", "Call: technical questions"),
        ),
        "late": (
            ("电话沟通合同付款条款", "Call: contract and payment terms"),
            ("电话确认签约时间", "Call: signing date"),
        ),
        "after": (
            ("售后回访电话", "Customer check-in call"),
            ("电话确认续约意向", "Call: renewal plans"),
        ),
        "general": (
            ("节日问候电话", "Courtesy call"),
            ("回访了解近况", "Catch-up call"),
        ),
    },
    "meeting": {
        "early": (
            ("上门拜访：了解业务流程", "Discovery meeting"),
            ("展会现场洽谈", "Meeting at the trade show"),
        ),
        "mid": (("产品演示会", "Product demo (Teams)"), ("方案讲解会议", "Proposal walkthrough")),
        "late": (
            ("商务谈判会议", "Negotiation meeting"),
            ("合同条款评审会", "Contract review meeting"),
        ),
        "after": (
            ("项目启动会", "Project kick-off"),
            ("季度业务回顾", "Quarterly business review"),
        ),
        "general": (
            ("年度客户答谢会", "Customer appreciation event"),
            ("拜访客户总经理", "Visit with the managing director"),
        ),
    },
}
NOTES: tuple[Pair, ...] = (
    (
        "客户决策链：{name}推荐，总经理拍板。",
        "Decision chain: {name} recommends, the MD signs off.",
    ),
    ("竞品报价低约10%，需突出实施和售后优势。", "Competitor is ~10% cheaper; stress our support."),
    (
        "客户要求提供营业执照和软件著作权证书复印件。",
        "They asked for our ISO certificate and references.",
    ),
    ("对方财务流程较慢，付款通常需要45天。", "Their accounts payable run on 60-day terms."),
    ("{name}下月休假，期间由同事对接。", "{name} is on leave next month; a colleague covers."),
    ("客户更习惯用微信沟通，邮件回复较慢。", "Prefers short emails; slow to answer the phone."),
    ("已寄送样机，请跟进试用反馈。", "Sample unit shipped; follow up on their trial."),
)
DEAL_NOTES: dict[str, tuple[Pair, ...]] = {
    "Lead": (
        ("官网留资，需确认预算和决策人", "Web enquiry; budget and decision maker unknown"),
        ("展会上交换名片，对{product}感兴趣", "Met at the trade show, interested in {product}"),
    ),
    "Qualified": (
        ("预算已确认，决策人为{title}", "Budget confirmed; decision maker is the {title}"),
        ("需求明确，关注{concern}", "Clear need; main concern is {concern}"),
    ),
    "Proposal": (
        ("已发送报价单，客户内部评审中", "Quote sent, under internal review"),
        ("方案已演示，等待技术部门反馈", "Demo done, waiting for their IT team"),
    ),
    "Negotiation": (
        ("客户要求九折优惠，合同条款审核中", "Asking for 10% off; legal reviewing terms"),
        ("价格基本谈妥，等待盖章", "Price agreed, waiting for signature"),
    ),
    "Won": (
        ("合同已签，首付款50%已到账", "Signed; 50% deposit received"),
        ("已签约，下月安排实施", "Signed; rollout scheduled next month"),
    ),
    "Lost": (
        ("价格高于竞品，客户选择了其他供应商", "Lost on price to a competitor"),
        ("预算被砍，项目暂停", "Budget cut, project on hold"),
        ("客户决定自研", "They decided to build in-house"),
    ),
}
CUSTOMER_NOTES: tuple[Pair, ...] = (
    ("联系人职务：{title}", "{title}"),
    ("{title}，偏好微信沟通", "{title}; prefers email"),
    ("{title}，每年第四季度做预算", "{title}; budget cycle starts in Q4"),
    ("{title}，只在工作日上午方便接电话", "{title}; best reached mornings {city} time"),
)
# Tickets: (type, zh subject, en subject, zh description, en description)
TICKETS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "failure",
        "扫描枪无法连接收银系统",
        "Scanner won't pair with the POS",
        "今天早上开始扫描枪连不上收银机，重启后仍然无效，影响门店收银。",
        "Since this morning the scanners cannot pair with the tills; restarting did not help.",
    ),
    (
        "failure",
        "系统登录后白屏",
        "Blank screen after login",
        "多名同事登录后页面空白，清除缓存后依旧，请尽快处理。",
        "Several users get a blank page after login, even after clearing the cache.",
    ),
    (
        "failure",
        "数据同步失败，提示超时",
        "Data sync fails with a timeout",
        "夜间同步任务连续三天失败，日志显示连接超时。",
        "The nightly sync has failed three nights in a row with a connection timeout.",
    ),
    (
        "failure",
        "打印机无法识别标签纸",
        "Label printer does not detect labels",
        "更换新标签纸后打印机一直报错，无法出单。",
        "After loading a new roll the printer keeps showing an error and prints nothing.",
    ),
    (
        "complaint",
        "发票迟迟未收到",
        "Invoice still not received",
        "合同签订已一个多月，增值税专用发票一直没有收到，财务无法付款。",
        "We signed over a month ago and still have no invoice, so we cannot pay.",
    ),
    (
        "complaint",
        "实施顾问多次改期",
        "Consultant rescheduled three times",
        "实施顾问已经三次临时改期，严重影响我们的上线计划。",
        "The implementation consultant has moved our session three times; go-live is at risk.",
    ),
    (
        "complaint",
        "售后电话无人接听",
        "Support line not answering",
        "连续两天拨打售后电话都无人接听，希望给个说法。",
        "Nobody has answered the support line for two days.",
    ),
    (
        "question",
        "如何导出月度销售报表",
        "How to export the monthly sales report",
        "请问在哪里导出按销售员汇总的月度报表？",
        "Where can we export the monthly report grouped by sales rep?",
    ),
    (
        "question",
        "如何增加用户账号",
        "How do we add user seats?",
        "新来了三位同事，需要增加账号，请问流程和费用？",
        "Three new staff joined; how do we add seats and what does it cost?",
    ),
    (
        "question",
        "订阅到期后数据如何保留",
        "What happens to our data at renewal?",
        "年度订阅快到期了，如果暂不续费，数据会保留多久？",
        "Our subscription ends soon; how long is our data kept if we pause?",
    ),
    (
        "request",
        "希望增加批量导入客户功能",
        "Request: bulk import of customers",
        "希望能从Excel批量导入客户资料，目前只能逐条录入。",
        "We would like to import customers from Excel instead of one by one.",
    ),
    (
        "request",
        "申请开通API接口",
        "Request API access",
        "我们的ERP需要对接，申请开通API权限并提供文档。",
        "Please enable API access for our ERP integration and send the docs.",
    ),
    (
        "request",
        "申请安排现场培训",
        "Request an on-site training session",
        "新门店下月开业，希望安排一次现场培训。",
        "A new branch opens next month; can you run a training session there?",
    ),
    (
        "feedback",
        "新版界面更清晰但加载偏慢",
        "New UI is clearer but slower",
        "新版界面好用很多，不过报表页面加载比以前慢。",
        "The new interface is much nicer, but the reports page loads slowly.",
    ),
    (
        "feedback",
        "培训讲师很专业",
        "Great trainer",
        "上周的培训讲得很清楚，同事们反馈很好，特此感谢。",
        "Last week's training was very clear; the team loved it. Thank you!",
    ),
)
SLA_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
