"""Build the project's sample WARC set, deterministically, from the texts in `sample_data/texts/`.

`python sample_data/generate.py` rewrites `sample_data/warc/*.warc.gz` and `sample_data/expected.jsonl`
byte for byte (fixed seed, fixed dates, no wall clock, no network). The files imitate Common Crawl: a
`warcinfo` record first, then `request` / `response` (or `revisit`) / optional `metadata` records, one gzip
member per record (`pipeline.warc_writer`). Besides clean articles in twelve languages they hold the cases a
pretraining-data pipeline must handle: boilerplate, spam and lorem-ipsum pages, exact and near duplicates,
PII, non-UTF-8 charsets (declared in the header, in a meta tag, not at all, or in conflict), non-HTML and
non-200 responses, a page that extracts to nothing, chunked and gzip-encoded bodies, an oversized page and
a file whose last gzip member is cut in the middle. `expected.jsonl` labels every record (see README.md).

`python sample_data/generate.py --benchmark-pages N --out PATH [--seed S]` writes one large WARC for the
benchmarks by recombining the same paragraphs into distinct pages (not committed).
"""
from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import html
import json
import random
import re
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from any directory

from pipeline.warc_writer import (  # noqa: E402
    gzip_member,
    http_response,
    record_id_for,
    warc_record,
    warcinfo_record,
    write_warc,
)

SEED = 20260214
SAMPLE_DIR = Path(__file__).resolve().parent
TEXTS_DIR = SAMPLE_DIR / "texts"
WARC_DIR = SAMPLE_DIR / "warc"
EXPECTED_PATH = SAMPLE_DIR / "expected.jsonl"

CRAWL = "CC-MAIN-2026-08"
SECOND_CRAWL = "CC-MAIN-2026-13"
# (file name, crawl, first fetch time) of the numbered sample files; the truncated file comes last.
SAMPLE_FILES = [
    ("CC-MAIN-2026-08-sample-00001.warc.gz", CRAWL, datetime(2026, 2, 14, 3, 12, 5)),
    ("CC-MAIN-2026-08-sample-00002.warc.gz", CRAWL, datetime(2026, 2, 15, 11, 40, 31)),
    ("CC-MAIN-2026-08-sample-00003.warc.gz", CRAWL, datetime(2026, 2, 16, 22, 5, 17)),
    ("CC-MAIN-2026-08-sample-00004.warc.gz", CRAWL, datetime(2026, 2, 18, 7, 58, 44)),
    ("CC-MAIN-2026-13-sample-00005.warc.gz", SECOND_CRAWL, datetime(2026, 3, 21, 16, 20, 9)),
]
TRUNCATED_FILE = ("CC-MAIN-2026-08-sample-truncated.warc.gz", CRAWL, datetime(2026, 2, 19, 9, 30, 0))

CRAWLER_USER_AGENT = "ExampleBot/1.0 (+https://crawler.example/bot; fixture crawler)"
OVERSIZED_TARGET_BYTES = 1_200_000  # the pipeline tests set payload caps below this

# ---------------------------------------------------------------------------------------------------
# Page chrome: navigation, footer and widget labels per language (the boilerplate an extractor removes).
# ---------------------------------------------------------------------------------------------------
LABELS: dict[str, dict[str, str]] = {
    "en": dict(home="Home", topics="Topics", about="About us", contact="Contact", archive="Archive",
               search="Search", privacy="Privacy policy", terms="Terms of use", rights="All rights reserved.",
               popular="Popular posts", related="You might also like", newsletter="Get our weekly newsletter",
               subscribe="Subscribe", sign_in="Sign in", read_more="Read more...", share="Share this article",
               by="By", cookie="We use cookies to give you the best experience on our website.",
               accept="Accept all", settings="Cookie settings"),
    "de": dict(home="Startseite", topics="Themen", about="Über uns", contact="Kontakt", archive="Archiv",
               search="Suche", privacy="Datenschutz", terms="Impressum", rights="Alle Rechte vorbehalten.",
               popular="Beliebte Beiträge", related="Das könnte Sie auch interessieren",
               newsletter="Unser Newsletter", subscribe="Abonnieren", sign_in="Anmelden",
               read_more="Weiterlesen...", share="Artikel teilen", by="Von",
               cookie="Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten.",
               accept="Alle akzeptieren", settings="Einstellungen"),
    "fr": dict(home="Accueil", topics="Rubriques", about="Qui sommes-nous", contact="Contact", archive="Archives",
               search="Rechercher", privacy="Politique de confidentialité", terms="Mentions légales",
               rights="Tous droits réservés.", popular="Articles populaires", related="À lire aussi",
               newsletter="Recevez notre lettre d'information", subscribe="S'abonner", sign_in="Se connecter",
               read_more="Lire la suite...", share="Partager cet article", by="Par",
               cookie="Nous utilisons des cookies pour améliorer votre expérience sur notre site.",
               accept="Tout accepter", settings="Paramétrer"),
    "es": dict(home="Inicio", topics="Temas", about="Quiénes somos", contact="Contacto", archive="Archivo",
               search="Buscar", privacy="Política de privacidad", terms="Aviso legal",
               rights="Todos los derechos reservados.", popular="Lo más leído", related="También te puede interesar",
               newsletter="Suscríbete a nuestro boletín", subscribe="Suscribirse", sign_in="Iniciar sesión",
               read_more="Leer más...", share="Compartir", by="Por",
               cookie="Utilizamos cookies para mejorar su experiencia en nuestro sitio web.",
               accept="Aceptar todo", settings="Configurar"),
    "it": dict(home="Home", topics="Argomenti", about="Chi siamo", contact="Contatti", archive="Archivio",
               search="Cerca", privacy="Informativa sulla privacy", terms="Note legali",
               rights="Tutti i diritti riservati.", popular="I più letti", related="Potrebbe interessarti anche",
               newsletter="Iscriviti alla newsletter", subscribe="Iscriviti", sign_in="Accedi",
               read_more="Continua a leggere...", share="Condividi", by="Di",
               cookie="Utilizziamo i cookie per offrirti la migliore esperienza sul nostro sito.",
               accept="Accetta tutti", settings="Impostazioni"),
    "pt": dict(home="Início", topics="Temas", about="Sobre nós", contact="Contacto", archive="Arquivo",
               search="Pesquisar", privacy="Política de privacidade", terms="Termos de utilização",
               rights="Todos os direitos reservados.", popular="Mais lidos", related="Também pode gostar",
               newsletter="Receba a nossa newsletter", subscribe="Subscrever", sign_in="Entrar",
               read_more="Ler mais...", share="Partilhar", by="Por",
               cookie="Utilizamos cookies para melhorar a sua experiência no nosso site.",
               accept="Aceitar todos", settings="Definições"),
    "nl": dict(home="Home", topics="Onderwerpen", about="Over ons", contact="Contact", archive="Archief",
               search="Zoeken", privacy="Privacyverklaring", terms="Gebruiksvoorwaarden",
               rights="Alle rechten voorbehouden.", popular="Meest gelezen", related="Misschien ook interessant",
               newsletter="Schrijf je in voor de nieuwsbrief", subscribe="Aanmelden", sign_in="Inloggen",
               read_more="Lees verder...", share="Deel dit artikel", by="Door",
               cookie="Wij gebruiken cookies om je de beste ervaring op onze website te geven.",
               accept="Alles accepteren", settings="Instellingen"),
    "ru": dict(home="Главная", topics="Рубрики", about="О нас", contact="Контакты", archive="Архив",
               search="Поиск", privacy="Политика конфиденциальности", terms="Условия использования",
               rights="Все права защищены.", popular="Популярное", related="Читайте также",
               newsletter="Подпишитесь на рассылку", subscribe="Подписаться", sign_in="Войти",
               read_more="Читать далее...", share="Поделиться", by="Автор:",
               cookie="Мы используем файлы cookie, чтобы сделать сайт удобнее для вас.",
               accept="Принять все", settings="Настройки"),
    "zh": dict(home="首页", topics="栏目", about="关于我们", contact="联系我们", archive="文章归档",
               search="搜索", privacy="隐私政策", terms="使用条款", rights="版权所有。",
               popular="热门文章", related="相关阅读", newsletter="订阅我们的邮件", subscribe="订阅",
               sign_in="登录", read_more="阅读全文...", share="分享本文", by="作者：",
               cookie="本网站使用Cookie来改善您的浏览体验。", accept="全部接受", settings="设置"),
    "ja": dict(home="ホーム", topics="カテゴリー", about="このサイトについて", contact="お問い合わせ",
               archive="アーカイブ", search="検索", privacy="プライバシーポリシー", terms="利用規約",
               rights="無断転載を禁じます。", popular="人気の記事", related="関連記事",
               newsletter="メールマガジンの登録", subscribe="登録する", sign_in="ログイン",
               read_more="続きを読む...", share="この記事をシェア", by="文：",
               cookie="当サイトでは、利便性向上のためにクッキーを使用しています。", accept="同意する",
               settings="設定"),
    "pl": dict(home="Strona główna", topics="Tematy", about="O nas", contact="Kontakt", archive="Archiwum",
               search="Szukaj", privacy="Polityka prywatności", terms="Regulamin",
               rights="Wszelkie prawa zastrzeżone.", popular="Najpopularniejsze", related="Zobacz także",
               newsletter="Zapisz się do newslettera", subscribe="Zapisz się", sign_in="Zaloguj się",
               read_more="Czytaj dalej...", share="Udostępnij", by="Autor:",
               cookie="Używamy plików cookie, aby zapewnić najlepsze działanie naszej strony.",
               accept="Akceptuję wszystkie", settings="Ustawienia"),
    "tr": dict(home="Ana Sayfa", topics="Konular", about="Hakkımızda", contact="İletişim", archive="Arşiv",
               search="Ara", privacy="Gizlilik politikası", terms="Kullanım koşulları",
               rights="Tüm hakları saklıdır.", popular="En çok okunanlar", related="Bunlar da ilginizi çekebilir",
               newsletter="Bültenimize abone olun", subscribe="Abone ol", sign_in="Giriş yap",
               read_more="Devamını oku...", share="Bu yazıyı paylaş", by="Yazar:",
               cookie="Size daha iyi bir deneyim sunmak için çerezler kullanıyoruz.",
               accept="Tümünü kabul et", settings="Ayarlar"),
}

