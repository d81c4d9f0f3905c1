"""Synthetic mainland-China customers and vehicles, generated fast enough to COPY a million of each.

Rows come out as chunks of PostgreSQL ``COPY ... FROM STDIN`` text (tab-separated, one row a
line), drawn column-wise with ``random.choices`` so the per-row Python work stays small. Ids are
assigned here (1..n), so vehicles can point at their owners without a round trip; customer ``i``
belongs to rooftop ``i mod len(rooftops)`` and a vehicle to its owner's rooftop.

The data looks like a mainland front desk's: Chinese names weighted like the real surname
distribution (2 or 3 characters, a few compound surnames), ~3% companies and a few Latin-letter
names; unique mobile numbers in E.164; plates in the mainland format (local province mostly, ~15%
new-energy plates); VINs of Chinese joint-venture makers with a valid check digit.
"""

from __future__ import annotations

import calendar
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from crm.demo import YEAR_CODES
from crm.validators import MAINLAND_PLATE, MAINLAND_PROVINCES, vin_check_digit

# The ~100 most common surnames with their share of the population in percent (approximate).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12),
    ("李", 7.19),
    ("张", 6.83),
    ("刘", 5.38),
    ("陈", 4.53),
    ("杨", 3.08),
    ("黄", 2.23),
    ("赵", 2.29),
    ("吴", 2.05),
    ("周", 2.00),
    ("徐", 1.67),
    ("孙", 1.54),
    ("马", 1.29),
    ("朱", 1.26),
    ("胡", 1.24),
    ("郭", 1.15),
    ("何", 1.18),
    ("高", 1.00),
    ("林", 1.02),
    ("罗", 0.87),
    ("郑", 0.81),
    ("梁", 0.80),
    ("谢", 0.72),
    ("宋", 0.66),
    ("唐", 0.65),
    ("许", 0.63),
    ("韩", 0.61),
    ("冯", 0.60),
    ("邓", 0.58),
    ("曹", 0.56),
    ("彭", 0.55),
    ("曾", 0.54),
    ("肖", 0.53),
    ("田", 0.52),
    ("董", 0.51),
    ("袁", 0.50),
    ("潘", 0.48),
    ("于", 0.47),
    ("蒋", 0.46),
    ("蔡", 0.45),
    ("余", 0.44),
    ("杜", 0.43),
    ("叶", 0.42),
    ("程", 0.41),
    ("苏", 0.40),
    ("魏", 0.39),
    ("吕", 0.38),
    ("丁", 0.37),
    ("任", 0.36),
    ("沈", 0.35),
    ("姚", 0.34),
    ("卢", 0.33),
    ("姜", 0.32),
    ("崔", 0.31),
    ("钟", 0.30),
    ("谭", 0.29),
    ("陆", 0.28),
    ("汪", 0.27),
    ("范", 0.26),
    ("金", 0.25),
    ("石", 0.24),
    ("廖", 0.23),
    ("贾", 0.22),
    ("夏", 0.21),
    ("韦", 0.20),
    ("付", 0.20),
    ("方", 0.19),
    ("白", 0.19),
    ("邹", 0.18),
    ("孟", 0.18),
    ("熊", 0.17),
    ("秦", 0.17),
    ("邱", 0.16),
    ("江", 0.16),
    ("尹", 0.15),
    ("薛", 0.15),
    ("闫", 0.14),
    ("段", 0.14),
    ("雷", 0.13),
    ("侯", 0.13),
    ("龙", 0.12),
    ("史", 0.12),
    ("陶", 0.11),
    ("黎", 0.11),
    ("贺", 0.11),
    ("顾", 0.10),
    ("毛", 0.10),
    ("郝", 0.10),
    ("龚", 0.10),
    ("邵", 0.10),
    ("万", 0.09),
    ("钱", 0.09),
    ("严", 0.09),
    ("覃", 0.08),
    ("武", 0.08),
    ("戴", 0.08),
    ("莫", 0.08),
    ("孔", 0.07),
    ("向", 0.07),
    ("汤", 0.07),
    ("欧阳", 0.03),
    ("司马", 0.01),
    ("上官", 0.01),
    ("诸葛", 0.01),
)

