"""Articles whose responses opt out of AI training, one per source the `optout` stage honours (filters/optout.py):
an `X-Robots-Tag: noai` header, the TDM Reservation Protocol's `tdm-reservation: 1` header with a `tdm-policy`,
and `<meta name="robots" content="noai">` with a per-agent `<meta name="CCBot" content="noindex">`.

Their texts live here rather than in `texts/`: every text there is also a regular article and a source of the
benchmark WARC's pages, and these pages must be no one's duplicate and change nothing else. They are written
after each file's other records, with a random stream of their own (`sample.py`), so every earlier record of
the sample stays byte-identical.
"""
from __future__ import annotations

import random

from .exchange import Exchange, article_url, html_exchange, make_view, text_labels
from .pages import render_blog, render_magazine
from .texts import Text

OPTOUT_TEXTS = (
    Text("optout/harbour-walk-en", "en", "www.harbour-walks.example", "A winter walk around the old harbour", (
        "The harbour wall is at its best on a clear January morning, when the tide is out and the boats lean on "
        "the mud like sleeping animals.",
        "Start at the fish market, where the auction begins at six and the gulls arrive a few minutes earlier "
        "than the buyers.",
        "Follow the quay past the chandlery and the lifeboat station; the volunteers open the doors on Saturday "
        "mornings and will show you the new boat if you ask.",
        "At the end of the breakwater a small lighthouse still flashes green every four seconds, although no "
        "ship has needed it since the channel was moved in 1987.",
        "Walk back along the beach if the tide allows it, and finish with soup at the harbour cafe, which keeps "
        "a fire burning from November to March.",
    ), slug="winter-harbour-walk"),
    Text("optout/kraeutergarten-de", "de", "www.kraeuter-am-hang.example", "Ein Kräutergarten am Hang", (
        "Unser Garten liegt an einem steilen Südhang, und die ersten Jahre haben wir vor allem gegen die "
        "Erosion gekämpft.",
        "Heute halten niedrige Trockenmauern aus Feldsteinen die Erde fest, und in den Fugen wachsen Thymian, "
        "Oregano und Bohnenkraut.",
        "Rosmarin und Salbei stehen ganz oben, wo der Boden am trockensten ist und die Sonne bis zum Abend "
        "auf die Steine scheint.",
        "Weiter unten, wo sich das Wasser sammelt, gedeihen Minze, Zitronenmelisse und Schnittlauch ohne viel "
        "Pflege.",
        "Im Herbst schneiden wir die Stauden zurück und lassen die Samenstände für die Vögel stehen, die im "
        "Winter gern vorbeikommen.",
    ), slug="kraeutergarten-am-hang"),
    Text("optout/velo-montagne-fr", "fr", "www.velo-en-montagne.example", "Premier col à vélo", (
        "Nous sommes partis du village à sept heures, avec deux bidons d'eau, des barres de céréales et une "
        "veste légère pour la descente.",
        "Les premiers kilomètres traversent une forêt de hêtres où la pente reste douce et où l'on entend "
        "surtout les oiseaux.",
        "Après le hameau, la route s'élève en lacets serrés et il faut apprendre à respirer au rythme des "
        "pédales.",
        "Le dernier kilomètre est le plus dur, mais le panneau du col apparaît enfin entre deux rochers, et la "
        "vue sur la vallée efface la fatigue.",
        "La descente demande de la prudence : les virages sont étroits et des troupeaux traversent parfois la "
        "route sans prévenir.",
    ), slug="premier-col-a-velo"),
)


def build_optout_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    """One opted-out article per source, each with its expected reason."""
    english, german, french = OPTOUT_TEXTS
    pages = []

    url = article_url(english, rng)
    page = html_exchange(english.key, url, "optout", "en", render_blog(make_view(english, url, texts, rng)),
                         labels=text_labels(english))
    page.extra_headers = [("X-Robots-Tag", "noai, noimageai")]
    page.expected_reason = "optout:x_robots_tag"
    pages.append(page)

    url = article_url(german, rng)
    page = html_exchange(german.key, url, "optout", "de", render_magazine(make_view(german, url, texts, rng)),
                         labels=text_labels(german))
    page.extra_headers = [("tdm-reservation", "1"), ("tdm-policy", f"https://{german.site}/tdm/policy.json")]
    page.expected_reason = "optout:tdm_reservation"
    pages.append(page)

    url = article_url(french, rng)
    meta = '<meta name="robots" content="noai, noimageai">\n<meta name="CCBot" content="noindex">\n'
    html = render_blog(make_view(french, url, texts, rng)).replace("</head>", meta + "</head>", 1)
    page = html_exchange(french.key, url, "optout", "fr", html, labels=text_labels(french))
    page.expected_reason = "optout:meta_robots"
    pages.append(page)
    return pages
