"""Let the Content-Security-Policy run the one inline script plotly writes into a page."""

from __future__ import annotations

from django.http import HttpRequest


def figure_html_with_nonce(html: str, request: HttpRequest) -> str:
    """Return plotly's ``to_html`` output with this response's CSP nonce on its script tag.

    ``to_html(include_plotlyjs=False)`` writes one ``<script>`` (plotly escapes ``<`` inside
    the figure's JSON, so user text cannot open another one); only that opening tag gets the
    nonce. Without the CSP middleware (no ``csp_nonce``) the html is returned unchanged.
    """
    nonce = getattr(request, "csp_nonce", None)
    if not html or nonce is None:
        return html
    if html.count("<script") != 1 or "<script>" not in html:
        raise ValueError("expected exactly one bare <script> tag from plotly's to_html")
    return html.replace("<script>", f'<script nonce="{nonce}">', 1)
