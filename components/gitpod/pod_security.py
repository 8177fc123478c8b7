"""The security context every pod this layer runs gets: Pod Security "restricted", nothing more."""

from __future__ import annotations

from pulumi_kubernetes.core import v1 as core

# A numeric user that exists in none of the images: the processes only read mounted files and call APIs.
NON_ROOT_USER = 65532


def restricted_pod() -> core.PodSecurityContextArgs:
    # fsGroup makes projected service-account tokens and mounted ConfigMaps readable by that user.
    return core.PodSecurityContextArgs(
        run_as_non_root=True, run_as_user=NON_ROOT_USER, run_as_group=NON_ROOT_USER, fs_group=NON_ROOT_USER,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def restricted_container() -> core.SecurityContextArgs:
    return core.SecurityContextArgs(
        allow_privilege_escalation=False, read_only_root_filesystem=True, privileged=False,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
    )
