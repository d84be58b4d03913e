"""PII scrubbing with presidio: typed placeholders, per-type counts, and a drop for PII-heavy documents.

Policy as Dolma's PII tagger: every detected span is replaced with a typed placeholder (`<EMAIL_ADDRESS>`,
format in config) through presidio-anonymizer, hits are counted per type (`pii_<type>_count`, plus
`pii_total_count`), and a document with more than `max_entities_per_doc` hits (Dolma: 5) is dropped as
`pii:too_many_entities`; its text is scrubbed all the same, so rejected rows carry no PII either.

Detection is presidio's `AnalyzerEngine`, built offline (one per worker process, on first use): a no-op
NLP engine (no spaCy model, nothing downloaded) and a registry holding only the configured entities'
recognizers. presidio's own pattern recognizers leave 11.8% of the email/phone/IP/card/IBAN/SSN spans of
presidio-research's generated test set in the text (40% of its phone numbers: invalid area codes, local
formats; lower-case IBANs) and miss 19-digit, JCB-19, Maestro, UnionPay-19 and Mir cards, so the
registry holds this module's recognizers, each with its validation and look-alike rules in one place:

- EMAIL_ADDRESS (EmailAddressRecognizer): presidio's regex; the domain must end in a public suffix
  (tldextract's bundled list, nothing fetched).
- PHONE_NUMBER (PhoneNumberRecognizer): phone-shaped digit groups, scored by shape, phone words nearby and
  validity in `phone_regions` (python-phonenumbers, which presidio uses too).
- IP_ADDRESS (IpAddressRecognizer): presidio's IPv4/IPv6 patterns and `ipaddress` validation.
- CREDIT_CARD (CreditCardNumberRecognizer): 12-19 digits, Luhn, issuer prefix and length (Visa,
  Mastercard, Amex, Discover, JCB, Diners, Maestro, UnionPay, Mir).
- IBAN_CODE (IbanCodeRecognizer): presidio's IBAN recognizer (country format, mod 97), any letter case.
- US_SSN (UsSsnNumberRecognizer): AAA-GG-SSSS under the SSA's rules; with spaces, dots or no separator
  only with "SSN" nearby.

NER entities (PERSON, LOCATION) come from a spaCy model when `spacy_model` names an installed package or
a pipeline directory and `entities` lists them; a configured model that is not installed is an error at
stage construction (presidio would otherwise try to download it on every worker).

Decisions on look-alikes (tests/test_pii.py pins each one):
- IPs that identify no one are left alone and not counted (`keep_private_ips`, default true): private
  (10.x, 172.16-31.x, 192.168.x, fc00::/7), shared (100.64/10), loopback, link-local, unspecified,
  multicast, and the documentation/benchmark ranges (192.0.2.x, 198.51.100.x, 203.0.113.x, 198.18/15,
  2001:db8::/32), which are examples by definition (RFC texts and tutorials are full of them). A private
  address names a machine inside some local network, which is not personal data; the cost is one of the
  13 IPs of presidio's test set (10.218.6.131), left in.
- A dotted quad is an IP unless a version word precedes it ("version", "ver", "v", "release", "build",
  "firmware", "rev", "update") or it is part of a longer dotted number (OIDs, "1.2.3.4.5").
- Phone numbers need 7-15 digits. Dates (2024-05-06, 06.05.2024, 05/06/2024), year ranges (1914-1918),
  SSN- and IP-shaped numbers, ISBNs ("ISBN" before them, or the ISBN-13 / hyphenated ISBN-10 checksum),
  prices (a currency sign or code before them), decimals and versions, and numbers right after words
  like "order", "invoice", "ISBN", "version", "id", "account" are never phone numbers. Thousands-grouped
  numbers ("73 448 266") and bare digit runs count only with a phone word nearby ("call", "tel",
  "mobile", "fax", "電話", ...).
- Cards: a 16-digit number that fails Luhn is not a card; numbers without an issuer prefix (ISBN-13s
  978/979, millisecond timestamps 1..., anything 7/8/9/0) are not; 13-digit Visa and 12-15 digit Maestro
  numbers need a card word nearby (they collide with EAN barcodes).
- SSNs: area 000/666/9xx, group 00, serial 0000, one repeated digit and the published samples
  (078-05-1120, 219-09-9999) are not SSNs.

Pre-check: one compiled regex built from the configured entities ('@' between word characters for
emails; six digits with at most two separator characters between them for phones, cards, SSNs and IBANs;
a dotted quad or hex groups with colons for IPs) matches inside every candidate of every configured
entity. A text without a match is not analyzed at all (counts 0, text unchanged); otherwise presidio
analyzes only the windows of WINDOW_MARGIN characters around the matches, joined by blank lines, and the
hits are shifted back. Most web documents have no match, and the cost of one that does grows with its
candidates, not its length (benchmarks/RESULTS.md, "PII throughput"). Names need no digits, so there is
no pre-check when an NER entity is configured.
"""
from __future__ import annotations

