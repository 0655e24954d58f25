"""Amounts read from tool-call arguments, whatever their type or spelling.

`read_amount` is what access rules (`min_amount`), the review card's one-line impact and the
inbox's Amount column all use, so "$50,000.00" means one number everywhere.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = ["read_amount", "currency_of", "is_invisible"]

_INVISIBLE_EXTRA = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b\u180c\u180d\u180e\u180f"  # Mongolian variation selectors and vowel separator
    "\u2800"  # Braille blank
)


def is_invisible(char: str) -> bool:
    """Characters a reviewer cannot see: format (zero-width, bidi, tags), control, private-use
    and unassigned code points, line/paragraph separators, variation selectors, fillers."""
    if unicodedata.category(char) in ("Cf", "Cc", "Co", "Cn", "Cs", "Zl", "Zp"):
        return True
    code = ord(char)
    return char in _INVISIBLE_EXTRA or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF

_CURRENCY_CODES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
    VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL BTC ETH USDC USDT""".split()
)
"""ISO 4217 codes (and a few crypto tickers) accepted around an amount written as text."""
_CURRENCY_PREFIXES = frozenset({"US", "CA", "AU", "NZ", "HK", "NT", "MX", "A", "C", "R", "S"})
"""Letters written before a currency symbol: US$, C$, R$..."""

_MULTIPLIERS = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}
_AMOUNT_TEXT = re.compile(
    r"^(?P<sign>[-+])?(?P<pre>[A-Za-z]{1,4})?(?P<sign2>[-+])?(?P<num>\d[\d'_.,]*)"
    r"(?P<mult>[kKmMbB][mMnN]?)?(?P<post>[A-Za-z]{3,4})?(?P<sign3>-)?$"
)
_SCIENTIFIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$|^[-+]?inf(inity)?$", re.IGNORECASE)


def read_amount(value: Any) -> float | None:
    """An amount as a float, from any numeric type or text; None when there is none.

    Reads int, float, `Decimal`, `Fraction`, numpy scalars (anything `float()` takes), a
    mapping's `amount`/`value`, and text with a currency symbol or ISO code, thousands
    separators, a sign or parentheses and a k/m/bn multiplier: "$50,000.00", "50 000 EUR",
    "€50.000,00", "CHF 1'000", "(1,200)", "1.2m". Where a separator could be either
    ("50.000", "1,500") the larger reading is taken: rules compare `>= min_amount`, so the
    larger is the safe one.

    Raises:
        ValueError: the amount is present but is not one (a word, NaN, a list, a bool...),
            with why; rules treat that as applying.
    """
    if value is None:
        return None
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy's too
        raise ValueError(f"{value!r} is a yes/no value, not an amount")
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("bytes that are not text") from None
    if isinstance(value, str):
        return _amount_text(value)
    if isinstance(value, Mapping):
        for key in ("amount", "value", "total"):
            if key in value:
                return read_amount(value[key])
        raise ValueError("a mapping without an amount or value")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        if complex(value).imag:
            raise ValueError("a complex number")
        value = complex(value).real
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float is certainly large enough
        number = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a {type(value).__name__}, not a number") from exc
    if math.isnan(number):
        raise ValueError("not a number (NaN)")
    return number


def _amount_text(text: str) -> float:
    cleaned = "".join(
        " " if unicodedata.category(char) == "Sc" else char
        for char in unicodedata.normalize("NFKC", text)
        if not is_invisible(char)
    )
    compact = re.sub(r"[\s\u00a0\u2009\u202f]+", "", cleaned).replace("\u2212", "-").replace("\u2019", "'")
    negative = compact.startswith("(") and compact.endswith(")")
    if negative:
        compact = compact[1:-1]
    if not compact:
        raise ValueError("text without a number")
    if _SCIENTIFIC.match(compact):
        number = float(compact)
        return -number if negative else number
    match = _AMOUNT_TEXT.match(compact)
    if match is None:
        raise ValueError("text that is not a number with an optional currency")
    for code, known in ((match["pre"], _CURRENCY_CODES | _CURRENCY_PREFIXES), (match["post"], _CURRENCY_CODES)):
        if code and code.upper() not in known:
            raise ValueError(f"{code!r} is not a currency code")
    multiplier = 1.0
    if match["mult"]:
        multiplier = _MULTIPLIERS.get(match["mult"].lower(), 0.0)
        if not multiplier:
            raise ValueError(f"{match['mult']!r} is not a multiplier (k, m, bn)")
    readings = _separator_readings(match["num"].replace("'", "").replace("_", ""))
    if not readings:
        raise ValueError("digits with misplaced separators")
    number = max(readings) * multiplier
    if negative or "-" in (match["sign"] or "", match["sign2"] or "", match["sign3"] or ""):
        number = -number
    return number


def _separator_readings(digits: str) -> list[float]:
    """Every sensible reading of digits with `,` and `.` (thousands or decimal separators)."""
    commas, dots = digits.count(","), digits.count(".")
    candidates: list[str] = []
    if commas and dots:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, fraction = digits.rpartition(decimal)
        if decimal not in whole:
            candidates.append(whole.replace(group, "") + "." + fraction)
    elif commas or dots:
        mark = "," if commas else "."
        after = len(digits) - digits.rfind(mark) - 1
        if digits.count(mark) > 1 or after == 3:
            candidates.append(digits.replace(mark, ""))  # grouping: "50,000", "1.000.000", "5,00,000"
        if digits.count(mark) == 1:
            candidates.append(digits.replace(mark, "."))  # a decimal mark: "12,50", "1.5", or "1.500"
    else:
        candidates.append(digits)
    readings = []
    for candidate in candidates:
        try:
            readings.append(float(candidate))
        except ValueError:
            continue
    return readings


_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS"}
_SYMBOL_PREFIXES = {"US$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD",
                    "R$": "BRL", "MX$": "MXN", "S$": "SGD", "NT$": "TWD"}


def currency_of(value: Any) -> str:
    """The currency an amount's text names ("EUR" for "50 000 EUR" or "€50", "USD" for "$5"); "" when none.

    Only text carries a currency: a number or a mapping without one gives "".
    """
    if isinstance(value, Mapping):
        for key in ("currency", "currency_code"):
            if isinstance(value.get(key), str):
                return value[key].strip().upper()
        return ""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value)
    for prefix, code in _SYMBOL_PREFIXES.items():
        if prefix in text:
            return code
    for word in re.findall(r"[A-Za-z]{3,4}", text):
        if word.upper() in _CURRENCY_CODES and word.isupper():
            return word.upper()
    for char in text:
        if unicodedata.category(char) == "Sc":
            return _SYMBOLS.get(char, char)
    return ""
