"""HTTP payloads inside WARC response records: status, headers, transfer/content decoding, charset.

Charset order follows the HTML standard's sniffing in simplified form: a byte-order mark, then the HTTP
`Content-Type` charset, then a `<meta>` declaration in the first 4 KiB, then detection
(charset-normalizer). A declared charset that does not decode the bytes strictly is skipped rather than
trusted, since servers often mislabel pages. Labels are mapped to the supersets browsers use.
"""
from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass

import brotli
from charset_normalizer import from_bytes

META_SNIFF_BYTES = 4096
# Browsers decode these labels with a superset encoding (WHATWG Encoding Standard).
CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
    "us-ascii": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "euc-kr": "cp949", "tis-620": "cp874", "iso-8859-9": "cp1254",
}
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE)
HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
HTML_SNIFF_BYTES = 1024
STATUS_CODE = re.compile(r"[0-9]{3}")  # RFC 9110 15: three ASCII digits (str.isdigit also takes "²")


class PayloadError(ValueError):
    """The HTTP block or its encoding cannot be decoded."""


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # names lowercased; a repeated header keeps its first value
    body: bytes
    # every header line in order, (name lowercased, value stripped): opt-out headers such as X-Robots-Tag
    # may be sent several times, and each line counts (filters/optout.py)
    header_lines: tuple[tuple[str, str], ...] = ()


def parse_response(block: bytes) -> HttpResponse:
    """Split a WARC response block into status, headers and body (still transfer/content-encoded)."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n"), 2
    if end < 0:
        raise PayloadError("no end of the HTTP header")
    lines = block[:end].decode("latin-1").split("\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not STATUS_CODE.fullmatch(parts[1]):
        raise PayloadError(f"bad HTTP status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    header_lines: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            header_lines.append((name.strip().lower(), value.strip()))
            headers.setdefault(*header_lines[-1])
    return HttpResponse(int(parts[1]), headers, block[end + sep :], tuple(header_lines))


def dechunk(body: bytes) -> bytes:
    """Undo `Transfer-Encoding: chunked` (RFC 9112 7.1); trailers are ignored."""
    out = bytearray()
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise PayloadError("chunked body ends inside a chunk-size line")
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as error:
            raise PayloadError(f"bad chunk size {size_text[:20]!r}") from error
        if size == 0:
            return bytes(out)
        start = line_end + 2
        if start + size > len(body):
            raise PayloadError("chunked body ends inside a chunk")
        out += body[start : start + size]
        position = start + size + 2


def decode_content(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """Undo `Content-Encoding` (gzip, deflate, br), refusing outputs over `max_bytes` (zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity", "none"):
        return body
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            # wbits 47 reads gzip or zlib headers; raw deflate (seen from some servers) needs -15.
            wbits = 47 if body[:1] in (b"\x1f", b"\x78") else -15
            decoder = zlib.decompressobj(wbits)
            out = decoder.decompress(body, max_bytes + 1)
        elif encoding == "br":
            out = _unbrotli(body, max_bytes)
        else:
            raise PayloadError(f"unsupported Content-Encoding {encoding!r}")
    except (zlib.error, brotli.error) as error:
        raise PayloadError(f"cannot undo Content-Encoding {encoding}: {error}") from error
    if len(out) > max_bytes:
        raise PayloadError(f"Content-Encoding {encoding} expands past {max_bytes} bytes")
    return out


def _unbrotli(body: bytes, max_bytes: int) -> bytes:
    """Brotli-decode at most `max_bytes + 1` bytes: `brotli.decompress` would expand a bomb whole first."""
    decoder = brotli.Decompressor()
    out = decoder.process(body, output_buffer_limit=max_bytes + 1)
    if len(out) <= max_bytes and not decoder.is_finished():
        raise PayloadError("brotli stream ends early")  # as brotli.decompress says it
    return out


def decoded_body(response: HttpResponse, max_bytes: int) -> bytes:
    """The body with transfer and content codings undone where they apply.

    Archivers (wget, pywb, ClueWeb) often store the already-decoded body but keep the original
    `Transfer-Encoding: chunked` / `Content-Encoding: gzip` headers, so a body that does not parse in the
    declared coding is taken as stored. Only an expansion past `max_bytes` raises.
    """
    body = response.body
    if "chunked" in response.headers.get("transfer-encoding", "").lower():
        try:
            body = dechunk(body)
        except PayloadError:
            pass  # stored already de-chunked
    try:
        return decode_content(body, response.headers.get("content-encoding", ""), max_bytes)
    except PayloadError as error:
        if "expands past" in str(error):
            raise
        return body  # stored already decoded, or a coding we do not know


def media_type(content_type: str | None) -> tuple[str | None, str | None]:
    """(mime type lowercased, charset parameter) of a Content-Type value."""
    if not content_type:
        return None, None
    parts = content_type.split(";")
    mime = parts[0].strip().lower() or None
    charset = None
    for part in parts[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return mime, charset


def looks_like_html(body: bytes) -> bool:
    """Sniff an untyped payload (ClueWeb and old crawls omit Content-Type): after whitespace and comments,
    an html, head or body tag or an HTML doctype. A loop, not one regex: a repeated `<!--.*?-->` group backtracks
    exponentially in the number of comments when no tag follows them."""
    head = body[:HTML_SNIFF_BYTES]
    head = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    position = 0
    while True:
        position = len(head) - len(head[position:].lstrip())
        if not head.startswith(b"<!--", position):
            return bool(HTML_TAG.match(head, position))
        end = head.find(b"-->", position + 4)
        if end < 0:
            return False
        position = end + 3


def _codec(label: str | None) -> str | None:
    """The Python text codec for a charset label; None for unknown labels and for the bytes-to-bytes
    codecs a page may name (`charset=base64`, `rot13`, `zlib`) that bytes.decode refuses with LookupError."""
    if not label:
        return None
    label = label.strip().lower()
    label = CHARSET_SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # ValueError: a label with a NUL byte ("charset=utf-8\x00")
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        return None
    return info.name


def _strict(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except UnicodeError:  # UnicodeDecodeError, and the plain UnicodeError of codecs such as idna
        return None


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str, str]:
    """(text, codec name, source) where source is bom, header, meta, detected or fallback."""
    for bom, codec in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace"), codec, "bom"
    codec = _codec(header_charset)
    text = _strict(body, codec)
    if text is not None:
        return text, codec, "header"
    match = META_CHARSET.search(body[:META_SNIFF_BYTES])
    codec = _codec(match.group(1).decode("ascii", errors="replace")) if match else None
    # A meta tag saying utf-16 in a byte-oriented page is always wrong (HTML standard).
    codec = "utf-8" if codec and codec.startswith("utf-16") else codec
    text = _strict(body, codec)
    if text is not None:
        return text, codec, "meta"
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8", "detected"
    best = from_bytes(body).best()
    if best is not None:
        codec = _codec(best.encoding) or "utf-8"
        return body.decode(codec, errors="replace"), codec, "detected"
    return body.decode("utf-8", errors="replace"), "utf-8", "fallback"
