"""Which failures mean "could not check" (exit 3), and what the operator does about each: missing or expired
credentials get their cloud's own login hint, an unreachable or silent endpoint says so. Errors are recognised by
class name and module along the whole cause chain, so a library error wrapped in an OpsError (exit 1) is still
reported as what it is, and the CLI never imports boto3 or google-auth to find out."""

from __future__ import annotations

from dataclasses import dataclass

LOGIN_HINTS = {
    "aws": "log in with `aws sso login` (or set AWS_PROFILE / pass --aws-profile)",
    "gcp": "log in with `gcloud auth application-default login`",
    "kubernetes": "point --kubeconfig (or $KUBECONFIG) at the cell's kubeconfig: `pulumi stack output --show-secrets "
                  "kubeconfig > cell.kubeconfig`",
}

_AWS_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError", "ProfileNotFound", "TokenRetrievalError",
                              "SSOTokenLoadError", "UnauthorizedSSOTokenError", "CredentialRetrievalError",
                              "InvalidConfigError"})
# Error codes of a ClientError that mean the credentials themselves are bad or expired.
_AWS_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                                   "UnrecognizedClientException", "AuthFailure", "InvalidAccessKeyId",
                                   "SignatureDoesNotMatch", "RequestExpired"})
_AWS_UNREACHABLE = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                              "ConnectionClosedError", "ProxyConnectionError", "SSLError", "HTTPClientError"})
_GCP_CREDENTIALS = frozenset({"DefaultCredentialsError", "RefreshError", "ReauthFailError"})
_NETWORK = frozenset({"ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "TransportError",
                      "RetryError", "ConnectionRefusedError", "TimeoutError", "ServiceUnavailable", "DeadlineExceeded",
                      "gaierror", "MaxRetryError", "NewConnectionError", "ProtocolError", "RemoteDisconnected"})


@dataclass(frozen=True)
class CannotCheck:
    """A failure that left the command unable to check anything further."""

    what: str  # "no AWS credentials", "cannot reach AWS"
    hint: str
    detail: str

    def line(self) -> str:
        return f"{self.what}: {self.detail} ({self.hint})"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _cloud_of(error: BaseException) -> str | None:
    module = type(error).__module__
    if module.startswith(("botocore", "boto3")):
        return "aws"
    if module.startswith(("google", "requests")):
        return "gcp"
    if module.startswith("ops.cluster"):
        return "kubernetes"
    return None


def _detail(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def classify(error: BaseException) -> CannotCheck | None:
    """What kept the command from checking, if the cause chain of `error` says so; None for anything else."""
    for cause in _chain(error):
        name = type(cause).__name__
        cloud = _cloud_of(cause)
        if name in _AWS_CREDENTIALS or (name == "NoRegionError"):
            return CannotCheck("no usable AWS credentials", LOGIN_HINTS["aws"], _detail(cause))
        if name == "ClientError":
            code = str(getattr(cause, "response", {}).get("Error", {}).get("Code", ""))
            if code in _AWS_CREDENTIAL_CODES:
                return CannotCheck("AWS refused the credentials", LOGIN_HINTS["aws"], _detail(cause))
        if cloud == "aws" and name in _AWS_UNREACHABLE:
            return CannotCheck("cannot reach AWS", "check the network, VPN or proxy, then run the command again",
                               _detail(cause))
        if name in _GCP_CREDENTIALS:
            return CannotCheck("no usable GCP credentials", LOGIN_HINTS["gcp"], _detail(cause))
        if name == "KubeConfigError":
            return CannotCheck("no usable kubeconfig", LOGIN_HINTS["kubernetes"], _detail(cause))
        if name == "KubeUnavailable":
            return CannotCheck("cannot reach the cluster", "check that the cluster's API endpoint is reachable from "
                               "here (VPN, bastion) and that --kubeconfig/--context name it", _detail(cause))
        if name in _NETWORK or (name == "OSError" and getattr(cause, "errno", None) is not None):
            where = {"aws": "AWS", "gcp": "Google Cloud", "kubernetes": "the cluster"}.get(cloud or "", "the cloud")
            return CannotCheck(f"cannot reach {where}", "check the network, VPN or proxy, then run the command again",
                               _detail(cause))
    return None