# Common given-name characters, most common first; drawn with a flat Zipf weight (rank ** -0.6).
GIVEN_NAME_CHARACTERS = "".join(
    dict.fromkeys(
        "伟芳娜敏静秀英丽强磊军洋勇艳杰娟涛明超霞平刚桂华玉萍红玲鹏飞建国志文海波宇浩鑫婷雪琳晨欣怡佳子轩涵"
        "梓萱一诺雨睿博俊宏燕琴梅莉云凤洁蕾颖露瑶晶倩阳健斌宁凯帅旭东林峰亮成龙辉新春兵金德荣生福祥贵胜利"
        "清光天永庆忠安家嘉铭泽昊然晓小丹慧巧美淑惠珍贞莹雅芝菊月凡琪悦思梦可馨彤璐妍琦薇婧雯璇菲楠蓉蓓岚"
        "茜媛婉妮娇琼翠香兰珊洪辰逸航杨毅坤鸿锋翔钧宸豪彬瀚哲奕烨煜晟彦霖楷锐骏驰源卓栋良康立伦力振武义仁"
        "富顺信和兴旺发达耀宝山川江河湖松柏森树木青蓝紫晴朗星皓琛瑞祺瑜璋琨钰锦绍维纪继承传世启泰恒宜益谦"
        "诚敬勤俭守保卫民援朝跃进向学长冬秋夏荷素花芬娥姣彩贤聪灵雄威猛坚乐欢喜禄寿吉如意善孝礼智才能通知"
        "识想远图业程万里腾奔骋晖昕琰珏璟铮钊锴镇凌霄云帆舟"
    )
)
LATIN_GIVEN_NAMES = (
    "David",
    "Michael",
    "Kevin",
    "Jason",
    "Tony",
    "Jack",
    "Lucy",
    "Grace",
    "Emma",
    "Linda",
    "Amy",
    "Helen",
    "Peter",
    "Eric",
    "Frank",
    "Steven",
    "Vivian",
    "Cindy",
    "Alice",
    "Leo",
)
LATIN_SURNAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
)
COMPANY_CITIES = ("上海", "杭州", "苏州", "宁波", "无锡", "嘉兴", "南京", "绍兴")
COMPANY_TRADES = ("汽车租赁", "物流", "科技", "贸易", "建设工程", "餐饮管理", "电子商务", "出行服务")

# Name shapes: surname + 1 given character, surname + 2, a Latin-letter name, a company.
SINGLE, DOUBLE, LATIN, COMPANY = "single", "double", "latin", "company"
NAME_SHAPES: tuple[tuple[str, float], ...] = ((SINGLE, 28.0), (DOUBLE, 66.0), (LATIN, 3.0), (COMPANY, 3.0))

# Mainland mobile prefixes that libphonenumber accepts as mobile for any 8-digit subscriber part.
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "197",
    "198",
    "199",
)
SUBSCRIBER_NUMBERS = 10**8

PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # the letters after the province: no I or O
PLATE_TAIL_CHARACTERS = "0123456789" + PLATE_LETTERS
# A plate's serial is mostly digits: each character is a digit 85% of the time.
PLATE_TAIL_WEIGHTS = (0.85 / 10,) * 10 + (0.15 / len(PLATE_LETTERS),) * len(PLATE_LETTERS)
LOCAL_PLATE_SHARE = 0.85
NEW_ENERGY_SHARE = 0.15
NO_PLATE_SHARE = 0.02