import bisect
import functools
import ipaddress
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pyarrow as pa

from pipeline.stages import Document, DocumentStage

PATTERN_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
)
NER_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION")  # need `spacy_model`
KNOWN_ENTITIES: tuple[str, ...] = PATTERN_ENTITIES + NER_ENTITIES

# Minimum presidio score per entity. Validated matches (public suffix, Luhn at a standard length, mod 97)
# score 1.0 and IPs 0.6; phone numbers, SSNs and rare card lengths score by shape, validity and context
# words (phone_score, ssn_score, card_score); presidio gives every spaCy entity 0.85.
DEFAULT_SCORE_THRESHOLDS: dict[str, float] = {
    "EMAIL_ADDRESS": 0.5,
    "PHONE_NUMBER": 0.5,
    "IP_ADDRESS": 0.5,
    "CREDIT_CARD": 0.5,
    "IBAN_CODE": 0.5,
    "US_SSN": 0.5,
    "PERSON": 0.5,
    "LOCATION": 0.5,
}

# Regions whose numbering plans make a phone candidate "valid" (python-phonenumbers): presidio's 8 plus
# the largest web languages' countries.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IL", "IN", "CA", "BR",  # presidio's default regions
    "AU", "NL", "BE", "ES", "IT", "CH", "AT", "SE", "DK", "NO", "FI", "PL", "IE", "MX", "JP", "CN", "RU", "ZA",
)

LANGUAGE = "en"  # presidio keys recognizers by language; these pattern recognizers work on any language


@dataclass(frozen=True)
class PiiConfig:
    """Settings of the `pii` stage (TOML section `[pii]`)."""

    entities: tuple[str, ...] = PATTERN_ENTITIES  # what to detect; PERSON/LOCATION need spacy_model
    placeholder_format: str = "<{entity}>"  # replacement text; {entity} is the presidio entity name
    max_entities_per_doc: int = 5  # more hits than this drops the document (Dolma: 5)
    # Minimum score per entity; an entity left out here takes DEFAULT_SCORE_THRESHOLDS' value.
    score_thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORE_THRESHOLDS))
    spacy_model: str | None = None  # installed spaCy package or pipeline directory; None: no NER
    # Analyze only the windows around pre-check matches, nothing when there is none (pattern entities only).
    precheck: bool = True
    # Leave private, loopback, link-local and documentation-range IPs alone: they identify no one.
    keep_private_ips: bool = True
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS  # numbering plans a phone number may follow


def count_column(entity: str) -> str:
    """Signal column of one entity type: EMAIL_ADDRESS -> pii_email_address_count."""
    return f"pii_{entity.lower()}_count"


TOTAL_COLUMN = "pii_total_count"


# ------------------------------------------------------------------------------------------ helpers


def _near(text: str, start: int, end: int, words: re.Pattern[str], before: int = 48, after: int = 24) -> bool:
    """Whether one of `words` occurs within `before` chars before or `after` chars after text[start:end].

    The window stops at a blank line: a phone word in another paragraph says nothing about this number.
    """
    left = text[max(0, start - before):start]
    cut = left.rfind("\n\n")
    if cut >= 0:
        left = left[cut + 2:]
    right = text[end:end + after]
    cut = right.find("\n\n")
    if cut >= 0:
        right = right[:cut]
    return words.search(left) is not None or words.search(right) is not None


def _preceding_words(text: str, start: int, n_chars: int = 24) -> str:
    """The lower-cased text just before `start` on the same line (for negative context)."""
    left = text[max(0, start - n_chars):start]
    return left[left.rfind("\n") + 1:].lower()


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


# ------------------------------------------------------------------------------------ phone numbers

