"""HTML to PDF with WeasyPrint (the board reports). WeasyPrint loads Pango, HarfBuzz and
Fontconfig from the system at import time (installed by .ci/run and the Dockerfile): where they
are missing, `pdf_unavailable()` says why and the views answer that instead of an error page."""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs cannot be loaded here."""


@cache
def pdf_unavailable() -> str:
    """ "" where PDFs can be made, else why not (a sentence for the page and the logs)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        return f"PDFs cannot be made on this server: WeasyPrint could not load ({error})."
    return ""


def _weasyprint():
    if reason := pdf_unavailable():
        raise PdfUnavailable(reason)
    import weasyprint

    return weasyprint


def render_document(html: str, *, stylesheets: tuple[str, ...] = ()):
    """The laid-out document (its `pages`; `write_pdf()`), styled by the static files
    `stylesheets`, read from disk. It fetches nothing else: no file, no request to this server
    or any other (the HTML holds what people typed), only `data:` URLs."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    sheets = [
        weasyprint.CSS(string=_read(path), url_fetcher=fetcher, base_url="data:,")
        for path in stylesheets
    ]
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url="data:,")
    return document.render(stylesheets=sheets)


def _read(static_path: str) -> str:
    found = finders.find(static_path)
    if not found:
        raise FileNotFoundError(static_path)
    with open(found, encoding="utf-8") as stylesheet:
        return stylesheet.read()
