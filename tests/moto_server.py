"""A real moto server over HTTP on loopback, for tests that talk to AWS APIs.

Tests take the ``moto_endpoint`` (one server for the whole run) and ``aws_env`` fixtures from
conftest.py, which are built on this module.

No boto3 call is mocked: clients talk HTTP to the server at ``endpoint``.
"""

from __future__ import annotations

import contextlib
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

#: Dummy credentials and region; moto accepts anything.
AWS_TEST_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}

#: Variables that could make boto3 reach real AWS or a developer's profile.
AWS_VARS_TO_CLEAR: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def aws_test_env(tmp_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Environment for boto3 isolated from ~/.aws: dummy keys, us-east-1.

    Points ``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE`` at missing
    files inside ``tmp_dir`` and disables the EC2 metadata lookup.  Callers
    should also delete :data:`AWS_VARS_TO_CLEAR` (``monkeypatch.delenv``).
    """
    tmp = Path(tmp_dir)
    return {
        **AWS_TEST_ENV,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def running_moto_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``moto.server.ThreadedMotoServer`` on ``host`` and yield its URL.

    ``port=0`` picks a free port.  The listening socket is closed on exit
    (``ThreadedMotoServer.stop()`` only shuts the loop down, which would leave
    an unclosed socket and a ResourceWarning behind).
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.stop()
        wsgi_server = getattr(server, "_server", None)
        if wsgi_server is not None:
            wsgi_server.server_close()


def reset_moto_server(endpoint: str) -> None:
    """Drop every resource the server holds (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