# A phone-shaped candidate: an optional "+", then digit groups joined by one separator (space, dot, dash,
# slash) or wrapped in parentheses, then an optional extension. Never crosses a line break. The left
# boundary keeps it out of words, decimals, versions, URLs and longer numbers.
PHONE_CANDIDATE = re.compile(
    r"(?<![\w@.:/+\-])(?<!\d,)"
    r"(?:\+ ?)?(?:\(\d{1,5}\) ?|\d)"
    r"(?:\d|[ .\-/]\(?(?=\d)|\((?=\d)|\)[ .\-]?(?=\d))*\d"
    r"(?P<ext> ?(?:x|ext\.?|extension) ?\d{1,6})?"
    r"(?![\w@]|[.,:/\-]\d)",
    re.IGNORECASE | re.ASCII,  # ASCII digits; a CJK character right before a number is not a "word"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|phones|telephone|tel|ph|mobile|mob|cell|cellphone|call|calls|called|calling|fax|office|"
    r"contact|reach|dial|ring|answering|whatsapp|sms|text|hotline|helpline|landline|tlf|telefon|telefono|"
    r"t[eé]l[eé]fono|t[eé]l[eé]phone|t[eé]l|handy|portable|m[oó]vil|celular|appelez|appeler|anrufen)\b"
    r"|电话|電話|手机|手機|传真|傳真|联系|聯絡|聯繫|行動|携帯|전화|휴대"  # CJK: no word boundaries
)
# Words right before a number that make it something else than a phone number.
_PHONE_NEGATIVE = re.compile(
    r"(?i)\b(?:isbn(?:-1[03])?|issn|doi|pmid|order|invoice|sku|serial|tracking|patent|version|ver|v|build|id|"
    r"ref|reference|account|acct|iban|bic|card|ssn|zip|postcode|postal|population|pop|lat|lon)"
    r"\W*(?:no\.?|number|#|nr\.?|:)?\W*$"
)
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹₽¢]\s?$|(?i:\b(?:usd|eur|gbp|chf|jpy|inr|rs\.?|aud|cad))\s?$")
_DATE_PREFIX = re.compile(
    r"^(?:(?:1[5-9]|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|[12]\d|3[01])[-./](?:1[5-9]|20)\d\d)(?!\d)"
)
_YEAR_RANGE = re.compile(r"^(?:1[5-9]|20)\d\d(?:\s?[-/ ]\s?(?:1[5-9]|20)\d\d)+$")
_THOUSANDS = re.compile(r"^\d{1,3}([ .])\d{3}(?:\1\d{3})*$")
_NANP = re.compile(r"^(?:(?:\+\s?1|1|001)[ .\-]?)?(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_GROUP_SPLIT = re.compile(r"[ .\-/()]+")


def _valid_in_any_region(number: str, regions: Iterable[str]) -> bool:
    import phonenumbers

    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def phone_score(text: str, match: re.Match[str], regions: tuple[str, ...], threshold: float) -> float:
    """Score of one PHONE_CANDIDATE match; 0.0 for a rejected look-alike.

    Look-alikes go first: fewer than 7 or more than 15 digits, dates, year ranges, IPs, SSN-shaped
    numbers, ISBNs, prices, decimals and versions, numbers right after "order", "ISBN", "version", ...
    The score then adds up: the shape's base score (+CC international 0.6; North American "(212) 555-0123" shape
    0.5; trunk prefix "0" with groups 0.35; other groups 0.2; thousands-grouped 0.1; bare digits 0.05),
    +0.4 with a phone word within 48 chars before or 24 after, +0.15 when python-phonenumbers calls it
    valid (in one of `regions`, or for its +CC). At the default threshold 0.5 a number needs a phone-like
    format that some numbering plan accepts, or a phone word nearby. The region check is slow (a parse per
    region), so a national number gets it only where it decides: when the score is below `threshold`
    and the bonus would lift it over.
    """
    import phonenumbers

    start, end = match.span()
    if end - start < 7:
        return 0.0  # fewer than 7 characters, fewer than 7 digits (the common case: years, counts)
    ext = match.group("ext")
    number = text[start:end - len(ext)] if ext else text[start:end]
    digits = "".join(c for c in number if c.isdigit())
    international = number.startswith("+") or (number.startswith("00") and not number.startswith("000"))
    if not 7 <= len(digits) <= (17 if number.startswith("00") else 15):
        return 0.0
    before = _preceding_words(text, start)
    if _PHONE_NEGATIVE.search(before) or _CURRENCY_BEFORE.search(before):
        return 0.0
    if "isbn" in text[max(0, start - 40):start].lower():
        return 0.0
    if international:
        e164 = "+" + number[2:] if number.startswith("00") else number
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return 0.0
        if not phonenumbers.is_possible_number(parsed):
            return 0.0
        score = 0.6 + (0.15 if phonenumbers.is_valid_number(parsed) else 0.0)
    else:
        if _DATE_PREFIX.match(number) or _YEAR_RANGE.match(number) or _SSN_SHAPE.match(number):
            return 0.0
        if _IPV4_SHAPE.match(number):
            return 0.0
        groups = [group for group in _GROUP_SPLIT.split(number) if group]
        if isbn13_valid(digits) or (len(groups) == 4 and len(groups[3]) == 1 and "-" in number
                                    and isbn10_valid(digits)):
            return 0.0  # ISBN-13 (978/979, EAN check) or a hyphenated ISBN-10 ("0-306-40615-2")
        if "." in number and (len(groups) < 3 or any(not 2 <= len(group) <= 4 for group in groups)):
            return 0.0  # decimals, versions, section numbers; dotted phones are 3+ groups of 2-4 digits
        if "/" in number and (number.count("/") > 1 or len(groups) > 3):
            return 0.0  # fractions and dates; one slash after an area code ("089/1234567") is fine
        has_separator = len(groups) > 1
        if _NANP.match(number):
            score = 0.5
        elif has_separator and number.lstrip("(").startswith("0") and len(digits) >= 8:
            score = 0.35
        elif _THOUSANDS.match(number):
            score = 0.1
        elif has_separator:
            score = 0.2
        else:
            score = 0.05  # bare digits: order numbers, IDs, counts
    if _near(text, start, end, _PHONE_CONTEXT):
        score += 0.4
    # Validity in `regions` costs a parse per region: it is checked only where it decides.
    if not international and score < threshold <= score + 0.15 and _valid_in_any_region(number, regions):
        score += 0.15
    return score


# -------------------------------------------------------------------------------------- card numbers

# 12-19 digits, optionally in groups of 3-6 joined by one kind of separator (space or dash).
CARD_CANDIDATE = re.compile(r"(?<![\w.+\-/])(?<!\d,)\d{3,6}([ \-]?)\d{3,6}(?:\1\d{1,6}){0,4}(?![\w]|[.,/\-]\d)",
                            re.ASCII)
_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:card|cards|credit|debit|visa|mastercard|master\s?card|amex|american\s+express|discover|jcb|"
    r"diners|maestro|unionpay|union\s+pay|mir|cc|cvv|expir\w*|payment|paid|pay)\b"
)


