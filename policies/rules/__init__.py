"""Every rule of the pack, in table order. A module contributes each `Rule` it defines at top level."""

from __future__ import annotations

from types import ModuleType

from policies.core.rule import Rule
from policies.rules import (
    aws_compute,
    aws_dns,
    aws_ecr,
    aws_eks,
    aws_eks_access,
    aws_iam,
    aws_kms,
    aws_logs,
    aws_network,
    aws_rds,
    aws_rds_monitoring,
    aws_rds_stack,
    aws_routes,
    aws_s3,
    aws_s3_logging,
    aws_s3_stack,
    aws_tags,
    gcp_dns_registry,
    gcp_encryption,
    gcp_gke,
    gcp_gke_hardening,
    gcp_identity,
    gcp_labels,
    gcp_network,
    gcp_sql,
    gcp_storage,
    gitpod,
    k8s_objects,
    k8s_workloads,
    mysql,
    node_pools,
    stateful,
    static_keys,
    tls,
)

MODULES: tuple[ModuleType, ...] = (
    aws_rds,
    aws_rds_stack,
    aws_rds_monitoring,
    aws_s3,
    aws_s3_stack,
    aws_s3_logging,
    aws_network,
    aws_routes,
    aws_eks,
    aws_eks_access,
    aws_compute,
    aws_iam,
    static_keys,
    aws_ecr,
    aws_kms,
    aws_logs,
    aws_dns,
    aws_tags,
    gcp_sql,
    gcp_gke,
    gcp_gke_hardening,
    gcp_network,
    gcp_storage,
    gcp_dns_registry,
    gcp_identity,
    gcp_encryption,
    gcp_labels,
    mysql,
    stateful,
    node_pools,
    gitpod,
    k8s_workloads,
    k8s_objects,
    tls,
)


def rules_of(module: ModuleType) -> list[Rule]:
    return [value for value in vars(module).values() if isinstance(value, Rule)]


def _collect() -> tuple[Rule, ...]:
    rules = tuple(rule for module in MODULES for rule in rules_of(module))
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValueError(f"duplicate rule name {rule.name}")
        seen.add(rule.name)
    return rules


ALL_RULES: tuple[Rule, ...] = _collect()
