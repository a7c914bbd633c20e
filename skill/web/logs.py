"""One JSON object per log line, for the service's operators and their log tools."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...fields}``; ``extra={"fields": {...}}`` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class _BriefFormatter(logging.Formatter):
    """One line a record, for people at a terminal: the message and its error, no traceback."""

    def format(self, record: logging.LogRecord) -> str:
        message = f"yoga-skill: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {record.exc_info[1]}"
        return message


def configure_brief(level: int = logging.WARNING) -> None:
    """Warnings and errors to stderr as one line each (for the interactive commands)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_BriefFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
