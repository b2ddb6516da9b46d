"""Validation and normalisation of the values a community office records about people.

Each function returns the canonical form of a valid value or raises
:class:`~django.core.exceptions.ValidationError` whose message names the rule that failed, so
an import report or a form can tell the operator exactly what to fix.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from operator import mul

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

# --- Resident ID number (GB 11643-1999) ------------------------------------------------------

# ISO 7064 MOD 11-2: weights 2^(17-i) mod 11 for the 17 body digits, check characters by remainder.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"

# First two digits of the administrative division code (GB/T 2260 provinces), plus 81/82/83 used
# by the residence permits of Hong Kong, Macao and Taiwan residents (same number format).
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
     "71", "81", "82", "83"}
)
EARLIEST_BIRTH_YEAR = 1900


def id_check_character(body: str) -> str:
    """The check character for the first 17 digits of an ID number."""
    return ID_CHECK_CHARACTERS[sum(map(mul, map(int, body), ID_WEIGHTS)) % 11]


def _compact(value: str) -> str:
    # Full-width digits and letters (common in Chinese spreadsheets) become ASCII; spaces go.
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


@dataclass(frozen=True)
class IdNumber:
    """A valid ID number and what it says about its holder."""

    number: str
    birth_date: dt.date
    gender: str  # "M" or "F": the sequence digit (17th character) is odd for men

    @property
    def region(self) -> str:
        return self.number[:6]


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an 18-character resident ID number; raise naming the first rule it breaks."""
    number = _compact(value).upper()
    if len(number) != 18:
        raise ValidationError(
            _("ID number must have 18 characters; this one has %(count)d."),
            code="id_length",
            params={"count": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("ID number may contain only digits, with X allowed as the last character."),
            code="id_characters",
        )
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(
            _("ID number starts with region code %(region)s, but %(province)s is not a province code."),
            code="id_region",
            params={"region": number[:6], "province": number[:2]},
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("ID number contains an impossible birth date (%(digits)s, positions 7–14)."),
            code="id_birth_date",
            params={"digits": number[6:14]},
        )
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(
            _("ID number contains a birth date in the future (%(date)s)."),
            code="id_birth_future",
            params={"date": birth.isoformat()},
        )
    if id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("ID number check character (the last one) does not match the other 17 digits: "
              "a digit is probably mistyped."),
            code="id_checksum",
        )
    gender = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, gender=gender)


def validate_id_number(value: str) -> str:
    """Form/model validator form of :func:`parse_id_number`: the normalised number."""
    return parse_id_number(value).number


# --- Phone numbers -----------------------------------------------------------------------------

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Mainland area codes: 010 and 020–029 have three digits, every other one four (0xxx).
_THREE_DIGIT_AREA = re.compile(r"0[12]\d")
_EXTENSION_RE = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_SEPARATORS_RE = re.compile(r"[\s\-‐–—.()（）]")


