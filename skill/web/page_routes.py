"""The privacy policy and the terms of use on the webhook, at ``/privacy`` and ``/terms``.

:mod:`skill.web.pages` renders a page when it is first asked for, and the webhook keeps it: a
server's cold start answers Alexa before anyone reads them (importing the renderer and rendering
both pages at start-up was a hundredth of it). ``tests/test_pages.py`` renders every page, so a
malformed one fails there, not on a server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from flask import Flask, Response

PAGES: Mapping[str, str] = {"privacy": "Privacy policy", "terms": "Terms of use"}
"""Each page's path (``/privacy``) and file (``privacy.yaml``), and the title it must have."""
CONTENT_TYPE = "text/html; charset=utf-8"
CACHE_SECONDS = 3600


def init_app(app: Flask, pages: Mapping[str, bytes] | None = None) -> None:
    """Serve the pages at ``/<name>``: ``pages`` as given, else each rendered when first asked
    for, once."""
    rendered = dict(pages or {})
    lock = threading.Lock()

    def body(name: str) -> bytes:
        found = rendered.get(name)
        if found is None:
            from skill.web.pages import rendered_page

            with lock:
                found = rendered.get(name) or rendered.setdefault(name, rendered_page(name))
        return found

    def view(name: str) -> Response:
        response = Response(body(name), content_type=CONTENT_TYPE)
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
        )
        return response

    for name in pages if pages is not None else PAGES:
        app.add_url_rule(f"/{name}", f"page_{name}", view, methods=["GET"], defaults={"name": name})
