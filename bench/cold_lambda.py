"""Cold start of the skill's Lambda: ``python bench/cold_lambda.py EVENT_FILE`` in a fresh process.

Imports the handler template.yaml names (``skill.alexa.lambda_function.handler``), calls it once
with the event (a LaunchRequest envelope, parsed from EVENT_FILE as the Lambda runtime parses it:
the skill is built from the environment on this first call, as on a cold Lambda) and prints one
line when the answer is ready, as bench/hello_lambda.py does for ask-sdk's hello world.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from time import process_time_ns

from skill.alexa.lambda_function import handler


def main() -> int:
    event = json.loads(Path(sys.argv[1]).read_bytes())
    answer = handler(event, None)
    cpu = process_time_ns()  # this process's CPU time so far, interpreter start-up included
    speech = answer["response"]["outputSpeech"]["ssml"]
    print(f"answered cpu={cpu} {speech[:60]}", flush=True)
    return 0 if speech.startswith("<speak>") else 1


if __name__ == "__main__":
    sys.exit(main())