VIN_CHARACTERS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O or Q
VIN_SERIALS = 10**6
# (WMI, make, model, trims) of joint-venture makers; each model gets a few VDS codes.
MODELS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("LSV", "大众", "朗逸", ("1.5L 舒适版", "1.5L 豪华版")),
    ("LSV", "大众", "帕萨特", ("330TSI 精英版", "380TSI 旗舰版")),
    ("LSV", "大众", "途观L", ("330TSI 两驱智享版", "380TSI 四驱R-Line")),
    ("LFV", "大众", "速腾", ("200TSI 飞越版", "300TSI 超越版")),
    ("LFV", "大众", "迈腾", ("330TSI 领先型", "380TSI 尊贵型")),
    ("LFV", "大众", "探岳", ("280TSI 两驱豪华智联版", "330TSI 四驱R-Line")),
    ("LVS", "福特", "福克斯", ("EcoBoost 180 锋潮型",)),
    ("LVS", "福特", "蒙迪欧", ("EcoBoost 245 至尊型", "EcoBoost 200 时尚型")),
    ("LHG", "本田", "雅阁", ("260TURBO 精英版", "锐·混动 领先版")),
    ("LHG", "本田", "皓影", ("240TURBO 两驱舒适版", "e:HEV 四驱尊贵版")),
    ("LVG", "丰田", "凯美瑞", ("2.0G 豪华版", "双擎 2.5HGVP")),
    ("LVG", "丰田", "汉兰达", ("2.5L 双擎四驱精英版",)),
    ("LBV", "宝马", "3系", ("325Li M运动套装", "320Li 时尚型")),
    ("LBV", "宝马", "5系", ("525Li 豪华套装", "530Li 领先型")),
    ("LBV", "宝马", "X3", ("xDrive25i 豪华套装",)),
    ("LE4", "奔驰", "C级", ("C 260 L 运动版", "C 200 L 时尚型")),
    ("LE4", "奔驰", "GLC", ("GLC 260 L 4MATIC 动感型", "GLC 300 L 4MATIC 豪华型")),
)
COLOURS = ("白色", "黑色", "银色", "灰色", "蓝色", "红色", "棕色")
COLOUR_WEIGHTS = (35, 25, 12, 14, 6, 5, 3)

CHANNELS = (("wechat", 50), ("phone", 35), ("sms", 10), ("email", 5))
SOURCES = (
    ("walk_in", 40),
    ("phone", 15),
    ("web", 15),
    ("referral", 12),
    ("event", 6),
    ("secondary_network", 4),
    ("service", 6),
    ("other", 2),
)
SALUTATIONS = (("", 80), ("mr", 10), ("ms", 10))

CREATED_FROM = calendar.timegm((2020, 1, 1, 0, 0, 0))
CREATED_SPAN_SECONDS = 5 * 365 * 24 * 3600

CUSTOMER_COLUMNS = (
    "id",
    "kind",
    "full_name",
    "salutation",
    "mobile",
    "other_phone",
    "email",
    "preferred_channel",
    "marketing_consent",
    "source",
    "notes",
    "version",
    "created_at",
    "updated_at",
    "dealership_id",
)
VEHICLE_COLUMNS = (
    "id",
    "vin",
    "plate",
    "make",
    "model",
    "trim",
    "year",
    "colour",
    "dealership_id",
    "owner_id",
    "version",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Rooftop:
    """A rooftop rows are generated for: its id, its local plate prefix and landline area."""

    id: int
    province: str
    city_letters: str
    area_code: str
    landline_leads: str


def _cumulative(pairs: Sequence[tuple[str, float]]) -> tuple[tuple[str, ...], list[float]]:
    return tuple(value for value, _ in pairs), list(accumulate(weight for _, weight in pairs))


SURNAME_VALUES, SURNAME_CUM = _cumulative(SURNAMES)
GIVEN_VALUES, GIVEN_CUM = _cumulative([(char, (rank + 1) ** -0.6) for rank, char in enumerate(GIVEN_NAME_CHARACTERS)])
SHAPE_VALUES, SHAPE_CUM = _cumulative(NAME_SHAPES)
CHANNEL_VALUES, CHANNEL_CUM = _cumulative(CHANNELS)
SOURCE_VALUES, SOURCE_CUM = _cumulative(SOURCES)
SALUTATION_VALUES, SALUTATION_CUM = _cumulative(SALUTATIONS)
PLATE_TAIL_CUM = list(accumulate(PLATE_TAIL_WEIGHTS))
COLOUR_CUM = list(accumulate(COLOUR_WEIGHTS))


def _timestamp(row_id: int, total: int) -> str:
    """Creation time rising with the id over five years, in a form COPY reads as timestamptz."""
    moment = CREATED_FROM + row_id * (CREATED_SPAN_SECONDS / total)
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(moment))


