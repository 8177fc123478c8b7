"""boto3 sessions: one per credential profile, with clients per region. Building a session parses the service
models again (~0.3 s each), so it is built once per profile and process."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

# botocore's "nothing to authenticate with" errors: they reach the CLI, which says how to log in.
CREDENTIAL_ERRORS = frozenset({"NoCredentialsError", "PartialCredentialsError", "NoRegionError", "ProfileNotFound",
                               "TokenRetrievalError", "SSOTokenLoadError"})


def aws_session(profile: str | None, region: str) -> RegionalSession:
    return RegionalSession(_session(profile), region)


@functools.cache
def _session(profile: str | None) -> Any:
    import boto3

    return boto3.session.Session(profile_name=profile)


@dataclass(frozen=True)
class RegionalSession:
    session: Any
    region: str

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region, config=client_config())


# Every AWS call gives up instead of hanging: 5 s to connect, 20 s for an answer, 3 attempts in all (botocore's
# standard retry mode backs off between them), so an unreachable endpoint costs well under a minute per call.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20
MAX_ATTEMPTS = 3


@functools.cache
def client_config() -> Any:
    from botocore.config import Config

    return Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                  retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})


def account_id(profile: str | None, region: str) -> str:
    """The caller's AWS account (STS GetCallerIdentity). RuntimeError when STS answers with an error; missing
    credentials are raised as botocore raises them."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(aws_session(profile, region).client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        if type(error).__name__ in CREDENTIAL_ERRORS:
            raise
        raise RuntimeError(str(error)) from error