AUTHORS: dict[str, tuple[str, ...]] = {
    "en": ("Margaret Holloway", "Daniel Price", "Priya Raman"), "de": ("Jutta Brenner", "Lukas Hartmann"),
    "fr": ("Hélène Marchand", "Julien Roussel"), "es": ("Lucía Navarro", "Andrés Molina"),
    "it": ("Giulia Ferraro", "Matteo Conti"), "pt": ("Inês Carvalho", "Rafael Mendes"),
    "nl": ("Marieke de Vries", "Joost van Dijk"), "ru": ("Анна Соколова", "Илья Морозов"),
    "zh": ("李晓梅", "王建国"), "ja": ("佐藤美香", "田中健一"), "pl": ("Katarzyna Wójcik", "Piotr Zieliński"),
    "tr": ("Elif Yıldız", "Mehmet Aydın"),
}

# ---------------------------------------------------------------------------------------------------
# Duplicates: which texts are served again, and how the near duplicate differs from its original.
# ---------------------------------------------------------------------------------------------------
EXACT_DUPLICATES = [  # (original text key, URL of the copy, layout of the copy)
    ("en/04-weeknight-lentil-soup",
     "https://www.recipe-roundup.example/syndicated/red-lentil-soup-weeknight", "magazine"),
    ("de/01-sauerteigbrot-backen",
     "https://www.backstube-am-markt.example/2025/sauerteigbrot-backen/?druck=1", "print"),
]


@dataclass(frozen=True)
class NearDuplicate:
    original: str                             # text key
    url: str
    replacements: tuple[tuple[str, str], ...]  # (old, new); each old must occur exactly once
    extra_paragraph: str


# The edits come in short runs of adjacent words: a few percent of the words change, yet most word 5-gram
# shingles survive, so the pair stays above usual MinHash thresholds (Jaccard ~0.85 on the main text).
NEAR_DUPLICATES = [
    NearDuplicate(
        original="en/13-library-centenary",
        url="https://www.millbrook-today.example/community/library-celebrates-100-years",
        replacements=(
            ("queued in the rain", "stood in heavy drizzle"),
            ("known for her strict rules", "famous for her firm rules"),
            ("two afternoons a week", "three mornings each week"),
        ),
        extra_paragraph=("The library is open from Tuesday to Saturday, and all the anniversary events are free "
                         "to attend."),
    ),
    NearDuplicate(
        original="fr/02-histoire-du-lavoir",
        url="https://www.echos-de-la-vallee.example/patrimoine/le-lavoir-de-la-rue-des-sources",
        replacements=(
            ("un petit bâtiment couvert de tuiles", "un modeste bâtiment coiffé de tuiles"),
            ("était presque en ruine", "menaçait de tomber en ruine"),
        ),
        extra_paragraph="Le lavoir se visite librement toute l'année, et l'entrée est gratuite.",
    ),
]

REVISITED_TEXT = "en/01-pruning-apple-trees"  # fetched again in the second crawl, unchanged (a revisit)
TRUNCATED_FILE_INTACT_TEXT = "en/16-choosing-binoculars"  # the good response in the truncated file

# ---------------------------------------------------------------------------------------------------
# Junk pages: boilerplate, spam and lorem ipsum (short texts, so they live here rather than in texts/).
# ---------------------------------------------------------------------------------------------------
SPAM_KEYWORDS = ["replica watches", "cheap watches", "luxury watches", "watches sale", "discount watches"]
SPAM_CITIES = ["london", "paris", "new york", "berlin", "madrid", "rome", "tokyo", "sydney", "dubai", "toronto",
               "chicago", "amsterdam", "vienna", "warsaw", "lisbon", "oslo", "dublin", "prague", "milan", "zurich"]
LOREM_WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
               "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
               "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla "
               "pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit "
               "anim id est laborum").split()


# ---------------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------------
PII_MARK = re.compile(r"\[\[([A-Z_]+):(.+?)\]\]")


@dataclass(frozen=True)
class Text:
    """One article text: `texts/<lang>/NN-slug.txt` or `texts/special/name.txt` (header lines, blank, paragraphs)."""
    key: str                                  # "en/04-weeknight-lentil-soup", "special/pii-en-club"
    lang: str
    site: str
    title: str
    paragraphs: tuple[str, ...]
    pii: tuple[tuple[str, str], ...] = ()     # (type, exact string) in order of appearance
    slug: str = ""                            # URL slug; from the file name when the header has none


def load_text(path: Path) -> Text:
    """Parse one text file; `[[TYPE:value]]` marks a PII string and is replaced by the value."""
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    lang = meta.get("lang", path.parent.name)
    pii = tuple((m.group(1), m.group(2)) for m in PII_MARK.finditer(body))
    paragraphs = tuple(PII_MARK.sub(lambda m: m.group(2), p).strip() for p in body.split("\n\n") if p.strip())
    slug = meta.get("slug", re.sub(r"^\d+-", "", path.stem))
    return Text(f"{path.parent.name}/{path.stem}", lang, meta["site"], meta["title"], paragraphs, pii, slug)