class DataGenerator:
    """Deterministic (seeded) customer and vehicle rows for ``rooftops``, as COPY text chunks."""

    def __init__(self, seed: int, rooftops: Sequence[Rooftop]) -> None:
        self.seed = seed
        self.rooftops = tuple(rooftops)
        model_rng = random.Random(f"{seed}:models")
        self.model_codes = [tuple("".join(model_rng.choices(VIN_CHARACTERS, k=5)) for _ in range(3)) for _ in MODELS]

    def customer_chunks(self, count: int, chunk_rows: int) -> Iterator[str]:
        """Customers 1..``count`` in chunks of ``chunk_rows`` lines; mobiles unique across all of them.

        Each table has its own random stream, so customers and vehicles can be generated in
        parallel threads and still come out the same for a seed.
        """
        rng = random.Random(f"{self.seed}:customers")
        mobiles = rng.sample(range(len(MOBILE_PREFIXES) * SUBSCRIBER_NUMBERS), count)
        for start in range(0, count, chunk_rows):
            size = min(chunk_rows, count - start)
            yield self._customer_chunk(rng, start + 1, mobiles[start : start + size], count)

    def vehicle_chunks(self, count: int, customers: int, chunk_rows: int) -> Iterator[str]:
        """Vehicles 1..``count``, each owned by one of customers 1..``customers``; VINs and plates unique."""
        rng = random.Random(f"{self.seed}:vehicles")
        serials = rng.sample(range(len(VIN_CHARACTERS) * VIN_SERIALS), count)
        plates: set[str] = set()
        for start in range(0, count, chunk_rows):
            size = min(chunk_rows, count - start)
            yield self._vehicle_chunk(rng, start + 1, serials[start : start + size], customers, count, plates)

    def _customer_chunk(self, rng: random.Random, first_id: int, mobiles: list[int], total: int) -> str:
        size = len(mobiles)
        surnames = rng.choices(SURNAME_VALUES, cum_weights=SURNAME_CUM, k=size)
        first_given = rng.choices(GIVEN_VALUES, cum_weights=GIVEN_CUM, k=size)
        second_given = rng.choices(GIVEN_VALUES, cum_weights=GIVEN_CUM, k=size)
        shapes = rng.choices(SHAPE_VALUES, cum_weights=SHAPE_CUM, k=size)
        channels = rng.choices(CHANNEL_VALUES, cum_weights=CHANNEL_CUM, k=size)
        sources = rng.choices(SOURCE_VALUES, cum_weights=SOURCE_CUM, k=size)
        salutations = rng.choices(SALUTATION_VALUES, cum_weights=SALUTATION_CUM, k=size)
        lines = []
        for offset, number in enumerate(mobiles):
            row_id = first_id + offset
            rooftop = self.rooftops[row_id % len(self.rooftops)]
            shape, kind, salutation = shapes[offset], "person", salutations[offset]
            if shape == SINGLE:
                name = surnames[offset] + first_given[offset]
            elif shape == DOUBLE:
                name = surnames[offset] + first_given[offset] + second_given[offset]
            elif shape == LATIN:
                name = f"{rng.choice(LATIN_GIVEN_NAMES)} {rng.choice(LATIN_SURNAMES)}"
            else:
                name = (
                    f"{rng.choice(COMPANY_CITIES)}{first_given[offset]}{second_given[offset]}"
                    f"{rng.choice(COMPANY_TRADES)}有限公司"
                )
                kind, salutation = "company", ""
            prefix, subscriber = divmod(number, SUBSCRIBER_NUMBERS)
            mobile = f"+86{MOBILE_PREFIXES[prefix]}{subscriber:08d}"
            other_phone = ""
            if rng.random() < 0.1:
                lead = rng.choice(rooftop.landline_leads)
                other_phone = f"+86{rooftop.area_code}{lead}{rng.randrange(10**7):07d}"
            email = f"{rng.randrange(10**5, 10**10)}@qq.com" if rng.random() < 0.25 else ""
            created = _timestamp(row_id, total)
            consent = "t" if rng.random() < 0.4 else "f"
            lines.append(
                "\t".join(
                    (
                        str(row_id),
                        kind,
                        name,
                        salutation,
                        mobile,
                        other_phone,
                        email,
                        channels[offset],
                        consent,
                        sources[offset],
                        "",
                        "1",
                        created,
                        created,
                        str(rooftop.id),
                    )
                )
            )
        lines.append("")
        return "\n".join(lines)

    def _vehicle_chunk(
        self,
        rng: random.Random,
        first_id: int,
        serials: list[int],
        customers: int,
        total: int,
        plates: set[str],
    ) -> str:
        size = len(serials)
        owners = rng.choices(range(1, customers + 1), k=size)
        models = rng.choices(range(len(MODELS)), k=size)
        years = rng.choices(tuple(YEAR_CODES), k=size)
        colours = rng.choices(COLOURS, cum_weights=COLOUR_CUM, k=size)
        lines = []
        for offset, serial in enumerate(serials):
            row_id, owner = first_id + offset, owners[offset]
            rooftop = self.rooftops[owner % len(self.rooftops)]
            wmi, make, model, trims = MODELS[models[offset]]
            plant, number = divmod(serial, VIN_SERIALS)
            body = f"{wmi}{rng.choice(self.model_codes[models[offset]])}"
            rest = f"{YEAR_CODES[years[offset]]}{VIN_CHARACTERS[plant]}{number:06d}"
            vin = f"{body}{vin_check_digit(f'{body}0{rest}')}{rest}"
            plate = "" if rng.random() < NO_PLATE_SHARE else _unique_plate(rng, rooftop, plates)
            created = _timestamp(row_id, total)
            lines.append(
                "\t".join(
                    (
                        str(row_id),
                        vin,
                        plate,
                        make,
                        model,
                        rng.choice(trims),
                        str(years[offset]),
                        colours[offset],
                        str(rooftop.id),
                        str(owner),
                        "1",
                        created,
                        created,
                    )
                )
            )
        lines.append("")
        return "\n".join(lines)


