"""The phone player's routes on the webhook; :mod:`skill.web.player_site` makes what they serve.

The routes are registered at start-up, but the site (its module, the routine's timelines, the
page's files) is made at the first request for one of them: a server's cold start answers Alexa
before anyone opens the player, and importing the site was a hundredth of it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from flask import Flask, Response, request

if TYPE_CHECKING:
    from skill.web.player_site import PlayerSite


@functools.lru_cache(maxsize=128)
def _gzipped(body: bytes) -> bytes:
    """``body`` compressed for a browser that takes gzip (the page's text, about a fifth)."""
    import gzip

    return gzip.compress(body, compresslevel=6, mtime=0)


def add_player(app: Flask, audio_dir: Path) -> None:
    """Serve the player on ``app``: the page at ``/``, its files, and the timelines (a bad
    timeline name gets a 400 with the reason)."""

    def site() -> PlayerSite:
        from skill.web.player_site import player_site

        return player_site(audio_dir)

    def send(body: bytes, mimetype: str, cache: str) -> Response:
        squeeze = not mimetype.startswith("image/png") and len(body) > 1024
        if squeeze and request.accept_encodings.quality("gzip") > 0:
            response = Response(_gzipped(body), mimetype=mimetype)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = Response(body, mimetype=mimetype)
        if squeeze:
            response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = cache
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.add_etag()
        response.make_conditional(request)  # in place: a 304 for a copy the browser has
        return response

    @app.get("/")
    def player_page() -> Response:
        return send(site().page, "text/html", "no-cache")

    @app.get("/sw.js")
    def player_worker() -> Response:
        return send(site().worker, "text/javascript", "no-cache")

    @app.get("/player/<name>")
    def player_asset(name: str) -> Response:
        from skill.web.player_site import ASSETS, IMMUTABLE

        mimetype = ASSETS.get(name)
        if mimetype is None:
            return Response(
                orjson.dumps({"error": f"no player file {name[:80]!r}"}),
                404,
                mimetype="application/json",
            )
        fresh = request.args.get("v") == site().version
        return send(site().assets[name], mimetype, IMMUTABLE if fresh else "no-cache")

    @app.get("/player/timelines/<name>.json")
    def player_timeline(name: str) -> Response:
        from skill.audio.choice import Choice, ChoiceError
        from skill.audio.player.timeline import PlayerError

        try:
            choice = Choice.parse(name, site().areas)
            body = site().timeline(choice)
        except ChoiceError as exc:
            return Response(orjson.dumps({"error": str(exc)}), 400, mimetype="application/json")
        except PlayerError as exc:
            return Response(orjson.dumps({"error": str(exc)}), 503, mimetype="application/json")
        return send(body, "application/json", "no-cache")
