"""Checks of a number or address on its own, the facts the PII scorers build on: card checksums and issuer
tables, ISBN checksums, the SSA's rules for SSNs, and the IP networks that identify no one.

Pure functions of the characters of one candidate (and, for IPs, the few characters around it); no presidio,
no context words (filters/pii/scoring.py weighs those). Kept apart so that tests and benchmarks/ can call
them on a number without building an engine.

- Cards: Luhn decides, not the issuer tables (`card_issuer` only says at which lengths a prefix is a card
  without context).
- SSNs: area 000/666/9xx, group 00, serial 0000, one repeated digit and the published samples
  (078-05-1120, 219-09-9999) are not SSNs.
- IPs that identify no one are left alone and not counted (`keep_private_ips`, default true): private
  (10.x, 172.16-31.x, 192.168.x, fc00::/7), shared (100.64/10), loopback, link-local, unspecified,
  multicast, and the documentation/benchmark ranges (192.0.2.x, 198.51.100.x, 203.0.113.x, 198.18/15,
  2001:db8::/32), which are examples by definition (RFC texts and tutorials are full of them). A private
  address names a machine inside some local network, which is not personal data.
- A dotted quad is an IP unless a version word precedes it ("version", "ver", "v", "release", "build",
  "firmware", "rev", "update") or it is part of a longer dotted number (OIDs, "1.2.3.4.5").
"""
from __future__ import annotations

import ipaddress
import re

# ------------------------------------------------------------------------------------------ checksums


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of card numbers."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def isbn10_valid(chars: str) -> bool:
    if len(chars) != 10 or not chars[:9].isdigit() or not (chars[9].isdigit() or chars[9] in "Xx"):
        return False
    total = sum((10 - i) * int(c) for i, c in enumerate(chars[:9])) + (10 if chars[9] in "Xx" else int(chars[9]))
    return total % 11 == 0


def isbn13_valid(digits: str) -> bool:
    if len(digits) != 13 or not digits.isdigit() or digits[:3] not in ("978", "979"):
        return False
    return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(digits)) % 10 == 0


# -------------------------------------------------------------------------------------- card numbers


def card_issuer(digits: str) -> tuple[str, frozenset[int], frozenset[int]] | None:
    """(issuer, standard lengths, rare lengths) for a card number's prefix, or None (no issuer known).

    Prefix ranges from the ISO/IEC 7812 issuer tables (Wikipedia "Payment card number"). A number with an
    issuer at a standard length is a card without context; anything else Luhn-valid needs a card word
    (card_score): legacy and private-label prefixes (15-digit JCB 2131/1800, 35xx outside 3528-3589, store
    and national cards) are not listed here, and the rare lengths (13-digit Visa, 12-15 digit Maestro)
    collide with barcodes and IDs.
    """
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    any_16_19 = frozenset(range(16, 20))
    if digits[0] == "4":
        return "visa", frozenset({16, 19}), frozenset({13})
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return "mastercard", frozenset({16}), frozenset()
    if p2 in (34, 37):
        return "amex", frozenset({15}), frozenset()
    if 2200 <= p4 <= 2204:
        return "mir", any_16_19, frozenset()
    if 3528 <= p4 <= 3589:
        return "jcb", any_16_19, frozenset()
    if p2 in (36, 38, 39) or 300 <= p3 <= 305:
        return "diners", frozenset({14, 16, 17, 18, 19}), frozenset()
    if p2 == 62:
        return "unionpay", any_16_19, frozenset()
    if p4 == 6011 or p2 == 65 or 644 <= p3 <= 649:
        return "discover", any_16_19, frozenset()
    if p2 == 50 or 56 <= p2 <= 69:
        return "maestro", any_16_19, frozenset(range(12, 16))
    return None


# ---------------------------------------------------------------------------------------------- SSNs


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx (ITINs); group not 00; serial not 0000; not one repeated digit,
    not a published sample (078-05-1120 from the Woolworth wallet card, 219-09-9999 from an SSA ad)."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    digits = area + group + serial
    return len(set(digits)) > 1 and digits not in ("123456789", "078051120", "219099999")


# ------------------------------------------------------------------------------------------------ IPs

# Addresses that identify no one (kept with `keep_private_ips`): private, shared (CGNAT), loopback,
# link-local, unspecified, multicast and broadcast addresses name a machine inside some local network;
# the documentation and benchmarking ranges (RFC 5737, 3849, 2544) are examples by definition.
PRIVATE_IP_NETWORKS: tuple[str, ...] = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15",
    "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32",
)
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(network) for network in PRIVATE_IP_NETWORKS)
_VERSION_BEFORE = re.compile(r"(?i)(?:\b(?:version|ver|release|build|firmware|rev|revision|update)\W{0,3}|\bv)$")


def is_private_ip(address: str) -> bool:
    """Whether `address` (IPv4, IPv6, IPv4-mapped IPv6, optionally with /prefix) is in PRIVATE_IP_NETWORKS."""
    ip = ipaddress.ip_interface(address).ip
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in _PRIVATE_NETWORKS)


def ip_look_alike(text: str, start: int, end: int) -> bool:
    """Whether the IP-shaped text[start:end] is part of a longer dotted number or follows a version word."""
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return True  # the tail of a longer dotted number
    if end + 1 < len(text) and text[end] == "." and text[end + 1].isdigit():
        return True  # the head of a longer dotted number (OIDs, "1.2.3.4.5")
    return _VERSION_BEFORE.search(text[max(0, start - 16):start]) is not None