def _unique_plate(rng: random.Random, rooftop: Rooftop, taken: set[str]) -> str:
    """A mainland plate not in ``taken`` (and now added to it): mostly local, ~15% new-energy."""
    while True:
        if rng.random() < LOCAL_PLATE_SHARE:
            prefix = rooftop.province + rng.choice(rooftop.city_letters)
        else:
            prefix = rng.choice(MAINLAND_PROVINCES) + rng.choice(PLATE_LETTERS)
        if rng.random() < NEW_ENERGY_SHARE:
            second = rng.choice(PLATE_LETTERS) if rng.random() < 0.3 else str(rng.randrange(10))
            tail = f"{rng.choice('DF')}{second}{rng.randrange(10**4):04d}"
        else:
            tail = "".join(rng.choices(PLATE_TAIL_CHARACTERS, cum_weights=PLATE_TAIL_CUM, k=5))
        plate = prefix + tail
        if plate not in taken:
            taken.add(plate)
            return plate


def check_vehicle_sample(chunk: str) -> None:
    """Fail fast if generated vehicle rows break the formats the DMS validates (plate, VIN check digit)."""
    for line in chunk.splitlines()[:1000]:
        fields = line.split("\t")
        if len(fields) != len(VEHICLE_COLUMNS):
            raise ValueError(f"vehicle row has {len(fields)} fields: {line!r}")
        vin, plate = fields[1], fields[2]
        if vin[8] != vin_check_digit(vin):
            raise ValueError(f"bad VIN check digit: {vin}")
        if plate and not MAINLAND_PLATE.match(plate):
            raise ValueError(f"not a mainland plate: {plate}")
