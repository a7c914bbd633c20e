"""Cold-start baseline: a minimal ask-sdk hello-world skill behind a bare Flask app.

Run as a fresh process: ``python bench/hello_skill.py BODY_FILE``. It imports what a minimal
webhook skill needs, builds a CustomSkillBuilder with one LaunchRequest handler that speaks
"Hello", answers one request envelope (read from BODY_FILE) through the Flask app's WSGI callable
with a prepared environ, exactly as bench/cold_skill.py does for the real skill, and prints one
line when the answer is ready.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, request
from wsgi_call import Caller, environ_template


class LaunchHandler(AbstractRequestHandler):
    def can_handle(self, handler_input):  # type: ignore[no-untyped-def]
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input):  # type: ignore[no-untyped-def]
        return handler_input.response_builder.speak("Hello").response


def build_app() -> Flask:
    builder = CustomSkillBuilder()
    builder.add_request_handler(LaunchHandler())
    skill = builder.create()
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
    speech = json.loads(out)["response"]["outputSpeech"]["ssml"]
    print(f"answered {caller.last_status()} {speech}", flush=True)
    return 0 if caller.last_status().startswith("200") and "Hello" in speech else 1


if __name__ == "__main__":
    sys.exit(main())
