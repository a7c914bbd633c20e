"""The baseline on Flask: ask-sdk's hello world (bench/hello_world.py) behind a Flask route.

The route does what the SDK's Flask adapter (flask-ask-sdk's SkillAdapter, verification off)
does, without the adapter's package: the SDK's DefaultSerializer parses the body, the skill
(built once) answers, the SDK serialises the response and it goes out as JSON.
bench/inprocess.py replays the 40-turn session through :func:`build_app`; as a fresh process,
``python bench/hello_skill.py BODY_FILE`` is the cold-start baseline: it imports what it needs,
builds the app, answers one request envelope (read from BODY_FILE) through the Flask app's WSGI
callable with a prepared environ, exactly as bench/cold_skill.py does for the real skill, and
prints one line when the answer is ready.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from time import process_time_ns

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, request
from hello_world import sb
from wsgi_call import Caller, environ_template


def build_app() -> Flask:
    skill = sb.create()
    serializer = DefaultSerializer()
    app = Flask(__name__)

    @app.post("/alexa")
    def alexa() -> Response:
        envelope = serializer.deserialize(request.get_data(as_text=True), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        body = json.dumps(serializer.serialize(response), separators=(",", ":"))
        return Response(body, mimetype="application/json")

    return app


def main() -> int:
    body = Path(sys.argv[1]).read_bytes()
    caller = Caller(build_app())
    _, out = caller.call(environ_template(len(body)), body)
    cpu = process_time_ns()  # this process's CPU time so far, interpreter start-up included
    speech = json.loads(out)["response"]["outputSpeech"]["ssml"]
    print(f"answered {caller.last_status()} cpu={cpu} {speech}", flush=True)
    return 0 if caller.last_status().startswith("200") and "Hello" in speech else 1


if __name__ == "__main__":
    sys.exit(main())
