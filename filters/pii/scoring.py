"""How a PII candidate scores in its context: the candidate patterns of phone, card and SSN numbers and
their scores (presidio's threshold then decides), with the look-alikes each one rejects.

filters/pii/presidio_engine.py wraps each (candidate, scorer) pair in a presidio recognizer and reads other
scripts' digits (Bengali, Arabic-Indic, fullwidth, ...) as ASCII digits before a scorer sees the text; the
checks of a number on its own (Luhn, ISBN, SSA rules, issuer tables) are filters/pii/validators.py's. No
presidio here: the scorers are plain functions of (text, match) that tests and benchmarks call directly.

- PHONE_NUMBER (phone_score): phone-shaped digit groups, scored by shape, phone words before or near them
  and validity in `phone_regions` (python-phonenumbers, as presidio).
- CREDIT_CARD (card_score): 12-19 digits in any grouping (spaces, dashes, dots, none) and Luhn; an issuer
  prefix at its standard length, or a card word nearby.
- US_SSN (ssn_score): AAA-GG-SSSS under the SSA's rules; with spaces, dots or no separator only with "SSN"
  nearby.

Decisions on look-alikes (tests/test_pii.py pins each one):
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
"""
from __future__ import annotations

import re
from typing import Iterable

from filters.pii.validators import card_issuer, isbn10_valid, isbn13_valid, luhn_valid, ssn_valid

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


def ssn_score(text: str, match: re.Match[str]) -> float:
    """Score of one SSN_CANDIDATE match: AAA-GG-SSSS 0.6, with spaces or dots 0.2, bare 9 digits 0.1;
    +0.4 with "SSN" or "social security" nearby; 0.0 when the SSA never issues the number."""
    area, separator, group, serial = match.groups()
    if not ssn_valid(area, group, serial):
        return 0.0
    score = {"-": 0.6, "": 0.1}.get(separator, 0.2)
    return score + (0.4 if _near(text, *match.span(), _SSN_CONTEXT) else 0.0)

