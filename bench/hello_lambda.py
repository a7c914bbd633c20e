"""The Lambda baseline: ask-sdk's hello world (bench/hello_world.py) invoked as Lambda would.

``python bench/hello_lambda.py EVENT_FILE`` in a fresh process: imports the sample's module
(its handler is the SDK's ``SkillBuilder.lambda_handler()``), calls the handler once with the
event (a LaunchRequest envelope, parsed from EVENT_FILE as the Lambda runtime parses it) and
prints one line when the answer is ready, as bench/cold_lambda.py does for the skill.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from time import process_time_ns

from hello_world import lambda_handler


def main() -> int:
    event = json.loads(Path(sys.argv[1]).read_bytes())
    answer = lambda_handler(event, None)
    cpu = process_time_ns()  # this process's CPU time so far, interpreter start-up included
    speech = answer["response"]["outputSpeech"]["ssml"]
    print(f"answered cpu={cpu} {speech[:60]}", flush=True)
    return 0 if "Hello" in speech else 1


if __name__ == "__main__":
    sys.exit(main())