def load_texts(texts_dir: Path = TEXTS_DIR) -> dict[str, Text]:
    texts = [load_text(p) for p in sorted(texts_dir.glob("*/*.txt"))]
    return {t.key: t for t in texts}


def site_name(host: str) -> str:
    """'www.garden-notes.example' -> 'Garden Notes'."""
    label = host.removeprefix("www.").removeprefix("forum.").split(".")[0]
    return " ".join(w.capitalize() for w in label.split("-"))


# ---------------------------------------------------------------------------------------------------
# PII value checks: the values must be valid for their type (Luhn, IBAN mod 97), so detectors can find them.
# ---------------------------------------------------------------------------------------------------
def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def check_pii(text: Text) -> None:
    for pii_type, value in text.pii:
        if pii_type == "CREDIT_CARD" and not luhn_valid(value):
            raise ValueError(f"{text.key}: {value=} fails the Luhn check")
        if pii_type == "IBAN_CODE" and not iban_valid(value):
            raise ValueError(f"{text.key}: {value=} has a wrong IBAN checksum")


# ---------------------------------------------------------------------------------------------------
# HTML rendering
# ---------------------------------------------------------------------------------------------------
def esc(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class ArticleView:
    """What an article page shows: the text plus its surroundings."""
    text: Text
    url: str
    author: str
    published: str                            # YYYY-MM-DD
    sidebar: tuple[tuple[str, str], ...]      # (title, href) of other posts
    paragraphs: tuple[str, ...] | None = None  # overrides text.paragraphs (near duplicates)

    @property
    def body_paragraphs(self) -> tuple[str, ...]:
        return self.paragraphs if self.paragraphs is not None else self.text.paragraphs


def head_html(title: str, charset_meta: str | None, extra: str = "") -> str:
    meta = f'<meta charset="{charset_meta}">\n' if charset_meta else ""
    return (f"<head>\n{meta}<title>{esc(title)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="stylesheet" href="/static/css/site.css">\n'
            f"{extra}</head>\n")


def nav_html(labels: dict[str, str], css_class: str) -> str:
    items = [("/", labels["home"]), ("/topics/", labels["topics"]), ("/archive/", labels["archive"]),
             ("/about/", labels["about"]), ("/contact/", labels["contact"])]
    links = "".join(f'<li><a href="{href}">{esc(name)}</a></li>' for href, name in items)
    return f'<nav class="{css_class}"><ul>{links}</ul></nav>\n'


def footer_html(labels: dict[str, str], name: str) -> str:
    return ('<footer class="site-footer">\n'
            f'<p>&copy; 2026 {esc(name)}. {esc(labels["rights"])}</p>\n'
            f'<ul><li><a href="/privacy/">{esc(labels["privacy"])}</a></li>'
            f'<li><a href="/terms/">{esc(labels["terms"])}</a></li>'
            f'<li><a href="/contact/">{esc(labels["contact"])}</a></li></ul>\n'
            "</footer>\n")


def article_body_html(view: ArticleView, labels: dict[str, str]) -> str:
    paragraphs = "".join(f"<p>{esc(p)}</p>\n" for p in view.body_paragraphs)
    return ("<article>\n"
            f"<h1>{esc(view.text.title)}</h1>\n"
            f'<div class="post-meta"><span class="author">{esc(labels["by"])} {esc(view.author)}</span> '
            f'<time datetime="{view.published}">{view.published}</time></div>\n'
            f"{paragraphs}</article>\n")


def sidebar_html(view: ArticleView, labels: dict[str, str]) -> str:
    links = "".join(f'<li><a href="{href}">{esc(title)}</a></li>' for title, href in view.sidebar)
    return f'<aside class="sidebar">\n<h3>{esc(labels["popular"])}</h3>\n<ul>{links}</ul>\n</aside>\n'


def render_blog(view: ArticleView, charset_meta: str | None = "utf-8") -> str:
    """Classic blog: header with logo and menu, article, sidebar, footer."""
    labels, name = LABELS[view.text.lang], site_name(view.text.site)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{view.text.lang}">\n'
            + head_html(f"{view.text.title} | {name}", charset_meta)
            + "<body>\n"
            f'<header class="site-header"><a class="logo" href="/">{esc(name)}</a>\n'
            + nav_html(labels, "main-menu") +
            "</header>\n"
            '<div class="container">\n<main id="content">\n'
            + article_body_html(view, labels) +
            "</main>\n"
            + sidebar_html(view, labels) +
            "</div>\n"
            + footer_html(labels, name) +
            "</body>\n</html>\n")


def render_magazine(view: ArticleView, charset_meta: str | None = "utf-8") -> str:
    """Magazine: top bar with sign-in, cookie banner, breadcrumbs, share buttons, related posts, newsletter."""
    labels, name = LABELS[view.text.lang], site_name(view.text.site)
    related = "".join(f'<li><a href="{href}">{esc(title)}</a></li>' for title, href in view.sidebar[:3])
    return ("<!DOCTYPE html>\n"
            f'<html lang="{view.text.lang}" class="no-js">\n'
            + head_html(f"{view.text.title} - {name}", charset_meta,
                        '<script>document.documentElement.className = "js";</script>\n')
            + "<body class=\"single-post\">\n"
            f'<div id="cookie-banner" class="cookie-consent"><p>{esc(labels["cookie"])}</p>'
            f'<button>{esc(labels["accept"])}</button> <button>{esc(labels["settings"])}</button></div>\n'
            f'<div class="top-bar"><a href="/login">{esc(labels["sign_in"])}</a> | '
            f'<a href="/newsletter">{esc(labels["subscribe"])}</a> | '
            f'<a href="/search">{esc(labels["search"])}</a></div>\n'
            f'<header><div class="brand">{esc(name)}</div>\n'
            + nav_html(labels, "primary-navigation") +
            "</header>\n"
            f'<div class="breadcrumbs"><a href="/">{esc(labels["home"])}</a> &gt; '
            f'<a href="/topics/">{esc(labels["topics"])}</a></div>\n'
            '<div class="content-wrap">\n'
            + article_body_html(view, labels) +
            f'<div class="share-buttons"><span>{esc(labels["share"])}</span> '
            '<a href="#" class="share-facebook">Facebook</a> <a href="#" class="share-x">X</a> '
            '<a href="#" class="share-mail">E-Mail</a></div>\n'
            f'<section class="related-posts"><h2>{esc(labels["related"])}</h2><ul>{related}</ul></section>\n'
            "</div>\n"
            f'<div class="newsletter-box"><h3>{esc(labels["newsletter"])}</h3>'
            f'<form action="/newsletter"><input type="email" name="email"> '
            f'<button>{esc(labels["subscribe"])}</button></form></div>\n'
            + footer_html(labels, name) +
            '<script src="/static/js/bundle.min.js"></script>\n'
            "</body>\n</html>\n")


def render_print(view: ArticleView, charset_meta: str | None = "utf-8") -> str:
    """Printer-friendly page: a thin header and footer around the article."""
    labels, name = LABELS[view.text.lang], site_name(view.text.site)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{view.text.lang}">\n'
            + head_html(view.text.title, charset_meta, '<meta name="robots" content="noindex">\n')
            + "<body onload=\"window.print()\">\n"
            f'<div class="print-header">{esc(name)} | <a href="{esc(view.url)}">{esc(view.url)}</a></div>\n'
            + article_body_html(view, labels) +
            f'<div class="print-footer">&copy; 2026 {esc(name)}</div>\n'
            "</body>\n</html>\n")


