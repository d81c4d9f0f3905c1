"""Normalisation and validation of the keys a front desk searches by: VIN, plate, phone."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import PlateRule

VIN_LENGTH = 17
VIN_TRANSLITERATION = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_normalize(value: str) -> str:
    return re.sub(r"[\s\-]", "", value or "").upper()


def vin_check_digit(vin: str) -> str:
    """The 9th character required by ISO 3779 / GB 16735 / 49 CFR 565 for ``vin``."""
    total = sum(VIN_TRANSLITERATION[char] * weight for char, weight in zip(vin, VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_validate(value: str, *, check_digit_required: bool = True) -> str:
    """Return the normalised VIN or raise a ValidationError naming the rule that failed."""
    vin = vin_normalize(value)
    if len(vin) != VIN_LENGTH:
        raise ValidationError(
            _("A VIN has 17 characters; this one has %(count)d."), code="vin_length", params={"count": len(vin)}
        )
    forbidden = sorted(set(vin) & set("IOQ"))
    if forbidden:
        raise ValidationError(
            _("A VIN never contains the letters I, O or Q (found %(letters)s)."),
            code="vin_forbidden_letter",
            params={"letters": ", ".join(forbidden)},
        )
    if not re.fullmatch(r"[A-Z0-9]{17}", vin):
        raise ValidationError(_("A VIN has only the letters A–Z and digits 0–9."), code="vin_characters")
    if check_digit_required:
        expected = vin_check_digit(vin)
        if vin[8] != expected:
            raise ValidationError(
                _(
                    "The check digit (9th character) is %(actual)s but should be %(expected)s: "
                    "a character was probably mistyped."
                ),
                code="vin_check_digit",
                params={"actual": vin[8], "expected": expected},
            )
    return vin


MAINLAND_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
MAINLAND_PLATE = re.compile(
    rf"^[{MAINLAND_PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9挂学警港澳]|[DF][A-HJ-NP-Z0-9]{{5}}|[A-HJ-NP-Z0-9]{{5}}[DF])$"
)


def plate_normalize(value: str) -> str:
    """Upper case, without spaces, dots, middle dots or dashes: ``沪a·12345`` → ``沪A12345``."""
    return re.sub(r"[\s.·•\-_]", "", value or "").upper()


def plate_validate(value: str, *, rule: str = PlateRule.MAINLAND_CHINA) -> str:
    plate = plate_normalize(value)
    if not plate:
        return ""
    if rule == PlateRule.MAINLAND_CHINA:
        if not MAINLAND_PLATE.match(plate):
            raise ValidationError(
                _(
                    "%(plate)s is not a mainland plate: a province character, a letter, then 5 letters "
                    "or digits (6 for new-energy plates), e.g. 沪A12345."
                ),
                code="plate_format",
                params={"plate": plate},
            )
    elif not re.fullmatch(r"[\w]{2,12}", plate):
        raise ValidationError(_("A plate has 2 to 12 letters or digits."), code="plate_format")
    return plate


def phone_normalize(value: str, *, region: str = "CN", mobile_only: bool = False) -> str:
    """Return ``value`` in E.164 (``+8613812345678``) or raise a ValidationError."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number for %(region)s."),
            code="phone_invalid",
            params={"value": raw, "region": region},
        )
    if mobile_only and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("%(value)s is a landline; enter a mobile number here and the landline as other phone."),
            code="phone_not_mobile",
            params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_mask(e164: str) -> str:
    """Keep the country code, the first 3 and last 4 digits: ``+86 138****5678``."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(number.national_number)
    if len(national) <= 7:
        return f"+{number.country_code} ****{national[-2:]}"
    return f"+{number.country_code} {national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"