def card_issuer(digits: str) -> tuple[str, frozenset[int], frozenset[int]] | None:
    """(issuer, standard lengths, rare lengths) for a card number's prefix, or None (no issuer).

    Prefix ranges from the ISO/IEC 7812 issuer tables (Wikipedia "Payment card number"). The rare lengths
    (13-digit Visa, 12-15 digit Maestro) are legal but collide with barcodes and IDs, so they need a card
    word nearby. Numbers starting with 1 (UATP, but also millisecond timestamps), 7, 8, 9 (ISBN-13s) or 0
    have no issuer here.
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


def card_score(text: str, match: re.Match[str]) -> float:
    """Score of one CARD_CANDIDATE match: 1.0 for a Luhn-valid number of its issuer's standard length
    (16 Visa/Mastercard, 15 Amex, 16-19 JCB/UnionPay/Discover/Maestro/Mir, 14-19 Diners, 19 Visa), 0.3 at
    a rare length (+0.4 with a card word nearby), else 0.0."""
    digits = match.group().replace(" ", "").replace("-", "")
    if not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        return 0.0
    issuer = card_issuer(digits)
    if issuer is None:
        return 0.0
    _, standard, rare = issuer
    if len(digits) in standard:
        return 1.0
    if len(digits) in rare:
        return 0.3 + (0.4 if _near(text, *match.span(), _CARD_CONTEXT) else 0.0)
    return 0.0


# ---------------------------------------------------------------------------------------------- SSNs

SSN_CANDIDATE = re.compile(r"(?<![\w.+\-/])(?<!\d,)(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\w]|[.,/\-]\d)", re.ASCII)
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|ssns|ss#|social\s+security|social\s+sec|ssa|ssid|taxpayer|tin)\b")


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx (ITINs); group not 00; serial not 0000; not one repeated digit,
    not a published sample (078-05-1120 from the Woolworth wallet card, 219-09-9999 from an SSA ad)."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    digits = area + group + serial
    return len(set(digits)) > 1 and digits not in ("123456789", "078051120", "219099999")


def ssn_score(text: str, match: re.Match[str]) -> float:
    """Score of one SSN_CANDIDATE match: AAA-GG-SSSS 0.6, with spaces or dots 0.2, bare 9 digits 0.1;
    +0.4 with "SSN" or "social security" nearby; 0.0 when the SSA never issues the number."""
    area, separator, group, serial = match.groups()
    if not ssn_valid(area, group, serial):
        return 0.0
    score = {"-": 0.6, "": 0.1}.get(separator, 0.2)
    return score + (0.4 if _near(text, *match.span(), _SSN_CONTEXT) else 0.0)


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


# ------------------------------------------------------------------------------ presidio recognizers

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# Cheap tests (Python's re) before presidio's own slower patterns: what their matches must contain.
_IP_TRIGGER = re.compile(r"\.(?<=\d\.)\d{1,3}\.\d{1,3}\.\d|:(?::|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:)")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+")  # CJK, kana, hangul, fullwidth
_IBAN_TRIGGER = re.compile(r"[A-Za-z]{2}\d\d[ \-]?[A-Za-z0-9]{4}")


@functools.cache
def recognizer_classes() -> dict[str, type]:
    """The presidio recognizer classes keyed by entity, and the context enhancer. Made on first use, so
    that importing this module (for PiiConfig and the stage's columns) does not import presidio and spaCy
    (~1.5 s)."""
    import tldextract
    from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer

    class ScoredPatternRecognizer(LocalRecognizer):
        """One candidate regex and a scoring function (phone, card, SSN): a hit for every candidate with a
        positive score; presidio then applies the entity's threshold."""

        def __init__(self, entity: str, candidate: re.Pattern[str], scorer: Callable[[str, re.Match[str]], float],
                     score_thresholds: dict[str, float], name: str) -> None:
            self.candidate, self.scorer = candidate, scorer
            super().__init__(supported_entities=[entity], supported_language=LANGUAGE, name=name,
                             score_thresholds=score_thresholds)

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            entity = self.supported_entities[0]
            threshold = self.score_thresholds[entity]
            results = []
            for match in self.candidate.finditer(text):
                score = self.scorer(text, match)
                if score > 0 and score >= threshold:  # presidio drops the others later, after copying them
                    results.append(RecognizerResult(
                        entity_type=entity, start=match.start(), end=match.end(), score=min(score, 1.0),
                        analysis_explanation=AnalysisExplanation(
                            recognizer=self.name, original_score=score, textual_explanation=self.name),
                        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                    ))
            return results

    class PhoneNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            regions, threshold = tuple(config.phone_regions), _threshold(config, "PHONE_NUMBER")
            super().__init__("PHONE_NUMBER", PHONE_CANDIDATE,
                             lambda text, match: phone_score(text, match, regions, threshold),
                             {"PHONE_NUMBER": _threshold(config, "PHONE_NUMBER")}, "PhoneNumberRecognizer")

    class CreditCardNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            super().__init__("CREDIT_CARD", CARD_CANDIDATE, card_score,
                             {"CREDIT_CARD": _threshold(config, "CREDIT_CARD")}, "CreditCardNumberRecognizer")

    class UsSsnNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            super().__init__("US_SSN", SSN_CANDIDATE, ssn_score, {"US_SSN": _threshold(config, "US_SSN")},
                             "UsSsnNumberRecognizer")

    class IpAddressRecognizer(IpRecognizer):
        """presidio's IPv4/IPv6 patterns and `ipaddress` validation (score 0.6), minus look-alikes and,
        with `keep_private_ips`, private addresses."""

        def __init__(self, config: PiiConfig) -> None:
            self.keep_private = config.keep_private_ips
            super().__init__(supported_language=LANGUAGE, name="IpAddressRecognizer")
            self.score_thresholds = {"IP_ADDRESS": _threshold(config, "IP_ADDRESS")}
            self.context = []  # presidio's context boost needs spaCy lemmas; keep scores model-independent

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if _IP_TRIGGER.search(text) is None:
                return []  # presidio's IPv6 regex is slow to scan; most texts have no IP shape at all
            return [
                result for result in super().analyze(text, entities, nlp_artifacts, regex_flags)
                if not ip_look_alike(text, result.start, result.end)
                and not (self.keep_private and is_private_ip(text[result.start:result.end]))
            ]

    class EmailAddressRecognizer(EmailRecognizer):
        """presidio's email regex; the domain must end in a public suffix, checked against the list bundled
        with tldextract (presidio's module-level `tldextract.extract` would try the network first)."""

        def __init__(self, config: PiiConfig) -> None:
            self.extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
            super().__init__(supported_language=LANGUAGE, name="EmailAddressRecognizer")
            self.score_thresholds = {"EMAIL_ADDRESS": _threshold(config, "EMAIL_ADDRESS")}
            self.context = []

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if "@" not in text:
                return []
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
            for result in results:
                # "网站地图fyzw88@126.com": CJK text runs into an address without a space; presidio's \w
                # takes it into the local part. Start the address after the last CJK character.
                local = text[result.start:text.index("@", result.start)]
                cjk_end = max((m.end() for m in _CJK.finditer(local)), default=0)
                if 0 < cjk_end < len(local):
                    result.start += cjk_end
            return results

        def validate_result(self, pattern_text: str) -> bool:
            return self.extractor(pattern_text.rpartition("@")[2]).fqdn != ""

    class IbanCodeRecognizer(IbanRecognizer):
        """presidio's IBAN recognizer (country format + mod-97) run on the text with ASCII letters
        upper-cased, so that "gb82west..." is found too; the translation keeps every offset."""

        def __init__(self, config: PiiConfig) -> None:
            super().__init__(supported_language=LANGUAGE, name="IbanCodeRecognizer")
            self.score_thresholds = {"IBAN_CODE": _threshold(config, "IBAN_CODE")}
            self.context = []

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if _IBAN_TRIGGER.search(text) is None:
                return []
            return super().analyze(text.translate(_ASCII_UPPER), entities, nlp_artifacts, regex_flags)

    class NoContextEnhancer(ContextAwareEnhancer):
        """Leaves scores as the recognizers gave them. presidio's default (lemma-based) enhancer finds
        nothing to do here: the no-op NLP engine gives no lemmas and these recognizers weigh their own
        context words; it would only deep-copy every result."""

        def __init__(self) -> None:
            super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                             context_prefix_count=0, context_suffix_count=0)

        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: Any = None) -> list[Any]:
            return raw_results

    return {
        "context_enhancer": NoContextEnhancer,
        "EMAIL_ADDRESS": EmailAddressRecognizer,
        "PHONE_NUMBER": PhoneNumberRecognizer,
        "IP_ADDRESS": IpAddressRecognizer,
        "CREDIT_CARD": CreditCardNumberRecognizer,
        "IBAN_CODE": IbanCodeRecognizer,
        "US_SSN": UsSsnNumberRecognizer,
    }