def normalise_phone(value: str) -> str:
    """A mobile number as 11 digits, a landline as ``0571-88888888`` (``-123`` extension).

    Tolerates a +86/0086 prefix, spaces, dashes, dots and brackets. Raises naming the rule
    that failed.
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    extension = ""
    match = _EXTENSION_RE.search(text)
    if match:
        extension = match.group(1)
        text = text[: match.start()]
    international = text.startswith("+") or text.startswith("0086")
    digits = _SEPARATORS_RE.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        raise ValidationError(
            _("Phone number “%(value)s” contains characters other than digits, spaces, dashes and +86."),
            code="phone_characters",
            params={"value": value},
        )
    if international or (digits.startswith("86") and len(digits) in (12, 13, 14)):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
        if not digits.startswith("1"):
            digits = "0" + digits  # +86 571 … drops the trunk prefix of the area code
    if digits.startswith("1"):
        if extension:
            raise ValidationError(_("A mobile number has no extension."), code="phone_extension")
        if len(digits) != 11:
            raise ValidationError(
                _("Mobile number must have 11 digits; this one has %(count)d."),
                code="mobile_length",
                params={"count": len(digits)},
            )
        if not MOBILE_RE.fullmatch(digits):
            raise ValidationError(
                _("Mobile number must start with 13 to 19; this one starts with %(prefix)s."),
                code="mobile_prefix",
                params={"prefix": digits[:2]},
            )
        return digits
    if digits.startswith("0"):
        area_length = 3 if _THREE_DIGIT_AREA.match(digits) else 4
        area, local = digits[:area_length], digits[area_length:]
        if len(local) not in (7, 8) or local.startswith(("0", "1")):
            raise ValidationError(
                _("Landline number after area code %(area)s must have 7 or 8 digits, not starting "
                  "with 0 or 1; found “%(local)s”."),
                code="landline_local",
                params={"area": area, "local": local},
            )
        return f"{area}-{local}" + (f"-{extension}" if extension else "")
    raise ValidationError(
        _("“%(value)s” is neither a mobile number (11 digits starting with 13–19) nor a landline "
          "with an area code starting with 0."),
        code="phone_kind",
        params={"value": value},
    )


# --- Dates ---------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?"),
)
# Spreadsheet serial numbers we accept as dates: 1900-01-01 … 2099-12-31 (Windows 1900 system).
_EXCEL_SERIAL_MIN, _EXCEL_SERIAL_MAX = 1, 73050


def excel_serial_to_date(serial: float, *, epoch: dt.datetime = WINDOWS_EPOCH) -> dt.date:
    if not _EXCEL_SERIAL_MIN <= serial <= _EXCEL_SERIAL_MAX:
        raise ValidationError(
            _("%(value)s is outside the range of spreadsheet date numbers."),
            code="date_serial",
            params={"value": serial},
        )
    return from_excel(serial, epoch=epoch).date()


def parse_date(value, *, excel_epoch: dt.datetime = WINDOWS_EPOCH) -> dt.date:
    """A date from the forms people type or spreadsheets store.

    Accepts ``date``/``datetime`` objects, spreadsheet serial numbers (an XLSX cell without a
    date format, or its text in a CSV), ``2024-03-05``, ``2024/3/5``, ``2024.3.5``,
    ``20240305`` and ``2024年3月5日``.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return excel_serial_to_date(value, epoch=excel_epoch)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"\d{1,5}(?:\.0+)?", text):
        return excel_serial_to_date(float(text), epoch=excel_epoch)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValidationError(
                    _("“%(value)s” is not a real calendar date."), code="date_invalid", params={"value": value}
                ) from None
    raise ValidationError(
        _("“%(value)s” is not a date; write it as 2024-03-05, 2024/3/5, 20240305 or 2024年3月5日."),
        code="date_format",
        params={"value": value},
    )


def validate_birth_date(birth: dt.date, *, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(
            _("Birth date %(date)s lies in the future."), code="birth_future", params={"date": birth.isoformat()}
        )
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("Birth date %(date)s is before 1900."), code="birth_too_early", params={"date": birth.isoformat()}
        )
    return birth


def reconcile_identity(
    id_number: IdNumber, *, birth_date: dt.date | None = None, gender: str | None = None
) -> tuple[dt.date, str]:
    """Birth date and gender agreeing with the ID number (taken from it when not given).

    A disagreement means one of the values was mistyped; the error names the field.
    """
    errors = {}
    if birth_date is not None and birth_date != id_number.birth_date:
        errors["birth_date"] = ValidationError(
            _("Birth date %(given)s does not match the ID number, which says %(expected)s."),
            code="birth_mismatch",
            params={"given": birth_date.isoformat(), "expected": id_number.birth_date.isoformat()},
        )
    if gender and gender != id_number.gender:
        errors["gender"] = ValidationError(
            _("Gender does not match the ID number (its 17th digit is odd for men, even for women)."),
            code="gender_mismatch",
        )
    if errors:
        raise ValidationError(errors)
    return id_number.birth_date, id_number.gender
