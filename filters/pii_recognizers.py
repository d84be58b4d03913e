"""What the PII stage counts as PII: the candidate patterns, scorers and validators behind its presidio
recognizers (filters/pii.py wraps them in presidio classes and builds the engine), and the pre-check.

- EMAIL_ADDRESS (EmailAddressRecognizer): presidio's regex; the domain must end in a public suffix
  (tldextract's bundled list, nothing fetched).
- PHONE_NUMBER (PhoneNumberRecognizer, phone_score): phone-shaped digit groups, scored by shape, phone
  words before or near them and validity in `phone_regions` (python-phonenumbers, as presidio).
- IP_ADDRESS (IpAddressRecognizer): presidio's IPv4/IPv6 patterns and `ipaddress` validation.
- CREDIT_CARD (CreditCardNumberRecognizer, card_score): 12-19 digits in any grouping (spaces, dashes,
  dots, none) and Luhn; an issuer prefix at its standard length, or a card word nearby.
- IBAN_CODE (IbanCodeRecognizer): presidio's IBAN recognizer (country format, mod 97), any letter case.
- US_SSN (UsSsnNumberRecognizer, ssn_score): AAA-GG-SSSS under the SSA's rules; with spaces, dots or no
  separator only with "SSN" nearby.
Phone and card numbers written in other scripts' digits (Bengali, Arabic-Indic, fullwidth, ...) are read
as ASCII digits, character for character.

Decisions on look-alikes (tests/test_pii.py pins each one):
- IPs that identify no one are left alone and not counted (`keep_private_ips`, default true): private
  (10.x, 172.16-31.x, 192.168.x, fc00::/7), shared (100.64/10), loopback, link-local, unspecified,
  multicast, and the documentation/benchmark ranges (192.0.2.x, 198.51.100.x, 203.0.113.x, 198.18/15,
  2001:db8::/32), which are examples by definition (RFC texts and tutorials are full of them). A private
  address names a machine inside some local network, which is not personal data.
- A dotted quad is an IP unless a version word precedes it ("version", "ver", "v", "release", "build",
  "firmware", "rev", "update") or it is part of a longer dotted number (OIDs, "1.2.3.4.5").
- Phone numbers need 7-15 digits (6 in three groups right after a phone word: Luxembourg's "72 04 53").
  Dates (2024-05-06, 06.05.2024, 05/06/2024, 12 07 2005), year ranges (1914-1918), SSN- and IP-shaped
  numbers, US ZIP+4 codes after a state, ISBNs ("ISBN" before them, or the ISBN-13 / hyphenated ISBN-10
  checksum), prices (a currency sign or code before them), decimals and versions, and numbers right after
  identifier words ("order", "invoice", "tracking", "model", "ISBN", "id", "account", "registration
  number", ...) are never phone numbers. Thousands-grouped numbers ("73 448 266") and bare digit runs
  count only with a phone word nearby ("call", "tel", "mobile", "fax", "電話", ...); right after one
  ("send a message to", "WhatsApp:", "register by SMS to", "reach us on") any national format counts.
- Cards: Luhn decides, not the issuer tables. A Luhn-valid number with an issuer prefix at a standard
  length is a card anywhere; any other Luhn-valid 12-19 digit number (legacy 15-digit JCB 2131/1800, 35xx
  outside 3528-3589, private-label and national cards, 13-digit Visa, 12-15 digit Maestro) is a card with
  a card word nearby ("card", "debit", "charged", "billing", "expires", "CVV", ...). A number right after
  an identifier word ("order", "invoice", "tracking", "reference", "ISBN", ...) is not a card, nor one that
  fails Luhn.
- SSNs: area 000/666/9xx, group 00, serial 0000, one repeated digit and the published samples
  (078-05-1120, 219-09-9999) are not SSNs.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Iterable

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
    r"(?<![\w@.:/+\-=&])(?<!\d,)"  # "=" and "&": URL query values
    r"(?:\+ ?)?(?:\(\d{1,5}\) ?|\d)"
    r"(?:\d|[ .\-/]\(?(?=\d)|\((?=\d)|\)[ .\-]?(?=\d))*\d"
    r"(?P<ext> ?(?:x|ext\.?|extension) ?\d{1,6})?"
    r"(?![\w@]|[.,:/\-]\d)",
    re.IGNORECASE | re.ASCII,  # ASCII digits; a CJK character right before a number is not a "word"
)
_PHONE_WORDS = (
    r"phone|phones|telephone|tel|ph|mobile|mob|cell|cellphone|call|calls|called|calling|fax|office|contact|reach|"
    r"dial|ring|answering|whatsapp|viber|telegram|wechat|imessage|sms|text|texts|message|messages|messaging|msg|"
    r"register|registration|registrations|hotline|helpline|landline|enquiries|inquiries|bookings|reservations|"
    r"tlf|telefon|telefono|t[eé]l[eé]fono|t[eé]l[eé]phone|t[eé]l|handy|portable|m[oó]vil|celular|appelez|appeler|"
    r"anrufen"
)
_PHONE_CJK = r"电话|電話|手机|手機|传真|傳真|联系|聯絡|聯繫|行動|携帯|전화|휴대"  # CJK: no word boundaries
_PHONE_CONTEXT = re.compile(rf"(?i)\b(?:{_PHONE_WORDS})\b|{_PHONE_CJK}")
# A phone word that leads into the number: at most four short words between ("send a message to",
# "reach us on", "WhatsApp:", "Ring Ana Diaz on", "Contact Dr. Ana Diaz,"). National numbers without a
# country code, bare digit runs and odd groupings count there.
_PHONE_LEAD = re.compile(rf"(?i)(?:\b(?:{_PHONE_WORDS})\b|{_PHONE_CJK})\W*(?:\w{{1,15}}\W+){{0,4}}$")
# Words right before a number that make it an identifier of something else. Words of the first kind on
# their own ("order 123", "ISBN: 978..."); of the second only with "number", "no." or "#" ("registration
# number 0812..." is a company; "Registration: 0812..." may be a phone).
_ID_WORDS = (r"isbn(?:-1[03])?|issn|doi|pmid|order|orders|invoice|sku|serial|tracking|parcel|shipment|patent|"
             r"version|ver|v|build|id|ref|reference|model|part|item|product|ticket|case|ean|upc|gtin|vat|imei|"
             r"batch|lot|receipt|confirmation|transaction|timestamp|epoch|population|pop|lat|lon")
_ID_WORDS_WITH_NUMBER = r"registration|reg|company|customer|member|membership|booking|policy|claim|licen[cs]e|tax"
_NUMBER_WORD = r"\W*(?:no\.?|number|#|nr\.?)"


def _negative_before(words: str) -> re.Pattern[str]:
    """Text ending in one of `words` (optionally "number", "no.", "#", ":") or an _ID_WORDS_WITH_NUMBER word
    with "number": the number that follows is an identifier."""
    return re.compile(rf"(?i)(?:\b(?:{words})(?:{_NUMBER_WORD}|\W*:)?|\b(?:{_ID_WORDS_WITH_NUMBER}){_NUMBER_WORD})\W*$")


_PHONE_NEGATIVE = _negative_before(_ID_WORDS + r"|account|acct|iban|bic|card|ssn|zip|postcode|postal")
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹₽¢]\s?$|(?i:\b(?:usd|eur|gbp|chf|jpy|inr|rs\.?|aud|cad))\s?$")
_DATE_PREFIX = re.compile(
    r"^(?:(?:1[5-9]|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([-./ ])(?:0?[1-9]|[12]\d|3[01])\1(?:1[5-9]|20)\d\d)(?!\d)"  # "12 07 2005" too
)
# A US ZIP+4 code after its state ("Boston, MA 02205-5819").
_ZIP4_AFTER_STATE = re.compile(r"\b[A-Z]{2},? $")
_ZIP4 = re.compile(r"^\d{5}-\d{4}$")
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


def _international_score(number: str) -> float | None:
    """Base score of a "+CC" or "00CC" number: 0.75 valid, 0.6 possible, 0.2 a "+" number its country's
    plan does not allow (still a phone with a phone word nearby); None for a "00" number that is not
    international (parsed as a national one instead)."""
    import phonenumbers

    e164 = "+" + number[2:] if number.startswith("00") else number
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None if number.startswith("00") else 0.0
    if not phonenumbers.is_possible_number(parsed):
        return None if number.startswith("00") else 0.2
    return 0.6 + (0.15 if phonenumbers.is_valid_number(parsed) else 0.0)


def _national_score(number: str, digits: str, before: str, lead: bool) -> float:
    """Base score of a number without a country code by its shape; 0.0 for a look-alike (dates, year ranges,
    SSN and IP shapes, ZIP+4 codes after a state (`before`: the text before), ISBNs, decimals, versions,
    fractions). After a leading phone word (`lead`) a
    decimal-looking "10.516203" or a four-group slashed "(06)68/109-4452" is a phone number's format."""
    if _DATE_PREFIX.match(number) or _YEAR_RANGE.match(number) or _SSN_SHAPE.match(number):
        return 0.0
    if _IPV4_SHAPE.match(number):
        return 0.0
    if _ZIP4.match(number) and _ZIP4_AFTER_STATE.search(before):
        return 0.0
    groups = [group for group in _GROUP_SPLIT.split(number) if group]
    if isbn13_valid(digits) or (len(groups) == 4 and len(groups[3]) == 1 and "-" in number
                                and isbn10_valid(digits)):
        return 0.0  # ISBN-13 (978/979, EAN check) or a hyphenated ISBN-10 ("0-306-40615-2")
    if "." in number and (len(groups) < 3 or any(not 2 <= len(group) <= 4 for group in groups)) and not (
            lead and len(groups) == 2 and len(digits) >= 8):
        return 0.0  # decimals, versions, section numbers; dotted phones are 3+ groups of 2-4 digits
    if "/" in number and (number.count("/") > 1 or len(groups) > (4 if lead else 3)):
        return 0.0  # fractions and dates; one slash after an area code ("089/1234567") is fine
    if _NANP.match(number):
        return 0.5
    if len(groups) > 1 and number.lstrip("(").startswith("0") and len(digits) >= 8:
        return 0.35
    if _THOUSANDS.match(number):
        return 0.1
    return 0.2 if len(groups) > 1 else 0.05  # bare digits: order numbers, IDs, counts


