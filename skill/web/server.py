"""``yoga-skill serve``: the webhook on gunicorn, a pre-forking production WSGI server."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from skill.settings import Settings
from skill.web import logs
from skill.web.webhook import create_app

log = logging.getLogger(__name__)

DEV_WARNING = (
    "DEVELOPMENT MODE: Alexa request verification is OFF and the server listens on loopback "
    "only. Never expose this to the internet."
)


GUNICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "skill.web.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}
"""gunicorn's own messages as JSON lines too, like the skill's."""


class _NoAccessLogger(glogging.Logger):
    """gunicorn's logger without its access log: the webhook writes its own JSON line a request,
    and a logging config would otherwise make gunicorn build (and drop) one on every request."""

    @property
    def access_log_enabled(self) -> bool:
        return False

    def access(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    # types-gunicorn's WSGI app type (a MutableMapping environ) does not accept typeshed's,
    # which Flask follows (a dict environ); gunicorn passes a dict.
    def load(self) -> Flask:  # type: ignore[override]
        return self.application


def serve(host: str, port: int, workers: int, threads: int = 4, dev: bool = False) -> None:
    logs.configure()
    if dev:
        log.warning(DEV_WARNING)
        host = "127.0.0.1" if host not in ("127.0.0.1", "localhost", "::1") else host
    config = Settings.from_env(dev=dev)
    if not config.verify and not dev:
        log.warning("YOGA_VERIFY is off: requests are not checked to come from Alexa")
    app = create_app(config)
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        # gthread, but each request is read whole in the worker's event loop before a thread
        # takes it, within deadlines: slow clients cannot hold the threads (skill/web/worker.py).
        "worker_class": "skill.web.worker.BufferingWorker",
        "threads": threads,
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "timeout": 30,
        "graceful_timeout": 10,
        # No keep-alive: a kept-alive connection stays with the worker that accepted it, and
        # under load one worker took every connection while the other idled (p99 58 ms at 32
        # clients, against 44 ms and twice the throughput without). Behind a TLS proxy, as Alexa
        # needs, the hop to gunicorn is loopback and a new connection costs little.
        "keepalive": 0,
        "proc_name": "yoga-skill",
        "control_socket_disable": True,
        "logconfig_dict": GUNICORN_LOGGING,
        "logger_class": _NoAccessLogger,
    }
    log.info(
        "serving",
        extra={
            "fields": {
                "bind": options["bind"],
                "workers": workers,
                "verify": config.verify,
                "pid": os.getpid(),
            }
        },
    )
    if dev:
        print(
            f"Post run yoga is running: the phone player at http://{host}:{port}/ and the "
            f"typing console at http://{host}:{port}/try (Ctrl-C to stop)",
            flush=True,
        )
    _Gunicorn(app, options).run()