LAYOUTS = {"blog": render_blog, "magazine": render_magazine, "print": render_print}


def render_boilerplate_listing(lang: str, host: str, heading: str, intro: str,
                               teasers: list[tuple[str, str, str]]) -> str:
    """A category page: menus, cookie banner and teasers ending in 'Read more...', almost no own text."""
    labels, name = LABELS[lang], site_name(host)
    items = "".join(f'<div class="teaser"><h2><a href="{href}">{esc(title)}</a></h2><p>{esc(snippet)} '
                    f'<a href="{href}">{esc(labels["read_more"])}</a></p></div>\n' for title, snippet, href in teasers)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n' + head_html(f"{heading} | {name}", "utf-8") + "<body>\n"
            f'<div id="cookie-banner"><p>{esc(labels["cookie"])}</p><button>{esc(labels["accept"])}</button> '
            f'<button>{esc(labels["settings"])}</button></div>\n'
            f'<header><a href="/">{esc(name)}</a> <a href="/login">{esc(labels["sign_in"])}</a>\n'
            + nav_html(labels, "menu") + "</header>\n"
            f'<main>\n<h1>{esc(heading)}</h1>\n<p class="intro">{esc(intro)}</p>\n{items}'
            '<div class="pagination"><a href="?page=1">1</a> <a href="?page=2">2</a> '
            '<a href="?page=3">3</a> <a href="?page=2">&raquo;</a></div>\n</main>\n'
            + footer_html(labels, name) + "</body>\n</html>\n")


def render_simple_page(lang: str, title: str, main_html: str, host: str, cookie_wall: bool = False) -> str:
    """A page with the usual chrome around a small hand-written main block."""
    labels, name = LABELS[lang], site_name(host)
    cookie = ""
    if cookie_wall:  # a consent wall whose text is longer than the page's own (English only, like many CMPs)
        cookie = (f'<div class="cookie-wall"><h2>{esc(labels["settings"])}</h2><p>{esc(labels["cookie"])} '
                  "We and our 214 partners store and access information on your device, such as cookies, and "
                  "process personal data, such as unique identifiers and standard information sent by a device, "
                  "for personalised advertising and content, advertising and content measurement, audience "
                  "research and services development.</p>"
                  f'<button>{esc(labels["accept"])}</button> <button>{esc(labels["settings"])}</button></div>\n')
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n' + head_html(f"{title} | {name}", "utf-8") + "<body>\n" + cookie +
            f'<header><a href="/">{esc(name)}</a>\n' + nav_html(labels, "menu") + "</header>\n"
            f"<main>\n{main_html}</main>\n" + footer_html(labels, name) + "</body>\n</html>\n")


# ---------------------------------------------------------------------------------------------------
# Exchanges: one fetched URL with its HTTP response and its labels for expected.jsonl
# ---------------------------------------------------------------------------------------------------
@dataclass
class Exchange:
    name: str                                 # unique; record ids derive from it
    url: str
    kind: str
    lang: str | None
    body: bytes
    content_type: str | None                  # HTTP Content-Type header value
    status: int = 200
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    payload_type: str | None = None           # WARC-Identified-Payload-Type
    transfer_body: bytes | None = None        # body as sent when it differs (chunked)
    expected_reason: str | None = None
    labels: dict[str, object] = field(default_factory=dict)  # extra expected.jsonl keys
    revisit_of: "Exchange | None" = None      # set on revisit exchanges

    @property
    def response_id(self) -> str:
        return record_id_for(f"sample/{self.name}/response")


def text_labels(text: Text, paragraphs: tuple[str, ...] | None = None) -> dict[str, object]:
    labels: dict[str, object] = {"title": text.title, "main_text": "\n".join(paragraphs or text.paragraphs)}
    if text.pii:
        labels["pii"] = [{"type": t, "text": v} for t, v in text.pii]
    return labels


def article_url(text: Text, rng: random.Random) -> str:
    return f"https://{text.site}/{rng.choice(['2024', '2025', '2025', '2026'])}/{text.slug}/"


def sidebar_for(text: Text, texts: dict[str, Text], rng: random.Random) -> tuple[tuple[str, str], ...]:
    """Titles of up to four other texts in the same language, as the sidebar's 'popular posts'."""
    others = [t for t in texts.values()
              if t.lang == text.lang and t.key != text.key and not t.key.startswith("special/")]
    picked = rng.sample(others, min(4, len(others)))
    return tuple((t.title, f"/{t.slug}/") for t in picked)


def make_view(text: Text, url: str, texts: dict[str, Text], rng: random.Random,
              paragraphs: tuple[str, ...] | None = None) -> ArticleView:
    published = (datetime(2024, 1, 1) + timedelta(days=rng.randrange(760))).strftime("%Y-%m-%d")
    return ArticleView(text, url, rng.choice(AUTHORS[text.lang]), published, sidebar_for(text, texts, rng), paragraphs)


def html_exchange(name: str, url: str, kind: str, lang: str | None, page: str, *,
                  encoding: str = "utf-8", content_type: str = "text/html; charset=utf-8",
                  labels: dict[str, object] | None = None) -> Exchange:
    return Exchange(name, url, kind, lang, page.encode(encoding), content_type, payload_type="text/html",
                    labels=dict(labels or {}))


