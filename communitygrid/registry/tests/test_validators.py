import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from communitygrid.registry.validators import (
    ID_CHECK_CHARACTERS,
    id_check_character,
    normalise_phone,
    parse_date,
    parse_id_number,
    reconcile_identity,
    validate_birth_date,
)

TODAY = dt.date(2026, 11, 29)
# A real-shaped valid number: Beijing Chaoyang 110105, born 1949-12-31, sequence 021, check 4.
VALID = "110105194912310214"


def error_code(callable_, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return info.value.error_list[0].code


@pytest.mark.parametrize(
    ("text", "number", "birth", "gender"),
    [
        (VALID, VALID, dt.date(1949, 12, 31), "M"),
        (" 110105 19491231 0214 ", VALID, dt.date(1949, 12, 31), "M"),
        ("１１０１０５１９４９１２３１０２１４", VALID, dt.date(1949, 12, 31), "M"),  # full-width digits
        ("11010519800101018x", "11010519800101018X", dt.date(1980, 1, 1), "F"),  # lower-case check X
        ("440305202611290015", "440305202611290015", dt.date(2026, 11, 29), "M"),  # born today
    ],
)
def test_valid_id_numbers_are_normalised_with_birth_date_and_gender(text, number, birth, gender):
    parsed = parse_id_number(text, today=TODAY)
    assert (parsed.number, parsed.birth_date, parsed.gender) == (number, birth, gender)
    assert parsed.region == number[:6]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("11010519491231021", "id_length"),
        ("1101051949123102140", "id_length"),
        ("110105491231021", "id_length"),  # first-generation 15-digit numbers are not accepted
        ("11010519491231021A", "id_characters"),
        ("1101051949X231021X", "id_characters"),
        ("990105194912310214", "id_region"),
        ("000105194912310214", "id_region"),
        ("110105194902300214", "id_birth_date"),  # 30 February
        ("110105194913010214", "id_birth_date"),  # month 13
        ("110105189912310214", "id_birth_date"),  # before 1900
        ("110105202612010214", "id_birth_future"),
        ("110105194912310215", "id_checksum"),
        ("110105194912310241", "id_checksum"),  # two digits swapped
    ],
)
def test_invalid_id_numbers_name_the_rule_that_failed(text, code):
    assert error_code(parse_id_number, text, today=TODAY) == code


def test_id_messages_say_what_is_wrong():
    with pytest.raises(ValidationError) as info:
        parse_id_number("1234", today=TODAY)
    assert "18" in info.value.messages[0] and "4" in info.value.messages[0]
    with pytest.raises(ValidationError) as info:
        parse_id_number("110105194913010214", today=TODAY)
    assert "19491301" in info.value.messages[0]


body_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)
birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
provinces = st.sampled_from(["11", "31", "33", "44", "65", "81"])


@given(provinces, body_digits, birth_dates)
def test_any_number_with_the_computed_check_character_is_valid(province, digits, birth):
    body = province + digits[:4] + birth.strftime("%Y%m%d") + digits[4:7]
    number = body + id_check_character(body)
    assert parse_id_number(number, today=TODAY).birth_date == birth


@given(provinces, body_digits, birth_dates, st.sampled_from(ID_CHECK_CHARACTERS))
def test_any_other_check_character_is_rejected(province, digits, birth, check):
    body = province + digits[:4] + birth.strftime("%Y%m%d") + digits[4:7]
    if check == id_check_character(body):
        return
    assert error_code(parse_id_number, body + check, today=TODAY) == "id_checksum"


@given(provinces, body_digits, birth_dates, st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_a_single_mistyped_digit_is_always_caught(province, digits, birth, position, delta):
    body = province + digits[:4] + birth.strftime("%Y%m%d") + digits[4:7]
    number = body + id_check_character(body)
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1:]
    with pytest.raises(ValidationError):
        parse_id_number(typo, today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("+86-13912345678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),
        ("19912345678", "19912345678"),
        ("0571-88888888", "0571-88888888"),
        ("057188888888", "0571-88888888"),
        ("(0571) 8888 8888", "0571-88888888"),
        ("（010）62345678", "010-62345678"),
        ("010-6234567", "010-6234567"),
        ("021-62345678 转 123", "021-62345678-123"),
        ("021-62345678 ext. 9", "021-62345678-9"),
        ("+86 571 8888 8888", "0571-88888888"),
    ],
)
def test_phone_numbers_in_usual_formats_are_normalised(text, expected):
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1391234567", "mobile_length"),
        ("139123456789", "mobile_length"),
        ("12912345678", "mobile_prefix"),
        ("10012345678", "mobile_prefix"),
        ("0571-0888888", "landline_local"),
        ("0571-888888", "landline_local"),
        ("010-123456789", "landline_local"),
        ("62345678", "phone_kind"),
        ("phone: 139", "phone_characters"),
        ("13912345678 转 12", "phone_extension"),
    ],
)
def test_invalid_phone_numbers_name_the_rule_that_failed(text, code):
    assert error_code(normalise_phone, text) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2024/3/5", dt.date(2024, 3, 5)),
        ("2024.03.05", dt.date(2024, 3, 5)),
        ("20240305", dt.date(2024, 3, 5)),
        ("2024年3月5日", dt.date(2024, 3, 5)),
        ("2024年03月05号", dt.date(2024, 3, 5)),
        ("２０２４－０３－０５", dt.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
        (45356, dt.date(2024, 3, 5)),  # XLSX number cell: Excel serial date
        (45356.0, dt.date(2024, 3, 5)),
        ("45356", dt.date(2024, 3, 5)),  # the same serial after a CSV round trip
        (18264, dt.date(1950, 1, 1)),
        (dt.datetime(2024, 3, 5, 0, 0), dt.date(2024, 3, 5)),
        (dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
    ],
)
def test_dates_in_usual_formats_are_parsed(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [("2024-02-30", "date_invalid"), ("2023年2月29日", "date_invalid"), ("05/03/2024", "date_format"),
     ("March 5", "date_format"), ("", "date_format"), (0, "date_serial"), (999999, "date_serial")],
)
def test_invalid_dates_name_the_problem(value, code):
    assert error_code(parse_date, value) == code


def test_birth_dates_must_be_past_and_after_1900():
    assert validate_birth_date(dt.date(2000, 1, 1), today=TODAY) == dt.date(2000, 1, 1)
    assert error_code(validate_birth_date, dt.date(2027, 1, 1), today=TODAY) == "birth_future"
    assert error_code(validate_birth_date, dt.date(1899, 12, 31), today=TODAY) == "birth_too_early"


def test_identity_takes_birth_date_and_gender_from_the_id_number_and_flags_disagreement():
    parsed = parse_id_number(VALID, today=TODAY)
    assert reconcile_identity(parsed) == (dt.date(1949, 12, 31), "M")
    assert reconcile_identity(parsed, birth_date=dt.date(1949, 12, 31), gender="M") == (dt.date(1949, 12, 31), "M")
    with pytest.raises(ValidationError) as info:
        reconcile_identity(parsed, birth_date=dt.date(1950, 1, 1), gender="F")
    assert set(info.value.error_dict) == {"birth_date", "gender"}
