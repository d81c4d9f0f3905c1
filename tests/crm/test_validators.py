import pytest
from django.core.exceptions import ValidationError

from crm.validators import phone_mask, phone_normalize, plate_normalize, plate_validate, vin_check_digit, vin_validate

REAL_VINS = [
    "1M8GDM9AXKP042788",  # the check-digit example of 49 CFR 565 (check digit X)
    "1HGCM82633A004352",  # Honda Accord, US
    "11111111111111111",
]


@pytest.mark.parametrize("vin", REAL_VINS)
def test_real_world_vins_pass(vin):
    assert vin_validate(vin) == vin


def test_vin_is_normalised_before_checking():
    assert vin_validate(" 1m8gdm9-axkp042788 ") == "1M8GDM9AXKP042788"


def test_wrong_check_digit_names_the_rule_and_the_expected_digit():
    with pytest.raises(ValidationError) as error:
        vin_validate("1M8GDM9A1KP042788")
    assert error.value.code == "vin_check_digit"
    assert "should be X" in error.value.messages[0]


def test_check_digit_switch_off_accepts_european_vin():
    european = "WVWZZZ1JZ3W386752"  # position 9 is Z: no check digit in Europe
    with pytest.raises(ValidationError):
        vin_validate(european)
    assert vin_validate(european, check_digit_required=False) == european


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", ""])
def test_wrong_length_is_refused(vin):
    with pytest.raises(ValidationError) as error:
        vin_validate(vin)
    assert error.value.code == "vin_length"


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_letters_i_o_q_are_refused(letter):
    vin = "1M8GDM9AXKP04278" + letter
    with pytest.raises(ValidationError) as error:
        vin_validate(vin)
    assert error.value.code == "vin_forbidden_letter"
    assert letter in error.value.messages[0]


def test_check_digit_computation_matches_known_example():
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"


def test_plate_normalisation_and_format():
    assert plate_normalize("沪a·123 45") == "沪A12345"
    assert plate_validate("沪A.D12345") == "沪AD12345"  # new-energy plate
    with pytest.raises(ValidationError):
        plate_validate("沪I12345")  # I is not used on plates
    with pytest.raises(ValidationError):
        plate_validate("ABC")


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678"])
def test_mainland_mobiles_normalise_to_e164(raw):
    assert phone_normalize(raw, region="CN", mobile_only=True) == "+8613812345678"


def test_landline_is_not_a_mobile():
    assert phone_normalize("021 6888 8888", region="CN") == "+862168888888"
    with pytest.raises(ValidationError) as error:
        phone_normalize("021 6888 8888", region="CN", mobile_only=True)
    assert error.value.code == "phone_not_mobile"


@pytest.mark.parametrize("raw", ["12345", "1381234567", "not a number"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(ValidationError):
        phone_normalize(raw, region="CN")


def test_mask_keeps_prefix_and_last_four():
    assert phone_mask("+8613812345678") == "+86 138****5678"
