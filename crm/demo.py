"""Realistic mainland-China demo records: names, mobiles, plates and VINs with valid check digits."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .validators import vin_check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
SURNAME_WEIGHTS = [max(1.0, 80 - index) for index in range(len(SURNAMES))]
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国文辉鹏宇浩然子轩梓涵欣怡一诺雨泽思远嘉怡晨阳佳琪志强建华海燕丹丹小红晓东"
COMPANIES = (
    "东方物流有限公司",
    "华兴建设集团",
    "锦江出租汽车公司",
    "申通快递上海分公司",
    "长城租赁有限公司",
    "新华书店",
    "绿地置业",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
# World manufacturer identifiers of Chinese joint ventures, with models they build.
MODELS = (
    ("LSV", "Volkswagen", "Lavida", ("1.5L 舒适版", "280TSI 豪华版")),
    ("LSV", "Volkswagen", "Tiguan L", ("330TSI 两驱智享版", "380TSI 四驱R-Line")),
    ("LFV", "Volkswagen", "Sagitar", ("200TSI 时尚型", "300TSI 旗舰型")),
    ("LHG", "Honda", "Accord", ("260TURBO 精英版", "锐·混动 旗舰版")),
    ("LVG", "Toyota", "Camry", ("2.0G 豪华版", "双擎 2.5HQ")),
    ("LBV", "BMW", "3 Series", ("325Li M运动套装", "330Li xDrive")),
    ("LE4", "Mercedes-Benz", "C-Class", ("C 200 L 运动版", "C 260 L 豪华型")),
    ("LVS", "Ford", "Focus", ("EcoBoost 180 锋潮型",)),
)
COLOURS = ("白色", "黑色", "银色", "灰色", "蓝色", "红色", "香槟金")
YEAR_CODES = {
    2016: "G",
    2017: "H",
    2018: "J",
    2019: "K",
    2020: "L",
    2021: "M",
    2022: "N",
    2023: "P",
    2024: "R",
    2025: "S",
    2026: "T",
}


@dataclass(frozen=True)
class DemoVehicle:
    vin: str
    plate: str
    make: str
    model: str
    trim: str
    year: int
    colour: str


def person_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    length = rng.choices((1, 2), weights=(45, 55))[0]
    return surname + "".join(rng.choice(GIVEN) for _ in range(length))


def company_name(rng: random.Random, city: str) -> str:
    return city + rng.choice(COMPANIES)


def mainland_mobile(rng: random.Random) -> str:
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def mainland_plate(rng: random.Random, province: str, city_letter: str) -> str:
    if rng.random() < 0.15:  # new-energy plates: D/F then 5 characters
        return f"{province}{city_letter}{rng.choice('DF')}{rng.choice(PLATE_CHARS)}{rng.randrange(10**4):04d}"
    tail = "".join(rng.choice(PLATE_CHARS) for _ in range(2)) + f"{rng.randrange(10**3):03d}"
    return f"{province}{city_letter}{tail}"


def vin(rng: random.Random, wmi: str, year: int) -> str:
    body = wmi + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(5))
    tail = YEAR_CODES[year] + rng.choice("ABCDEFGH0123456789") + f"{rng.randrange(10**6):06d}"
    draft = body + "0" + tail
    return body + vin_check_digit(draft) + tail


def vehicle(rng: random.Random, province: str, city_letter: str) -> DemoVehicle:
    wmi, make, model, trims = rng.choice(MODELS)
    year = rng.randint(2016, 2026)
    return DemoVehicle(
        vin=vin(rng, wmi, year),
        plate=mainland_plate(rng, province, city_letter),
        make=make,
        model=model,
        trim=rng.choice(trims),
        year=year,
        colour=rng.choice(COLOURS),
    )


# Later apps add their demo records (the follow-up queue, repair orders, leads) after seed_demo's own:
# each seeder is called with the rooftops and staff by code and user name, and the command's stdout.
seeders: list[Callable] = []
last_seeders: list[Callable] = []  # after every other app's: they work on what the others made


def register_seeder(seeder: Callable, *, last: bool = False) -> Callable:
    chosen = last_seeders if last else seeders
    if seeder not in chosen:
        chosen.append(seeder)
    return seeder
