"""JavaScript's view of JSON values, as the Mustache fork sees them.

Property lookup on arrays and strings, truthiness, ``String(x)`` and
``JSON.stringify(x)`` (number formatting and integer-like keys first).
"""

from __future__ import annotations

import re
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

__all__ = [
    "has_property",
    "is_index",
    "js_get",
    "js_number",
    "js_stringify",
    "js_to_string",
    "primitive_has_own",
    "truthy",
]

_INDEX_RE = re.compile(r"0|[1-9][0-9]*")


def is_index(key: str, length: int) -> bool:
    return _INDEX_RE.fullmatch(key) is not None and int(key) < length


def js_get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    if isinstance(obj, (list, str)):
        if key == "length":
            return len(obj)
        if is_index(key, len(obj)):
            return obj[int(key)]
    return None


def has_property(obj: Any, key: str) -> bool:
    if isinstance(obj, dict):
        return key in obj
    if isinstance(obj, list):
        return key == "length" or is_index(key, len(obj))
    return False


def primitive_has_own(obj: Any, key: str) -> bool:
    return isinstance(obj, str) and (key == "length" or is_index(key, len(obj)))


def truthy(value: Any) -> bool:
    if isinstance(value, (dict, list)):
        return True
    if isinstance(value, float) and value != value:
        return False
    return bool(value)


def js_number(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_t, exponent = Decimal(repr(abs(value))).as_tuple()[1:]
    digits = "".join(map(str, digits_t)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    k = len(digits)
    n = len("".join(map(str, digits_t))) + exponent
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        out = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + out


def js_to_string(value: Any) -> str:
    """``String(value)`` for a JSON value."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value) if abs(value) < 2**53 else js_number(float(value))
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_to_string(v) for v in value)
    return "[object Object]"


def js_stringify(value: Any) -> str:
    """``JSON.stringify(value)`` for a JSON value (number format and key order included)."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or value is True or value is False:
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return "null"
        return js_to_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = list(value)
        # JavaScript objects list integer-like keys first, in ascending order.
        index_keys = sorted((k for k in keys if is_index(k, 2**32 - 1)), key=int)
        if index_keys:
            keys = index_keys + [k for k in keys if not is_index(k, 2**32 - 1)]
        return (
            "{" + ",".join(f"{encode_basestring(k)}:{js_stringify(value[k])}" for k in keys) + "}"
        )
    return encode_basestring(str(value))
