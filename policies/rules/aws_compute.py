"""EC2 launch templates used by the EKS node groups: IMDSv2 and encrypted root volumes."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_int, as_list, get, truthy
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import LAUNCH_TEMPLATE

IMDS_SCHEMA = {
    "maxHopLimit": {
        "type": "integer",
        "minimum": 1,
        "maximum": 64,
        "default": 1,
        "description": "Highest httpPutResponseHopLimit allowed (1 keeps pods away from the node's IMDS and so "
        "from the node role).",
    },
}


@resource_rule(
    name="aws-launch-template-imdsv2",
    summary="Launch templates require IMDSv2 (httpTokens=required) and set a hop limit of at most `maxHopLimit` "
    "(default 1, so workspace pods cannot reach the node role); an unset hop limit fails, as the AMI decides it.",
    types=[LAUNCH_TEMPLATE],
    control="CKV_AWS_79, AWS FSBP EC2.8",
    config=IMDS_SCHEMA,
)
def launch_template_imdsv2(args: Any, report: Report) -> None:
    maximum = configured(args, IMDS_SCHEMA)["maxHopLimit"]
    tokens = get(args.props, "metadataOptions.httpTokens")
    if tokens != "required":
        shown = "not set" if tokens is None else repr(tokens)
        report(f"metadataOptions.httpTokens is {shown}; it must be 'required' (IMDSv2).")
    raw = get(args.props, "metadataOptions.httpPutResponseHopLimit")
    hops = as_int(raw)
    if raw is None:
        report(f"metadataOptions.httpPutResponseHopLimit is not set; set it to at most {maximum} (unset, the AMI "
               "decides: 2 for AMIs registered with ImdsSupport v2.0, such as Amazon Linux 2023).")
    elif hops is None:
        report(f"metadataOptions.httpPutResponseHopLimit {raw!r} is not a whole number; set it to at most "
               f"{maximum}.")
    elif hops > maximum:
        report(f"metadataOptions.httpPutResponseHopLimit is {hops}; at most {maximum}.")


@resource_rule(
    name="aws-launch-template-ebs-encrypted",
    summary="Launch templates map the root volume explicitly, as an encrypted EBS volume.",
    types=[LAUNCH_TEMPLATE],
    control="CKV_AWS_8, AWS FSBP EC2.3",
)
def launch_template_ebs_encrypted(args: Any, report: Report) -> None:
    volumes = [m for m in as_list(get(args.props, "blockDeviceMappings")) if get(m, "ebs") is not None]
    if not volumes:
        report("blockDeviceMappings has no EBS volume; map the root volume with ebs.encrypted = true (the AMI's "
               "default volume may be unencrypted).")
    for mapping in volumes:
        if not truthy(get(mapping, "ebs.encrypted")):
            report(f"EBS volume {get(mapping, 'deviceName') or '<unnamed>'} is not encrypted.")
