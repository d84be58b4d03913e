"""A labeled PII set the scrubbing rules were not written against (issue 18): Faker values in web-like
sentence templates, in two splits, and PII-free documents full of numbers that are not PII.

Values (Faker, seeded): every credit-card type of every Faker locale that has its own card provider
(en_US's Visa 13/16/19, Mastercard, Amex, Discover, Diners, JCB 15/16, Maestro; ru_RU's Mir and UnionPay;
uk_UA's Prostir; zh_CN's UnionPay; pt_PT's; fa_IR's 29 Iranian bank cards), written as web text writes
them (ungrouped, or in groups of four (Amex 4-6-5) joined by spaces, dashes or dots); `phone_number()` of
every Faker locale that has one, as Faker formats it (emergency and short service numbers of fewer than
6 digits are drawn again: they name no one); emails of every locale; public IPv4 and IPv6 addresses
(addresses in filters.pii.validators' PRIVATE_IP_NETWORKS are drawn again: the stage keeps them on
purpose); IBANs of the locales whose country uses IBANs (written grouped or not); US SSNs.

Splits: templates are partitioned (even index of each group -> `dev`, odd -> `heldout`) and every split
has its own seed, so `heldout` shares neither sentences nor values with `dev`. The rules may be tuned
while looking at `dev`; `heldout` is scored once, at the end (benchmarks/RESULTS.md).

PII-free documents (`pii_free: true`, no spans): order, invoice, tracking, reference, ISBN, EAN, model
and company-registration numbers, timestamps, prices, dates, versions, counts and coordinates, often
next to words that also announce cards or phones ("payment", "number", "registration", "call").

Each record: {"id", "split", "template", "pii_free", "text", "spans": [{"start", "end", "entity",
"detail"}]} with character offsets into `text`. Same seed and split -> byte-identical output.

    .venv/bin/python benchmarks/pii_faker_set.py --split dev --out /tmp/pii_faker_dev.jsonl
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import logging
import os
import random
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.pii.validators import is_private_ip  # noqa: E402

FIRST_DATE, LAST_DATE = datetime.date(2010, 1, 1), datetime.date(2025, 12, 31)
SPLIT_SEEDS = {"dev": 18_001, "heldout": 18_777}
CARDS_PER_TYPE = 6  # per (locale, card type) and split
PHONES_PER_LOCALE = 5
N_EMAILS, N_IPS, N_IBANS, N_SSNS, N_MIXED = 80, 80, 60, 60, 40
N_PII_FREE = 600

# Card context as web text writes it. {brand} is the card's brand word, {exp}, {cvv} its expiry and code.
CARD_TEMPLATES = (
    "Hi, I was charged twice on my credit card {card} for order {order}. Please refund one of the payments.",
    "Card number: {card}\nExpiry: {exp}\nCVV: {cvv}",
    "Paid with my debit card ({card}) at the checkout on {date}, but the payment never went through.",
    "Name on card: {name} | Card no. {card} | Exp. {exp}",
    "I just realised I posted my {brand} card number {card} in the forum by mistake, can a mod delete it?",
    "Billing details: {name}, {city}. Card: {card}, expires {exp}.",
    "Can you bill the remaining {amount} to my card? Here is the full number: {card}",
    "Please charge {card} (exp {exp}) for the deposit.",
    "My {brand} {card} got declined at the gas station again.",
    "Payment method: credit card\nCard number {card}\nSecurity code {cvv}",
    "{name} paid {amount} by card {card} on {date}.",
    "Lost my wallet today: bank card {card}, please block it ASAP!",
    "Use card {card} with expiry {exp} and CVC {cvv} for the booking, thanks.",
    "Order {order}: payment by {brand} card {card}, authorised on {date}.",
    "The card {card} was charged {amount} twice according to my statement.",
    "Updated my payment info: new card {card}, valid thru {exp}.",
    "cc: {card} exp: {exp} cvv: {cvv}",
    "Refund to the original payment card {card} takes 5-7 business days.",
)
PHONE_TEMPLATES = (
    "Call us at {phone} for more information.",
    "For registration please contact {name} on {phone} or {email}.",
    "Text me on {phone} when you arrive.",
    "WhatsApp: {phone}",
    "Send a message to {phone} to register for the workshop.",
    "Hotline {phone} (Mon-Fri, 9:00-17:00)",
    "Tel.: {phone} | Email: {email}",
    "Mobile: {phone}",
    "You can reach us on {phone} any time.",
    "Registration: {phone} (SMS only)",
    "Contact {name}, {phone}",
    "Questions? Give us a call: {phone}.",
    "Fax {phone}",
    "Please leave a message at {phone} and we'll call you back.",
    "Bookings by phone on {phone} or online at our website.",
    "My cell is {phone}, text anytime.",
    "To register, send your name by SMS to {phone}.",
    "Phone {phone} - {city}",
    "Customer service hotline: {phone}",
    "Ring {name} on {phone} to arrange a viewing.",
    "Interested? Message me on WhatsApp {phone}, serious buyers only.",
    "Office {phone}, mobile {phone}",
)
EMAIL_TEMPLATES = (
    "Send your CV to {email} before {date}.",
    "Contact: {name} <{email}>",
    "For press enquiries write to {email}.",
    "Posted by {name} ({email}) on {date}",
    "If you have questions, email me at {email} and I'll get back to you.",
    "Unsubscribe: reply to {email} with STOP in the subject line.",
)
IP_TEMPLATES = (
    "Failed login attempt from {ip} at {time}.",
    "My server's IP is {ip}, can you whitelist it?",
    "[{date} {time}] client {ip} requested /index.html",
    "Your IP address: {ip}",
    "Banned {ip} for spamming the comments.",
    "The DNS record points to {ip} now.",
)
IBAN_TEMPLATES = (
    "Please transfer the deposit to IBAN {iban} by {date}.",
    "Bank details: {name}, IBAN: {iban}",
    "Wire the {amount} to account {iban}, reference your invoice.",
    "IBAN {iban} (account holder: {name})",
    "You can pay by bank transfer to {iban}.",
)
SSN_TEMPLATES = (
    "My social security number is {ssn}.",
    "SSN: {ssn}, DOB {date}",
    "Employee {name}, SSN {ssn}, started on {date}.",
    "Enter your Social Security number ({ssn}) on line 4.",
    "Applicant SSN {ssn} verified.",
)
MIXED_TEMPLATES = (
    "{name}\n{email}\nTel. {phone}\nIBAN {iban}",
    "Customer {name} ({email}, {phone}) paid with card {card} from IP {ip}.",
    "Contact details: phone {phone}, email {email}. Payment by credit card {card}, exp {exp}.",
    "New signup from {ip}: {email}, mobile {phone}",
)
# PII-free: numbers that are not PII, many right next to words that announce cards or phones.
PII_FREE_TEMPLATES = (
    "Order number {order} has shipped. Tracking number {tracking}.",
    "ISBN {isbn13}, paperback, {amount}.",
    "Payment received for invoice {invoice}, thank you.",
    "Registered in England and Wales, company number {company_number}.",
    "The event timestamp number {timestamp_ms} marks when the build finished.",
    "Reference number: {reference}. Please quote it in any correspondence.",
    "EAN {ean13} | SKU {sku} | In stock",
    "Version {version} was released on {date} with {count} bug fixes.",
    "Your order #{order} of {amount} was paid by card on {date}.",
    "ISBN-10: {isbn10}\nISBN-13: {isbn13}",
    "Call for price: model number {model}.",
    "Registration number {company_number} (VAT {vat})",
    "Track your parcel with number {tracking} on the carrier's website.",
    "Unix time {timestamp_s} is {date} {time}.",
    "Population: {population} (census {year}).",
    "Coordinates: {latitude}, {longitude}",
    "Invoice no. {invoice} dated {date}, total {amount}, payment due in 30 days.",
    "Build number {timestamp_ms}, commit {commit}.",
    "Patent number {patent} was granted on {date}.",
    "Ticket number {ticket}: the issue was closed on {date}.",
    "Gift card balance: {amount}. Order number {order}.",
    "Item {sku} ships in {count} days; order reference {reference}.",
    "The number {timestamp_ms} is a millisecond timestamp.",
    "Account statement {date}: {count} transactions, closing balance {amount}.",
)
TEMPLATE_GROUPS: dict[str, tuple[str, ...]] = {
    "card": CARD_TEMPLATES, "phone": PHONE_TEMPLATES, "email": EMAIL_TEMPLATES, "ip": IP_TEMPLATES,
    "iban": IBAN_TEMPLATES, "ssn": SSN_TEMPLATES, "mixed": MIXED_TEMPLATES, "free": PII_FREE_TEMPLATES,
}
PII_SLOTS = {"card": "CREDIT_CARD", "phone": "PHONE_NUMBER", "email": "EMAIL_ADDRESS", "ip": "IP_ADDRESS",
             "iban": "IBAN_CODE", "ssn": "US_SSN"}
BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "Amex", "discover": "Discover", "diners": "Diners Club",
          "jcb": "JCB", "maestro": "Maestro", "mir": "Mir", "unionpay": "UnionPay", "prostir": "Prostir"}
# IBAN lengths by country (SWIFT IBAN registry): locales whose Faker IBAN is of such a country are used.
IBAN_LENGTHS = {"AT": 20, "AZ": 28, "BE": 16, "BR": 29, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18,
                "FR": 27, "GB": 22, "GR": 27, "IE": 22, "IT": 27, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
                "SK": 24, "TR": 26, "UA": 29, "MK": 19}


def split_templates(split: str) -> dict[str, list[tuple[str, str]]]:
    """(template id, template) per group for one split: even indexes are dev's, odd ones heldout's."""
    parity = 0 if split == "dev" else 1
    return {group: [(f"{group}/{i:02d}", t) for i, t in enumerate(templates) if i % 2 == parity]
            for group, templates in TEMPLATE_GROUPS.items()}


def locales_with(provider: str) -> list[str]:
    """Faker locales with their own module of `provider` (phone_number, credit_card, bank)."""
    from faker.config import AVAILABLE_LOCALES

    return [locale for locale in sorted(AVAILABLE_LOCALES)
            if importlib.util.find_spec(f"faker.providers.{provider}.{locale}") is not None]


def card_types() -> list[tuple[str, str]]:
    """(locale, card type) for every card type of every Faker locale with a card provider."""
    out = []
    for locale in locales_with("credit_card"):
        module = importlib.import_module(f"faker.providers.credit_card.{locale}")
        out.extend((locale, card_type) for card_type in module.Provider.credit_card_types)
    return out


def format_card(number: str, rng: random.Random) -> str:
    """Ungrouped (40%), or groups of four (Amex 4-6-5) joined by spaces (35%), dashes (20%) or dots (5%)."""
    roll = rng.random()
    if roll < 0.4:
        return number
    separator = " " if roll < 0.75 else "-" if roll < 0.95 else "."
    if len(number) == 15:
        parts = [number[:4], number[4:10], number[10:]]
    else:
        parts = [number[i:i + 4] for i in range(0, len(number), 4)]
    return separator.join(parts)


class Values:
    """Seeded Faker value source for one split."""

    def __init__(self, seed: int) -> None:
        from faker.config import AVAILABLE_LOCALES

        self.seed, self.rng = seed, random.Random(seed)
        self.fakers: dict[str, Any] = {}
        self.en = self.faker("en_US")
        # en_PH, fil_PH and tl_PH have phone modules without phone_number(): left out.
        self.phone_locales = [locale for locale in locales_with("phone_number")
                              if hasattr(self.faker(locale), "phone_number")]
        self.iban_locales = [locale for locale in locales_with("bank") if self._iban_ok(self.faker(locale).iban())]
        self.email_locales = sorted(AVAILABLE_LOCALES)

    def faker(self, locale: str) -> Any:
        if locale not in self.fakers:
            from faker import Faker

            fake = Faker(locale)
            fake.seed_instance(f"{self.seed}/{locale}")
            self.fakers[locale] = fake
        return self.fakers[locale]

    @staticmethod
    def _iban_ok(iban: str) -> bool:
        return IBAN_LENGTHS.get(iban[:2]) == len(iban)

    def card(self, locale: str, card_type: str) -> tuple[str, str]:
        number = self.faker(locale).credit_card_number(card_type=card_type)
        return format_card(number, self.rng), f"{locale}:{card_type}"

    def brand(self, card_type: str) -> str:
        return next((word for key, word in BRANDS.items() if card_type.startswith(key)), "bank")

    def phone(self, locale: str) -> tuple[str, str]:
        """A phone number of `locale`. Faker's ar_AE, ar_JO and ar_PS formats include emergency and short
        service numbers ("999", "100", "1371"); they name no one, so those of fewer than 6 digits are
        drawn again."""
        while True:
            number = self.faker(locale).phone_number()
            if sum(char.isdigit() for char in number) >= 6:
                return number, locale

    def email(self) -> tuple[str, str]:
        locale = self.rng.choice(self.email_locales)
        fake = self.faker(locale)
        kind = self.rng.choice(("email", "free_email", "company_email"))
        return getattr(fake, kind)(), f"{locale}:{kind}"

    def ip(self) -> tuple[str, str]:
        while True:
            version = self.rng.choice(("ipv4_public", "ipv4_public", "ipv6"))
            address = getattr(self.en, version)()
            if not is_private_ip(address):
                return address, version

    def iban(self) -> tuple[str, str]:
        locale = self.rng.choice(self.iban_locales)
        iban = self.faker(locale).iban()
        if self.rng.random() < 0.5:
            iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        return iban, locale

    def ssn(self) -> tuple[str, str]:
        return self.en.ssn(), "en_US"

    def filler(self, name: str) -> str:
        """A non-PII slot value."""
        fake, rng = self.en, self.rng
        makers: dict[str, Callable[[], str]] = {
            # Dates and times from fixed ranges: Faker's date(), time() and credit_card_expire() depend on now.
            "name": fake.name, "city": fake.city,
            "date": lambda: fake.date_between_dates(FIRST_DATE, LAST_DATE).strftime(
                rng.choice(("%d/%m/%Y", "%B %d, %Y", "%Y-%m-%d"))),
            "time": lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            "amount": fake.pricetag, "exp": lambda: f"{rng.randint(1, 12):02d}/{rng.randint(26, 33)}",
            "cvv": lambda: fake.numerify("###"), "year": lambda: str(rng.randint(1990, 2025)),
            "order": lambda: rng.choice((fake.numerify("#########"), fake.numerify("###-#######-#######"),
                                         fake.numerify("#############"), fake.bothify("??-########").upper())),
            "tracking": lambda: rng.choice((fake.bothify("1Z###??##########").upper(), fake.numerify("#" * 12),
                                            fake.numerify("#" * 22), fake.numerify("#### #### #### #### ####"))),
            "invoice": lambda: rng.choice((fake.numerify("INV-######"), fake.numerify("##########"),
                                           fake.numerify("####-######"), fake.numerify("#" * 16))),
            "reference": lambda: rng.choice((fake.numerify("#" * 12), fake.bothify("??########").upper(),
                                             fake.numerify("#### #### ####"))),
            "company_number": lambda: fake.numerify("0#######"), "vat": lambda: fake.numerify("GB### #### ##"),
            "timestamp_ms": lambda: str(rng.randint(1_000_000_000_000, 1_900_000_000_000)),
            "timestamp_s": lambda: str(rng.randint(1_000_000_000, 1_900_000_000)),
            "isbn13": fake.isbn13, "isbn10": fake.isbn10, "ean13": fake.ean13,
            "sku": lambda: fake.numerify("##########"), "model": lambda: fake.numerify("###-####-##"),
            "version": lambda: f"{rng.randint(1, 30)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
            "count": lambda: str(rng.randint(2, 400)), "population": lambda: f"{rng.randint(10_000, 99_999_999):,}",
            "latitude": lambda: str(fake.latitude()), "longitude": lambda: str(fake.longitude()),
            "commit": lambda: fake.hexify("^" * 12), "patent": lambda: fake.numerify("US #,###,### B2"),
            "ticket": lambda: fake.numerify("#######"),
        }
        return makers[name]()


_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, Callable[[], tuple[str, str] | str]]) -> tuple[str, list[dict[str, Any]]]:
    """The template with every slot filled (a fresh value per occurrence) and the spans of PII slots."""
    out, spans, position = [], [], 0
    length = 0
    for match in _SLOT.finditer(template):
        literal = template[position:match.start()]
        out.append(literal)
        length += len(literal)
        value = values[match.group(1)]()
        text, detail = value if isinstance(value, tuple) else (value, "")
        if match.group(1) in PII_SLOTS:
            spans.append({"start": length, "end": length + len(text), "entity": PII_SLOTS[match.group(1)],
                          "detail": detail})
        out.append(text)
        length += len(text)
        position = match.end()
    out.append(template[position:])
    return "".join(out), spans


def generate(split: str) -> Iterator[dict[str, Any]]:
    """The records of one split, in a fixed order."""
    logging.getLogger("faker").setLevel(logging.ERROR)  # en_PH's bank: "purely hypothetical" on every call
    warnings.filterwarnings("ignore", message="fr_QC locale is deprecated")
    values = Values(SPLIT_SEEDS[split])
    rng = random.Random(SPLIT_SEEDS[split] + 1)
    templates = split_templates(split)
    filler_names = ("name", "city", "date", "time", "amount", "exp", "cvv", "year", "order", "tracking", "invoice",
                    "reference", "company_number", "vat", "timestamp_ms", "timestamp_s", "isbn13", "isbn10",
                    "ean13", "sku", "model", "version", "count", "population", "latitude", "longitude", "commit",
                    "patent", "ticket")
    base: dict[str, Callable[[], tuple[str, str] | str]] = {name: (lambda n=name: values.filler(n))
                                                              for name in filler_names}
    base.update(email=values.email, ip=values.ip, iban=values.iban, ssn=values.ssn,
                phone=lambda: values.phone(rng.choice(values.phone_locales)),
                card=lambda: values.card(*rng.choice(card_types())))
    number = 0

    def record(group: str, slots: dict[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
        nonlocal number
        template_id, template = rng.choice(templates[group])
        text, spans = fill(template, {**base, **(slots or {})})
        number += 1
        return {"id": f"{split}-{number:05d}", "split": split, "template": template_id, "pii_free": group == "free",
                "text": text, "spans": spans}

    for locale, card_type in card_types():
        for _ in range(CARDS_PER_TYPE):
            yield record("card", {"card": lambda: values.card(locale, card_type),
                                  "brand": lambda: values.brand(card_type)})
    for locale in values.phone_locales:
        for _ in range(PHONES_PER_LOCALE):
            yield record("phone", {"phone": lambda: values.phone(locale)})
    for group, n in (("email", N_EMAILS), ("ip", N_IPS), ("iban", N_IBANS), ("ssn", N_SSNS), ("mixed", N_MIXED),
                     ("free", N_PII_FREE)):
        for _ in range(n):
            yield record(group, {"brand": lambda: "Visa"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=sorted(SPLIT_SEEDS), required=True)
    parser.add_argument("--out", required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    records = list(generate(args.split))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in records:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    n_spans = sum(len(row["spans"]) for row in records)
    print(f"{args.split}: {len(records)} records ({sum(row['pii_free'] for row in records)} PII-free), "
          f"{n_spans} spans -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