def phone_score(text: str, match: re.Match[str], regions: tuple[str, ...], threshold: float) -> float:
    """Score of one PHONE_CANDIDATE match; 0.0 for a rejected look-alike.

    Look-alikes go first: fewer than 7 or more than 15 digits (6 in three groups or more after a leading
    phone word: "message 72 04 53"), numbers right after "order", "ISBN", "model", "registration number", ...,
    prices, then the shape checks of _national_score. The score adds up: the shape's base score (+CC
    0.6-0.75; North American "(212) 555-0123" 0.5; trunk prefix "0" with groups 0.35; other groups 0.2;
    thousands-grouped 0.1; bare digits 0.05), +0.5 after a leading phone word ("Send a message to",
    "WhatsApp:", "call us at") or +0.4 with a phone word within 48 chars before or 24 after, +0.15 when
    python-phonenumbers calls it valid in one of `regions`. At the default threshold 0.5 a national number
    needs a phone word nearby or a format some numbering plan accepts. The region check is slow (a parse
    per region), so it runs only where it decides: score below `threshold` and the bonus would lift it over.
    """
    start, end = match.span()
    if end - start < 6:
        return 0.0  # fewer than 6 characters, fewer than 6 digits (the common case: years, counts)
    ext = match.group("ext")
    number = text[start:end - len(ext)] if ext else text[start:end]
    digits = "".join(c for c in number if c.isdigit())
    before = _preceding_words(text, start, 40)
    if not 6 <= len(digits) <= (17 if number.startswith("00") else 15):
        return 0.0
    if _PHONE_NEGATIVE.search(before) or _CURRENCY_BEFORE.search(before) or "isbn" in before:
        return 0.0
    lead = _PHONE_LEAD.search(before) is not None
    if len(digits) == 6 and not (lead and len(_GROUP_SPLIT.findall(number)) >= 2):
        return 0.0  # six digits only as three groups or more after a phone word ("72 04 53", not "2020-21")
    score = None
    if number.startswith("+") or (number.startswith("00") and not number.startswith("000")):
        score = _international_score(number)
    if score is None:
        score = _national_score(number, digits, text[max(0, start - 8):start], lead)
    if score == 0.0:
        return 0.0
    international = number.startswith("+") or score >= 0.6
    if lead:
        score += 0.5
    elif _near(text, start, end, _PHONE_CONTEXT):
        score += 0.4
    # Validity in `regions` costs a parse per region: it is checked only where it decides.
    if not international and score < threshold <= score + 0.15 and _valid_in_any_region(number, regions):
        score += 0.15
    return score