# ----------------------------------------------------------------------------------------- pre-check

# What every candidate of an entity contains, as regex branches that start with '@', ':' or a digit (the
# scan skips other characters quickly). A run of 6+ digits with at most two separator characters between
# them is in every phone number (7+ digits), card, SSN and IBAN; the greedy {5,} makes one match per run.
_PRECHECK_PARTS: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": (r"@(?<=\w@)\w",),
    "PHONE_NUMBER": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "CREDIT_CARD": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "US_SSN": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "IBAN_CODE": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "IP_ADDRESS": (r"\d\.\d{1,3}\.\d{1,3}\.\d", r":(?::|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)"),
}
# Characters of text kept on each side of a pre-check match: more than any entity extends beyond the
# match it contains (an email local part: <= 64; IBAN, IPv6: < 50) plus the context a recognizer looks at
# (48 before, 24 after).
WINDOW_MARGIN = 128
WINDOW_SEPARATOR = "\n\n"  # no candidate spans a line break, and context stops at a blank line


def precheck_pattern(entities: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that matches in every text that may hold one of `entities`: each entity's candidate
    contains a match. None when there is no such regex (an NER entity: names need no digits)."""
    parts: list[str] = []
    for entity in entities:
        if entity not in _PRECHECK_PARTS:
            return None
        parts.extend(part for part in _PRECHECK_PARTS[entity] if part not in parts)
    return re.compile("|".join(parts)) if parts else None


def precheck_windows(text: str, precheck: re.Pattern[str]) -> list[tuple[int, int]]:
    """(start, end) of the merged windows of WINDOW_MARGIN chars around every pre-check match.

    Every candidate of a configured entity contains a match, so it lies inside a window with its context;
    a window edge is at least WINDOW_MARGIN chars from any match and so never cuts a candidate.
    """
    windows: list[list[int]] = []
    for match in precheck.finditer(text):
        start, end = max(0, match.start() - WINDOW_MARGIN), min(len(text), match.end() + WINDOW_MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [(start, end) for start, end in windows]


# ----------------------------------------------------------------------------------------- the engine


def spacy_model_installed(name: str) -> bool:
    """Whether `name` is an installed spaCy package or a pipeline directory (nothing is downloaded)."""
    import spacy

    return spacy.util.is_package(name) or (Path(name) / "config.cfg").is_file()


def _threshold(config: PiiConfig, entity: str) -> float:
    return config.score_thresholds.get(entity, DEFAULT_SCORE_THRESHOLDS[entity])


def build_analyzer(config: PiiConfig) -> Any:
    """A presidio AnalyzerEngine with only the configured entities' recognizers; no download, no network."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    ner = [entity for entity in config.entities if entity in NER_ENTITIES]
    if ner:
        if config.spacy_model is None or not spacy_model_installed(config.spacy_model):
            raise FileNotFoundError(f"pii.spacy_model {config.spacy_model!r} is not installed")
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": config.spacy_model}])
    else:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "no_op"}])
    nlp_engine.load()

    classes = recognizer_classes()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for entity in config.entities:
        if entity in PATTERN_ENTITIES:
            registry.add_recognizer(classes[entity](config))
    if ner:
        spacy_recognizer = SpacyRecognizer(supported_language=LANGUAGE, supported_entities=list(ner))
        spacy_recognizer.score_thresholds = {entity: _threshold(config, entity) for entity in ner}
        registry.add_recognizer(spacy_recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
                          context_aware_enhancer=classes["context_enhancer"]())


