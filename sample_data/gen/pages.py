"""HTML templates: three article layouts (blog, magazine, print) and the listing and simple pages of the
junk set, each with the menus, banners and footers of a real site around its own text.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from .languages import LABELS
from .texts import Text


def site_name(host: str) -> str:
    """'www.garden-notes.example' -> 'Garden Notes'."""
    label = host.removeprefix("www.").removeprefix("forum.").split(".")[0]
    return " ".join(w.capitalize() for w in label.split("-"))


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
