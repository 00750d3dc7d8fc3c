"""How many SMS parts a text takes, as a gateway bills it (GSM 03.38, SPEC §10).

Text made only of the GSM 7-bit default alphabet goes in 160 characters, or
153 per part when it is longer (the rest of each part holds the concatenation
header); a character of the extension table (``€``, ``[``, ``{``, ``|``, …) is an
escape plus the character: two. Anything else — Cyrillic, most emoji — sends
the whole text as UCS-2: 70 UTF-16 units, or 67 per part (an emoji outside the
Basic Multilingual Plane is two units).
"""

from __future__ import annotations

import math

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def sms_parts(text: str) -> int:
    """The number of messages ``text`` is sent as (0 for an empty text)."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        length, single, part = len(text) + sum(c in GSM_EXTENSION for c in text), GSM_SINGLE, GSM_PART
    else:
        length, single, part = len(text.encode("utf-16-le")) // 2, UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1 if length else 0
    return math.ceil(length / part)