# -------------------------------------------------------------------------------------- card numbers

# 12-19 digits, optionally in groups of 3-6 joined by one kind of separator (space, dash or dot).
CARD_CANDIDATE = re.compile(r"(?<![\w.+\-/])(?<!\d,)\d{3,6}([ .\-]?)\d{3,6}(?:\1\d{1,6}){0,4}(?![\w]|[.,/\-]\d)",
                            re.ASCII)
_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:card|cards|credit|debit|visa|mastercard|master\s?card|amex|american\s+express|discover|jcb|"
    r"diners|maestro|unionpay|union\s+pay|mir|rupay|elo|cc|cvv|cvv2|cvc|csc|security\s+code|expir\w*|exp|"
    r"valid\s+(?:thru|through|until)|payment|payments|paid|pay|charge|charged|charges|billing|billed|bill|"
    r"checkout|refund|refunded|declined|prepaid|wallet)\b"
)
_CARD_NEGATIVE = _negative_before(_ID_WORDS)


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


def card_score(text: str, match: re.Match[str]) -> float:
    """Score of one CARD_CANDIDATE match; 0.0 unless Luhn-valid with 12-19 digits.

    1.0 for an issuer's standard length (16 Visa/Mastercard, 15 Amex, 16-19 JCB/UnionPay/Discover/Maestro/
    Mir, 14-19 Diners, 19 Visa); any other Luhn-valid number scores 0.3, +0.4 with a card word within 64
    chars before or 32 after ("card", "debit", "charged", "expires", "CVV", ...). Numbers right after
    "order", "invoice", "tracking", "reference", "ISBN", "timestamp", ..., dotted quads and 13-digit
    numbers starting with 1 (millisecond timestamps) are not cards.
    """
    number = match.group()
    digits = number.replace(" ", "").replace("-", "").replace(".", "")
    if not 12 <= len(digits) <= 19 or not luhn_valid(digits) or _IPV4_SHAPE.match(number):
        return 0.0
    if number == digits and len(digits) == 13 and digits[0] == "1":
        return 0.0  # a Unix time in milliseconds (2001-2033); no card has 13 digits starting with 1
    if _CARD_NEGATIVE.search(_preceding_words(text, match.start(), 40)):
        return 0.0
    issuer = card_issuer(digits)
    if issuer is not None and len(digits) in issuer[1]:
        return 1.0
    return 0.3 + (0.4 if _near(text, *match.span(), _CARD_CONTEXT, before=64, after=32) else 0.0)


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