def build_articles(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    """Every text in texts/<lang>/ as one clean article page, layouts rotating."""
    exchanges = []
    regular = [t for t in texts.values() if not t.key.startswith("special/")]
    for i, text in enumerate(regular):
        url = article_url(text, rng)
        layout = ("blog", "magazine")[i % 2]
        page = LAYOUTS[layout](make_view(text, url, texts, rng))
        exchanges.append(html_exchange(text.key, url, "article", text.lang, page, labels=text_labels(text)))
    return exchanges


def build_duplicates(texts: dict[str, Text], originals: dict[str, Exchange], rng: random.Random) -> list[Exchange]:
    exchanges = []
    for key, url, layout in EXACT_DUPLICATES:
        text = texts[key]
        page = LAYOUTS[layout](make_view(text, url, texts, rng))
        ex = html_exchange(f"exact-dup/{key}", url, "exact_dup", text.lang, page, labels=text_labels(text))
        ex.labels["duplicate_of"] = originals[key].response_id
        exchanges.append(ex)
    for near in NEAR_DUPLICATES:
        text = texts[near.original]
        body = "\n\n".join(text.paragraphs)
        for old, new in near.replacements:
            if body.count(old) != 1:
                raise ValueError(f"near duplicate of {near.original}: {old!r} occurs {body.count(old)} times")
            body = body.replace(old, new)
        paragraphs = tuple(body.split("\n\n")) + (near.extra_paragraph,)
        page = render_magazine(make_view(text, near.url, texts, rng, paragraphs))
        ex = html_exchange(f"near-dup/{near.original}", near.url, "near_dup", text.lang, page,
                           labels=text_labels(text, paragraphs))
        ex.labels["duplicate_of"] = originals[near.original].response_id
        exchanges.append(ex)
    return exchanges


def build_pii_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    exchanges = []
    for text in texts.values():
        if text.key.startswith("special/pii-"):
            check_pii(text)
            url = article_url(text, rng)
            page = render_blog(make_view(text, url, texts, rng))
            exchanges.append(html_exchange(text.key, url, "pii", text.lang, page, labels=text_labels(text)))
    return exchanges


def build_charset_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    """Five pages whose bytes are not plain UTF-8-with-a-header; `charset` is the true encoding."""
    def page(key: str, layout: str, meta: str | None) -> tuple[Text, str, str]:
        text = texts[key]
        url = article_url(text, rng)
        return text, url, LAYOUTS[layout](make_view(text, url, texts, rng), charset_meta=meta)

    cases = [
        # (text, kind, true encoding, HTTP Content-Type, meta charset, layout)
        ("special/charset-header-fr", "charset_header", "windows-1252", "text/html; charset=windows-1252", None,
         "blog"),
        ("special/charset-meta-de", "charset_meta", "iso-8859-1", "text/html", "iso-8859-1", "blog"),
        ("special/charset-sjis-ja", "charset_meta", "shift_jis", "text/html", None, "blog"),
        ("special/charset-detect-ru", "charset_detect", "windows-1251", "text/html", None, "blog"),
        ("special/charset-conflict-es", "charset_conflict", "utf-8", "text/html; charset=utf-8", "windows-1252",
         "magazine"),
    ]
    exchanges = []
    for key, kind, encoding, content_type, meta, layout in cases:
        text, url, html_text = page(key, layout, meta)
        if encoding == "shift_jis":  # charset only in the old http-equiv form
            html_text = html_text.replace(
                "<head>\n", '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">\n', 1)
        ex = html_exchange(key, url, kind, text.lang, html_text, encoding=encoding, content_type=content_type,
                           labels=text_labels(text))
        ex.labels["charset"] = encoding
        exchanges.append(ex)
    return exchanges


def chunk_encode(body: bytes, rng: random.Random) -> bytes:
    """HTTP/1.1 chunked transfer coding with chunk sizes of 700-2,500 bytes."""
    out, pos = [], 0
    while pos < len(body):
        size = rng.randint(700, 2500)
        chunk = body[pos:pos + size]
        out.append(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        pos += size
    return b"".join(out) + b"0\r\n\r\n"


def build_encoded_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    chunked_text, gzip_text = texts["special/chunked-en"], texts["special/gzip-en"]
    url = article_url(chunked_text, rng)
    page = render_blog(make_view(chunked_text, url, texts, rng))
    chunked = html_exchange(chunked_text.key, url, "chunked", "en", page, labels=text_labels(chunked_text))
    chunked.transfer_body = chunk_encode(chunked.body, rng)
    chunked.extra_headers = [("Transfer-Encoding", "chunked")]

    url = article_url(gzip_text, rng)
    page = render_magazine(make_view(gzip_text, url, texts, rng)).encode("utf-8")
    gzipped = Exchange(gzip_text.key, url, "gzip_encoded", "en", gzip.compress(page, compresslevel=6, mtime=0),
                       "text/html; charset=utf-8",
                       extra_headers=[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                       payload_type="text/html", labels=text_labels(gzip_text))
    return [chunked, gzipped]


def build_oversized_page(texts: dict[str, Text], rng: random.Random) -> Exchange:
    """An article with a ~1.2 MB observation table; `payload_bytes` is the HTTP body size."""
    text = texts["special/oversized-en"]
    url = f"https://{text.site}/observations/daily-1990-2025/"
    head = render_blog(make_view(text, url, texts, rng)).split("</article>")
    rows, day = [], datetime(1990, 3, 1)
    skies = ["clear", "fair", "cloudy", "overcast", "light rain", "showers", "heavy rain", "fog", "frost", "snow"]
    winds = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    table_head = ("<table class=\"observations\">\n<thead><tr><th>Date</th><th>Min (C)</th><th>Max (C)</th>"
                  "<th>Rain (mm)</th><th>Wind</th><th>Sky</th></tr></thead>\n<tbody>\n")
    size = len(head[0]) + len(table_head) + len(head[1]) + 40
    while size < OVERSIZED_TARGET_BYTES:
        low = round(rng.uniform(-6, 14), 1)
        row = (f"<tr><td>{day:%Y-%m-%d}</td><td>{low}</td><td>{round(low + rng.uniform(2, 12), 1)}</td>"
               f"<td>{round(max(0.0, rng.gauss(1.5, 3.0)), 1)}</td><td>{rng.choice(winds)}</td>"
               f"<td>{rng.choice(skies)}</td></tr>\n")
        rows.append(row)
        size += len(row)
        day += timedelta(days=1)
    page = head[0] + table_head + "".join(rows) + "</tbody>\n</table>\n</article>" + head[1]
    ex = html_exchange(text.key, url, "oversized", "en", page, labels={"title": text.title})
    ex.expected_reason = "warc:payload_too_large"
    ex.labels["payload_bytes"] = len(ex.body)
    return ex


def build_boilerplate_pages(rng: random.Random) -> list[Exchange]:
    listing = render_boilerplate_listing("en", "www.kitchen-table.example", "Soups and stews",
                                         "All our soup and stew recipes in one place.", [
        ("A weeknight red lentil soup", "Thirty minutes, one pot and a squeeze of lemon.",
         "/2025/weeknight-lentil-soup/"),
        ("Winter vegetable stew", "A hearty dish for cold evenings.", "/2025/winter-vegetable-stew/"),
        ("Chicken noodle soup", "Comfort in a bowl.", "/2024/chicken-noodle-soup/"),
        ("Ten tips for better stock", "Our readers share their secrets.", "/2024/better-stock/"),
    ])
    tag_page = render_boilerplate_listing("de", "www.radwege-im-norden.example", "Schlagwort: Fahrrad",
                                          "Alle Beiträge zum Thema Fahrrad.", [
        ("Mit dem Fahrrad an der Elbe entlang", "Fünf Tage von Magdeburg nach Hamburg.", "/2025/radtour-elbe/"),
        ("Die besten Fahrradschlösser", "Unser großer Vergleich.", "/2025/fahrradschloesser/"),
        ("Reifenpanne? Kein Problem", "So geht es schnell.", "/2024/reifenpanne/"),
    ])
    sign_in = render_simple_page("en", "Sign in", (
        "<h1>Sign in</h1>\n<form action=\"/login\" method=\"post\">"
        "<label>E-mail <input type=\"email\" name=\"email\"></label> "
        "<label>Password <input type=\"password\" name=\"password\"></label> "
        "<label><input type=\"checkbox\" name=\"remember\"> Remember me</label> <button>Sign in</button></form>\n"
        "<p>Please sign in to continue.</p>\n"
        "<p><a href=\"/forgot\">Forgot your password?</a> | <a href=\"/register\">Create an account</a></p>\n"),
        "www.two-wheel-tales.example")
    paywall = render_simple_page("en", "Members only", (
        "<h1>The secret history of the canal locks</h1>\n"
        "<p>This article is available to members only.</p>\n"
        "<p><a href=\"/join\">Join now</a> | <a href=\"/login\">Sign in</a> | <a href=\"/help\">Help</a></p>\n"),
        "www.riverside-chronicle.example", cookie_wall=True)
    coming_soon = render_simple_page("en", "Coming soon", (
        "<h1>Coming soon</h1>\n<p>Our new online shop opens in spring.</p>\n"
        "<p><a href=\"/\">Home</a> | <a href=\"/contact/\">Contact</a> | <a href=\"/imprint/\">Imprint</a></p>\n"),
        "www.garden-notes.example")
    pages = [  # (name, url, lang, html)
        ("boilerplate/listing", "https://www.kitchen-table.example/category/soups/", "en", listing),
        ("boilerplate/tag", "https://www.radwege-im-norden.example/schlagwort/fahrrad/", "de", tag_page),
        ("boilerplate/sign-in", "https://www.two-wheel-tales.example/login?next=/members/", "en", sign_in),
        ("boilerplate/paywall", "https://www.riverside-chronicle.example/members/canal-locks-history/", "en", paywall),
        ("boilerplate/coming-soon", "https://shop.garden-notes.example/", "en", coming_soon),
    ]
    return [html_exchange(name, url, "boilerplate", lang, page) for name, url, lang, page in pages]


def build_spam_pages(rng: random.Random) -> list[Exchange]:
    host = "www.best-cheap-watches-online.example"
    stuffed = " ".join(
        f"Buy {kw} {city} best price, cheap {kw} online free shipping, {kw} sale {city}."
        for kw in SPAM_KEYWORDS for city in rng.sample(SPAM_CITIES, 6))
    keyword_page = render_simple_page("en", "Buy Cheap Replica Watches Best Price Online Free Shipping", (
        "<h1>Buy cheap replica watches best price</h1>\n"
        f"<p>{esc(stuffed)}</p>\n"
        "<p>BUY NOW!!! BEST PRICE GUARANTEED!!! CHEAP WATCHES CHEAP WATCHES CHEAP WATCHES</p>\n"),
        host)
    # <br>-separated lines: trafilatura keeps repeated lines there (it drops repeated identical <p> elements)
    repeated = "<br>\n".join("Best casino bonus 2026, free spins no deposit, win real money now!" for _ in range(40))
    repeat_page = render_simple_page("en", "Best Casino Bonus 2026 Free Spins", (
        f"<h1>Best casino bonus 2026</h1>\n<div class=\"promo\">{repeated}</div>\n"
        "<p><a href=\"/go\">CLAIM YOUR BONUS</a></p>\n"),
        "www.top-casino-bonus-2026.example")
    links = "".join(f'<li><a href="/cheap-flights-{c.replace(" ", "-")}">cheap flights {c} best price</a></li>\n'
                    for c in SPAM_CITIES)
    link_farm = render_simple_page("en", "Cheap Flights Cheap Hotels Best Price", (
        "<h1>Cheap flights cheap hotels best price</h1>\n<ul>\n" + links + links.replace("flights", "hotels") +
        "</ul>\n<p>cheap flights cheap hotels cheap car hire best price best deals book now</p>\n"),
        "www.cheap-flights-hotels-deals.example")
    kredit_words = ["heute", "Berlin", "München", "Hamburg", "Köln", "billig", "schnell", "sicher", "online", "jetzt"]
    kredit = " ".join(f"Kredit sofort {w}, günstiger Kredit {w} ohne Schufa, Sofortkredit {w} online."
                      for w in kredit_words)
    kredit_page = render_simple_page("de", "Kredit sofort ohne Schufa günstig online", (
        f"<h1>Kredit sofort ohne Schufa</h1>\n<p>{esc(kredit)}</p>\n"
        "<p>JETZT KREDIT SICHERN!!! JETZT KREDIT SICHERN!!!</p>\n"),
        "www.kredit-sofort-ohne-schufa.example")
    pages = [  # (name, url, lang, html)
        ("spam/watches", f"https://{host}/replica-watches-cheap-best-price.html", "en", keyword_page),
        ("spam/casino", "https://www.top-casino-bonus-2026.example/free-spins/", "en", repeat_page),
        ("spam/link-farm", "https://www.cheap-flights-hotels-deals.example/", "en", link_farm),
        ("spam/kredit", "https://www.kredit-sofort-ohne-schufa.example/kredit-sofort.html", "de", kredit_page),
    ]
    return [html_exchange(name, url, "spam", lang, page) for name, url, lang, page in pages]


def lorem_paragraph(rng: random.Random, sentences: int, first: bool = False) -> str:
    out = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit."] if first else []
    while len(out) < sentences:
        words = [rng.choice(LOREM_WORDS) for _ in range(rng.randint(7, 16))]
        if len(words) > 8:
            words[rng.randint(3, len(words) - 3)] += ","
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def build_lorem_pages(rng: random.Random) -> list[Exchange]:
    exchanges = []
    for i, (host, title) in enumerate([("www.new-theme-demo.example", "Sample Page"),
                                       ("www.bakery-template.example", "About Our Bakery")]):
        main = f"<h1>{title}</h1>\n" + "".join(
            f"<p>{lorem_paragraph(rng, rng.randint(4, 7), first=(j == 0))}</p>\n" for j in range(rng.randint(3, 5)))
        page = render_simple_page("en", title, main, host).replace('<html lang="en">', "<html>")
        exchanges.append(html_exchange(f"lorem/{i}", f"https://{host}/sample-page/", "lorem", None, page))
    return exchanges


def png_bytes(width: int = 24, height: int = 16) -> bytes:
    """A small RGB gradient PNG, built by hand (signature, IHDR, IDAT, IEND)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 10, y * 15, 120)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def pdf_bytes(line: str) -> bytes:
    """A one-page PDF 1.4 showing one line of text, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({line}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def build_other_responses(rng: random.Random) -> list[Exchange]:
    """Non-HTML, non-200 and empty-extraction responses."""
    not_html = "extract:not_html"
    observations = [{"date": f"2026-02-{d:02d}", "min_c": round(rng.uniform(-4, 6), 1),
                     "max_c": round(rng.uniform(4, 12), 1), "rain_mm": round(rng.uniform(0, 8), 1)}
                    for d in range(1, 11)]
    json_body = json.dumps({"station": "millbrook-allotments", "unit": "metric", "observations": observations},
                           indent=2, sort_keys=True).encode("utf-8")
    error_404 = render_simple_page("en", "Page not found", (
        "<h1>404 - Page not found</h1>\n<p>Sorry, the page you are looking for does not exist or has been moved.</p>\n"
        "<p><a href=\"/\">Back to the home page</a></p>\n"), "www.kitchen-table.example").encode("utf-8")
    redirect_target = "https://www.garden-notes.example/2025/tomatoes-from-seed/"
    redirect_body = (f'<html><head><title>301 Moved Permanently</title></head><body><h1>Moved Permanently</h1>'
                     f'<p>The document has moved <a href="{redirect_target}">here</a>.</p></body></html>\n').encode()
    error_500 = (b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head><body>\n"
                 b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to "
                 b"complete your request.</p>\n<hr><address>nginx</address>\n</body></html>\n")
    empty_page = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Garden Planner</title>\n'
                  '<script>window.__INITIAL_STATE__ = {"user": null, "beds": [], "version": "4.2.1"};</script>\n'
                  '</head>\n<body>\n<div id="root"></div>\n<div class="modal-container"></div>\n'
                  '<div id="toast"></div>\n<noscript></noscript>\n<script src="/static/js/app.3f9c2b.js"></script>\n'
                  "</body>\n</html>\n")
    return [
        Exchange("other/pdf", "https://www.riverside-chronicle.example/files/annual-report-2025.pdf", "not_html", None,
                 pdf_bytes("Millbrook Historical Society - Annual Report 2025"), "application/pdf",
                 payload_type="application/pdf", expected_reason=not_html),
        Exchange("other/png", "https://www.garden-notes.example/images/apple-blossom-thumb.png", "not_html", None,
                 png_bytes(), "image/png", payload_type="image/png", expected_reason=not_html),
        Exchange("other/json", "https://www.millbrook-weather.example/api/v1/latest.json", "not_html", None,
                 json_body, "application/json", payload_type="application/json", expected_reason=not_html),
        Exchange("other/404", "https://www.kitchen-table.example/recipes/grandmas-old-cake/", "non_200", None,
                 error_404, "text/html; charset=utf-8", status=404, payload_type="text/html",
                 expected_reason="warc:non_200_status"),
        Exchange("other/301", "https://garden-notes.example/2025/tomatoes-from-seed", "non_200", None,
                 redirect_body, "text/html; charset=iso-8859-1", status=301,
                 extra_headers=[("Location", redirect_target)], payload_type="text/html",
                 expected_reason="warc:non_200_status"),
        Exchange("other/500", "https://www.two-wheel-tales.example/events/calendar/", "non_200", None,
                 error_500, "text/html", status=500, payload_type="text/html", expected_reason="warc:non_200_status"),
        Exchange("other/empty", "https://app.garden-planner.example/", "empty_extraction", None,
                 empty_page.encode("utf-8"), "text/html; charset=utf-8", payload_type="text/html",
                 expected_reason="extract:no_text"),
    ]


# ---------------------------------------------------------------------------------------------------
# WARC records
# ---------------------------------------------------------------------------------------------------
HTTP_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HTTP_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def warc_date(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(t: datetime) -> str:
    """RFC 7231 date, spelled out by hand so that the locale cannot change it."""
    return f"{HTTP_DAYS[t.weekday()]}, {t.day:02d} {HTTP_MONTHS[t.month - 1]} {t.year} {t:%H:%M:%S} GMT"


def payload_digest(data: bytes) -> str:
    """Common Crawl style `sha1:<base32>` digest."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def server_ip(host: str) -> str:
    """A documentation-range address (RFC 5737) that depends only on the host name."""
    return f"203.0.113.{hashlib.sha1(host.encode()).digest()[0] % 254 + 1}"


def split_url(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    return host, "/" + path


def request_block(url: str) -> bytes:
    host, path = split_url(url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {CRAWLER_USER_AGENT}",
             "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
             "Accept-Language: en-US,en;q=0.5", "Accept-Encoding: br,gzip", "Connection: Keep-Alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def response_block(ex: Exchange, t: datetime) -> bytes:
    headers = [("Date", http_date(t)), ("Server", "nginx")]
    if ex.content_type:
        headers.append(("Content-Type", ex.content_type))
    headers += ex.extra_headers
    if ex.transfer_body is None:
        headers.append(("Content-Length", str(len(ex.body))))
    headers.append(("Connection", "close"))
    return http_response(ex.status, ex.transfer_body if ex.transfer_body is not None else ex.body, headers)


def metadata_block(ex: Exchange, rng: random.Random) -> bytes:
    fields = [f"fetchTimeMs: {rng.randint(40, 900)}"]
    if ex.payload_type == "text/html":
        encoding = str(ex.labels.get("charset", "utf-8")).upper()
        fields.append(f"charset-detected: {encoding}")
    return ("\r\n".join(fields) + "\r\n").encode("ascii")


def base_row(warc_file: str, crawl: str, record_id: str, record_type: str, url: str | None, kind: str) -> dict:
    return {"warc_file": warc_file, "warc_offset": None, "record_id": record_id, "record_type": record_type,
            "url": url, "kind": kind, "lang": None, "expected_reason": None, "crawl": crawl}


@dataclass
class FileContext:
    """What every record of one WARC file shares."""
    warc_file: str
    crawl: str
    warcinfo_id: str
    fetched: dict[str, datetime]              # exchange name -> fetch time, across files (for revisits)


def exchange_records(ex: Exchange, t: datetime, ctx: FileContext, rng: random.Random,
                     with_metadata: bool) -> list[tuple[bytes, dict]]:
    """request, then response (or revisit), then optionally metadata, each with its expected.jsonl row."""
    host, _ = split_url(ex.url)
    date = warc_date(t)
    request_id = record_id_for(f"sample/{ex.name}/request")
    common = [("WARC-Warcinfo-ID", ctx.warcinfo_id), ("WARC-IP-Address", server_ip(host))]
    request = warc_record("request", request_block(ex.url), record_id=request_id, date=date, target_uri=ex.url,
                          content_type="application/http; msgtype=request", extra_headers=common)
    out = [(request, base_row(ctx.warc_file, ctx.crawl, request_id, "request", ex.url, "request"))]

    if ex.revisit_of is not None:
        original = ex.revisit_of
        block = http_response(304, b"", [("Date", http_date(t)), ("Server", "nginx"), ("Connection", "close")],
                              reason="Not Modified")
        headers = common + [("WARC-Concurrent-To", request_id), ("WARC-Profile", REVISIT_PROFILE),
                            ("WARC-Refers-To", original.response_id),
                            ("WARC-Refers-To-Target-URI", original.url),
                            ("WARC-Refers-To-Date", warc_date(ctx.fetched[original.name]))]
        record = warc_record("revisit", block, record_id=ex.response_id, date=date, target_uri=ex.url,
                             content_type="application/http; msgtype=response", extra_headers=headers)
        row = base_row(ctx.warc_file, ctx.crawl, ex.response_id, "revisit", ex.url, "revisit")
        row["refers_to"] = original.response_id
    else:
        # Digest of the payload as stored (chunked coding included), as Heritrix, warcio and fastwarc compute it.
        stored = ex.transfer_body if ex.transfer_body is not None else ex.body
        headers = common + [("WARC-Concurrent-To", request_id), ("WARC-Payload-Digest", payload_digest(stored))]
        if ex.payload_type:
            headers.append(("WARC-Identified-Payload-Type", ex.payload_type))
        record = warc_record("response", response_block(ex, t), record_id=ex.response_id, date=date,
                             target_uri=ex.url, content_type="application/http; msgtype=response",
                             extra_headers=headers)
        row = base_row(ctx.warc_file, ctx.crawl, ex.response_id, "response", ex.url, ex.kind)
        row["lang"], row["expected_reason"] = ex.lang, ex.expected_reason
        row.update(ex.labels)
    out.append((record, row))
    ctx.fetched[ex.name] = t

    if with_metadata:
        metadata_id = record_id_for(f"sample/{ex.name}/metadata")
        metadata = warc_record("metadata", metadata_block(ex, rng), record_id=metadata_id, date=date,
                               target_uri=ex.url, content_type="application/warc-fields",
                               extra_headers=[("WARC-Warcinfo-ID", ctx.warcinfo_id),
                                              ("WARC-Concurrent-To", ex.response_id)])
        out.append((metadata, base_row(ctx.warc_file, ctx.crawl, metadata_id, "metadata", ex.url, "metadata")))
    return out


def write_sample_file(path: Path, crawl: str, start: datetime, exchanges: list[Exchange],
                      fetched: dict[str, datetime], rng: random.Random, truncate_last: bool = False) -> list[dict]:
    """Write one WARC file (atomically) and return its expected.jsonl rows with compressed offsets."""
    warcinfo_id = record_id_for(f"sample/{path.name}/warcinfo")
    ctx = FileContext(path.name, crawl, warcinfo_id, fetched)
    records = [(warcinfo_record(crawl, record_id=warcinfo_id, date=warc_date(start), filename=path.name),
                base_row(path.name, crawl, warcinfo_id, "warcinfo", None, "warcinfo"))]
    t = start
    for ex in exchanges:
        t += timedelta(seconds=rng.randint(3, 95))
        records += exchange_records(ex, t, ctx, rng, with_metadata=not truncate_last and rng.random() < 0.5)
    members = [gzip_member(record) for record, _ in records]
    if truncate_last:  # cut the last member in the middle: its header survives, its body and gzip trailer do not
        members[-1] = members[-1][: len(members[-1]) // 2]
    offset, rows = 0, []
    for member, (_, row) in zip(members, records):
        row["warc_offset"] = offset
        offset += len(member)
        rows.append(row)
    tmp = path.with_name(path.name + ".tmp")
    write_warc(tmp, members, compress=False)  # members are gzip members already
    tmp.replace(path)
    return rows


# ---------------------------------------------------------------------------------------------------
# The sample set
# ---------------------------------------------------------------------------------------------------
def place_after(files: list[list[Exchange]], ex: Exchange, original: Exchange, same_file: bool,
                rng: random.Random) -> None:
    """Insert a duplicate after its original: later in the same file, or anywhere in the next file."""
    index = next(i for i, f in enumerate(files) if original in f)
    if same_file or index == len(files) - 1:
        position = rng.randint(files[index].index(original) + 1, len(files[index]))
    else:
        index += 1
        position = rng.randint(0, len(files[index]))
    files[index].insert(position, ex)


def plan_sample(texts: dict[str, Text], rng: random.Random) -> tuple[list[list[Exchange]], list[Exchange]]:
    """Exchanges for each numbered file, and for the truncated file."""
    articles = {ex.name: ex for ex in build_articles(texts, rng)}
    intact = articles.pop(TRUNCATED_FILE_INTACT_TEXT)
    revisited = articles.pop(REVISITED_TEXT)
    good = (list(articles.values()) + build_pii_pages(texts, rng) + build_charset_pages(texts, rng)
            + build_encoded_pages(texts, rng))
    bad = (build_boilerplate_pages(rng) + build_spam_pages(rng) + build_lorem_pages(rng)
           + build_other_responses(rng) + [build_oversized_page(texts, rng)])
    rng.shuffle(good)
    rng.shuffle(bad)
    files: list[list[Exchange]] = [[] for _ in SAMPLE_FILES]
    for i, ex in enumerate(good):
        files[i % len(files)].append(ex)
    for i, ex in enumerate(bad):  # offset, so that files with fewer good pages get more bad ones
        files[(i + len(good)) % len(files)].append(ex)
    for f in files:
        rng.shuffle(f)
    files[0].insert(rng.randint(0, len(files[0])), revisited)

    originals = {**articles, REVISITED_TEXT: revisited}
    for i, dup in enumerate(build_duplicates(texts, originals, rng)):
        original = next(ex for ex in originals.values() if ex.response_id == dup.labels["duplicate_of"])
        place_after(files, dup, original, same_file=(i == 1), rng=rng)

    revisit = Exchange(f"revisit/{REVISITED_TEXT}", revisited.url, "revisit", None, b"", None, revisit_of=revisited)
    files[-1].insert(rng.randint(0, len(files[-1])), revisit)

    truncated_text = texts["special/truncated-en"]
    url = article_url(truncated_text, rng)
    cut = html_exchange(truncated_text.key, url, "truncated", "en",
                        render_blog(make_view(truncated_text, url, texts, rng)), labels={"title": truncated_text.title})
    cut.expected_reason = "warc:truncated_record"
    return files, [intact, cut]


def generate_sample() -> list[dict]:
    """Rewrite sample_data/warc/*.warc.gz and sample_data/expected.jsonl; returns the expected rows."""
    rng = random.Random(SEED)
    texts = load_texts()
    files, truncated = plan_sample(texts, rng)
    WARC_DIR.mkdir(parents=True, exist_ok=True)
    for stale in WARC_DIR.glob("CC-MAIN-*-sample-*.warc.gz"):
        stale.unlink()
    rows: list[dict] = []
    fetched: dict[str, datetime] = {}
    for (name, crawl, start), exchanges in zip(SAMPLE_FILES, files):
        rows += write_sample_file(WARC_DIR / name, crawl, start, exchanges, fetched, rng)
    name, crawl, start = TRUNCATED_FILE
    rows += write_sample_file(WARC_DIR / name, crawl, start, truncated, fetched, rng, truncate_last=True)
    ids = [row["record_id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"record ids are not unique: {len(ids)=} {len(set(ids))=}")
    tmp = EXPECTED_PATH.with_name(EXPECTED_PATH.name + ".tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    tmp.replace(EXPECTED_PATH)
    return rows


# ---------------------------------------------------------------------------------------------------
# Benchmark WARC
# ---------------------------------------------------------------------------------------------------
BENCHMARK_JUNK_FRACTION = 0.10


def benchmark_pages(num_pages: int, rng: random.Random, texts: dict[str, Text]) -> Iterator[Exchange]:
    """Distinct article pages recombined from the sample paragraphs, plus ~10% junk and failing responses."""
    usable = [t for t in texts.values() if t.key != "special/oversized-en"]
    pools: dict[str, list[tuple[Text, str]]] = {}
    for text in usable:
        pools.setdefault(text.lang, []).extend((text, p) for p in text.paragraphs)
    langs = sorted(pools)
    weights = [sum(1 for t in usable if t.lang == lang) for lang in langs]  # the sample's language mix
    junk = (build_boilerplate_pages(rng) + build_spam_pages(rng) + build_lorem_pages(rng)
            + build_other_responses(rng))
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for i in range(num_pages):
        if rng.random() < BENCHMARK_JUNK_FRACTION:
            template = rng.choice(junk)
            yield Exchange(f"bench/{i}", f"{template.url}?p={i}", template.kind, template.lang, template.body,
                           template.content_type, template.status, template.extra_headers, template.payload_type,
                           expected_reason=template.expected_reason)
            continue
        lang = rng.choices(langs, weights)[0]
        pool = pools[lang]
        while True:  # a new paragraph subset and order for every page
            picked = tuple(rng.sample(range(len(pool)), rng.randint(3, min(8, len(pool)))))
            if (lang, picked) not in seen:
                seen.add((lang, picked))
                break
        first = pool[picked[0]][0]
        text = Text(f"bench/{i:06d}-{first.slug}", lang, first.site, first.title, tuple(pool[j][1] for j in picked),
                    slug=first.slug)
        url = f"https://{first.site}/p/{i:06d}/{first.slug}/"
        page = LAYOUTS[rng.choice(sorted(LAYOUTS))](make_view(text, url, texts, rng))
        yield html_exchange(text.key, url, "article", lang, page)


def generate_benchmark_warc(path: str | Path, num_pages: int, seed: int) -> Path:
    """Write `num_pages` request+response pairs (after one warcinfo) to `path`; same seed, same bytes."""
    path = Path(path)
    rng = random.Random(seed)
    texts = load_texts()
    warcinfo_id = record_id_for(f"benchmark/{seed}/{num_pages}/warcinfo")
    ctx = FileContext(path.name, CRAWL, warcinfo_id, {})
    start = datetime(2026, 2, 10, 0, 0, 0)

    def records() -> Iterator[bytes]:
        # a fixed WARC-Filename, so that the bytes depend on the seed and page count alone, not on `path`
        filename = f"{CRAWL}-benchmark-{seed}-{num_pages}.warc.gz"
        yield warcinfo_record(CRAWL, record_id=warcinfo_id, date=warc_date(start), filename=filename)
        t = start
        for ex in benchmark_pages(num_pages, rng, texts):
            ex.name = f"benchmark/{seed}/{ex.name}"  # record ids unique per seed
            t += timedelta(seconds=rng.randint(1, 9))
            for record, _ in exchange_records(ex, t, ctx, rng, with_metadata=False):
                yield record

    tmp = path.with_name(path.name + ".tmp")
    write_warc(tmp, records())
    return tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark-pages", type=int, help="write a benchmark WARC with this many pages instead")
    parser.add_argument("--out", type=Path, help="output path of the benchmark WARC")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the benchmark WARC")
    args = parser.parse_args(argv)
    if args.benchmark_pages is not None:
        if args.out is None:
            parser.error("--benchmark-pages needs --out")
        path = generate_benchmark_warc(args.out, args.benchmark_pages, args.seed)
        print(f"Wrote {args.benchmark_pages} pages to {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    rows = generate_sample()
    files = sorted({row["warc_file"] for row in rows})
    size = sum((WARC_DIR / f).stat().st_size for f in files)
    print(f"Wrote {len(rows)} records in {len(files)} files ({size / 1e6:.2f} MB) and {EXPECTED_PATH.name}")


if __name__ == "__main__":
    main()
