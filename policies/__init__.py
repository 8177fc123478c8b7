"""The gitpod-cell CrossGuard policy pack.

Rules live in `policies.rules` as plain functions over CrossGuard-shaped arguments, so the same code runs under the
Pulumi CLI (`__main__.py` wraps them in `pulumi_policy` objects) and offline (`policies.offline.evaluate`).
Importing this package imports no Pulumi SDK.
"""
