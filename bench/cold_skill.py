"""Cold start of the real skill: ``python bench/cold_skill.py BODY_FILE`` in a fresh process.

Imports the skill, builds the webhook as ``yoga-skill serve`` does (``create_app`` from the
environment, which builds the skill with ``skill_for``), answers one LaunchRequest envelope
(read from BODY_FILE, signed headers from BODY_FILE.headers.json if present) through the app's
WSGI callable with a prepared environ, as bench/hello_skill.py does, and prints one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from time import process_time_ns

from wsgi_call import Caller, environ_template

from skill.settings import Settings
from skill.web.webhook import create_app


def main() -> int:
    body_file = Path(sys.argv[1])
    body = body_file.read_bytes()
    headers_file = body_file.with_name(body_file.name + ".headers.json")
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    app = create_app(Settings.from_env())
    caller = Caller(app)
    _, out = caller.call(environ_template(len(body), headers), body)
    cpu = process_time_ns()  # this process's CPU time so far, interpreter start-up included
    speech = json.loads(out).get("response", {}).get("outputSpeech", {}).get("ssml", out.decode())
    print(f"answered {caller.last_status()} cpu={cpu} {speech[:60]}", flush=True)
    return 0 if caller.last_status().startswith("200") else 1


if __name__ == "__main__":
    sys.exit(main())