# Which of two overlapping hits wins when their scores tie: the more specific validator first.
_ENTITY_PRIORITY = {entity: i for i, entity in enumerate(
    ("IBAN_CODE", "CREDIT_CARD", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER", "PERSON", "LOCATION"))}


def resolve_overlaps(results: Iterable[Any]) -> list[Any]:
    """Non-overlapping hits, best first: higher score, then longer span, then entity priority, then
    position. Deterministic whatever order presidio returned them in; sorted by start."""
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), _ENTITY_PRIORITY.get(r.entity_type, 99),
                                            r.start, r.entity_type))
    chosen: list[Any] = []
    for result in ranked:
        if all(result.end <= other.start or result.start >= other.end for other in chosen):
            chosen.append(result)
    return sorted(chosen, key=lambda r: r.start)


class PiiStage(DocumentStage):
    """presidio PII scrub: replaces spans with typed placeholders, counts them, drops PII-heavy documents."""

    name = "pii"

    def __init__(self, config: PiiConfig | None = None) -> None:
        self.config = config if config is not None else PiiConfig()
        entities = self.config.entities
        unknown = [entity for entity in entities if entity not in KNOWN_ENTITIES]
        if unknown:
            raise ValueError(f"pii.entities: unknown entity {unknown[0]!r} (known: {', '.join(KNOWN_ENTITIES)})")
        if len(set(entities)) != len(entities):
            raise ValueError(f"pii.entities lists an entity twice: {list(entities)}")
        extra = sorted(set(self.config.score_thresholds) - set(KNOWN_ENTITIES))
        if extra:
            raise ValueError(f"pii.score_thresholds.{extra[0]}: unknown entity (known: {', '.join(KNOWN_ENTITIES)})")
        for entity, value in self.config.score_thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"pii.score_thresholds.{entity} = {value} is not within [0, 1]")
        try:
            self.placeholders = {entity: self.config.placeholder_format.format(entity=entity) for entity in entities}
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"pii.placeholder_format {self.config.placeholder_format!r}: {error!r}; "
                             "use {entity} for the entity name and {{ }} for literal braces") from error
        if self.config.max_entities_per_doc < 0:
            raise ValueError(f"pii.max_entities_per_doc = {self.config.max_entities_per_doc} is negative")
        ner = [entity for entity in entities if entity in NER_ENTITIES]
        if ner and self.config.spacy_model is None:
            raise ValueError(f"pii.entities has {ner[0]} (an NER entity) but pii.spacy_model is not set")
        if self.config.spacy_model is not None and not spacy_model_installed(self.config.spacy_model):
            # Fail before the job starts: presidio would try to download the model on every worker.
            raise FileNotFoundError(
                f"pii.spacy_model {self.config.spacy_model!r} is not installed: no spaCy package or pipeline "
                f"directory of that name (install it, e.g. `python -m spacy download "
                f"{self.config.spacy_model}`, or remove pii.spacy_model to turn NER off)"
            )
        if self.config.spacy_model is not None and not ner:
            raise ValueError(f"pii.spacy_model is set but pii.entities has no NER entity ({', '.join(NER_ENTITIES)}):"
                             " add the ones to find, or remove pii.spacy_model")
        unknown_regions = [region for region in self.config.phone_regions if not _is_phone_region(region)]
        if unknown_regions:
            raise ValueError(f"pii.phone_regions: unknown region {unknown_regions[0]!r} (ISO 3166 codes, e.g. 'US')")
        self.columns = {entity: count_column(entity) for entity in entities}
        self.fields = tuple(pa.field(column, pa.int32()) for column in self.columns.values()) + (
            pa.field(TOTAL_COLUMN, pa.int32()),
        )
        self.precheck = precheck_pattern(entities) if self.config.precheck else None

    @property
    def analyzer(self) -> Any:
        """The presidio AnalyzerEngine, built once per process on first use (kept out of pickles)."""
        analyzer = self.__dict__.get("_loaded_analyzer")
        if analyzer is None:
            analyzer = self._loaded_analyzer = build_analyzer(self.config)
        return analyzer

    @property
    def anonymizer(self) -> Any:
        anonymizer = self.__dict__.get("_loaded_anonymizer")
        if anonymizer is None:
            from presidio_anonymizer import AnonymizerEngine
            from presidio_anonymizer.entities import OperatorConfig

            anonymizer = self._loaded_anonymizer = AnonymizerEngine()
            self._loaded_operators = {
                entity: OperatorConfig("replace", {"new_value": placeholder})
                for entity, placeholder in self.placeholders.items()
            }
        return anonymizer

    def analyze(self, text: str) -> list[Any]:
        """presidio's hits in all of `text` above their thresholds (overlapping ones included)."""
        return self.analyzer.analyze(text=text, language=LANGUAGE, entities=list(self.config.entities))

    def find(self, text: str | None) -> list[Any]:
        """The hits in `text`, non-overlapping, sorted by start.

        With the pre-check, presidio only sees the windows around pre-check matches, joined by blank lines
        (a text without a match is not analyzed at all); hits are shifted back to `text`'s offsets. The
        hits are the same as on the whole text (benchmarks/pii_eval.py checks it on every document), at a
        cost that grows with the number of candidates instead of the length of the text.
        """
        if not text:
            return []
        if self.precheck is None:
            return resolve_overlaps(self.analyze(text))
        windows = precheck_windows(text, self.precheck)
        if not windows:
            return []
        if windows == [(0, len(text))]:
            return resolve_overlaps(self.analyze(text))
        joined = WINDOW_SEPARATOR.join(text[start:end] for start, end in windows)
        joined_starts, shifts, position = [], [], 0
        for start, end in windows:
            joined_starts.append(position)
            shifts.append(start - position)
            position += end - start + len(WINDOW_SEPARATOR)
        results = self.analyze(joined)
        for result in results:
            index = bisect.bisect_right(joined_starts, result.start) - 1
            window_start, window_end = windows[index]
            result.start += shifts[index]
            result.end += shifts[index]
            if result.end > window_end:  # would mean a candidate spans the separator
                raise AssertionError(f"hit {result} crosses the end of pre-check window {windows[index]}")
        return resolve_overlaps(results)

    def zero_counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {column: 0 for column in self.columns.values()}
        counts[TOTAL_COLUMN] = 0
        return counts

    def measure(self, doc: Document) -> dict[str, Any]:
        text = doc.get("text")
        signals = self.zero_counts()
        hits = self.find(text)
        if not hits:
            return signals
        for hit in hits:
            signals[self.columns[hit.entity_type]] += 1
        signals[TOTAL_COLUMN] = len(hits)
        from presidio_anonymizer.entities import RecognizerResult as AnonymizerResult

        anonymizer = self.anonymizer
        spans = [AnonymizerResult(hit.entity_type, hit.start, hit.end, hit.score) for hit in hits]
        # No overlaps are left, and each hit keeps its own placeholder: adjacent hits are not merged.
        signals["text"] = anonymizer.anonymize(
            text=text, analyzer_results=spans, operators=self._loaded_operators, merge_entities_with_spaces=False
        ).text
        return signals

    def decide(self, doc: Document) -> str | None:
        total = doc[TOTAL_COLUMN]
        if total is not None and total > self.config.max_entities_per_doc:
            return "too_many_entities"
        return None


def _is_phone_region(region: str) -> bool:
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS
