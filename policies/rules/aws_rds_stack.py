"""RDS rules that need more than one resource: TLS via the parameter group, cross-region backup replication."""

from __future__ import annotations

from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, arn_region, in_environments, region_of
from policies.core.props import as_list, get, known
from policies.core.rule import Report, configured, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.tokens import RDS_BACKUP_REPLICATION, RDS_INSTANCE, RDS_PARAMETER_GROUP

_TLS_PARAMETERS = {"mysql": "require_secure_transport", "mariadb": "require_secure_transport",
                   "postgres": "rds.force_ssl"}
_ON = {"1", "on", "true"}


def parameter_value(group: Any, parameter: str) -> str | None:
    for entry in as_list(get(group.props, "parameters")):
        if get(entry, "name") == parameter:
            value = get(entry, "value")
            return None if value is None else str(value)
    return None


def _engine_family(instance: Any) -> str:
    engine = str(get(instance.props, "engine") or "mysql").lower()
    return next((family for family in _TLS_PARAMETERS if engine.startswith(family)), "mysql")


def _parameter_group(view: StackView, instance: Any) -> Any | None:
    """The group named by `parameterGroupName`; a group whose name is unknown (auto-named, or unknown during
    preview) matches when the instance depends on it."""
    name = known(instance.props, "parameterGroupName")
    deps = dependency_urns(instance)
    for group in view.of_type(RDS_PARAMETER_GROUP):
        group_name = known(group.props, "name")
        if name is not None and group_name is not None:
            if group_name == name:
                return group
        elif group.urn in deps:
            return group
    return None


@stack_rule(
    name="aws-rds-tls-required",
    summary="RDS instances use a parameter group from this stack that requires TLS (require_secure_transport=1 "
    "for MySQL, rds.force_ssl=1 for PostgreSQL).",
    control="CKV2_AWS_69",
)
def rds_tls_required(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for instance in view.of_type(RDS_INSTANCE):
        parameter = _TLS_PARAMETERS[_engine_family(instance)]
        name = get(instance.props, "parameterGroupName")
        group = _parameter_group(view, instance)
        if not name and group is None:
            report(f"parameterGroupName is not set; the default parameter group does not set {parameter}=1.",
                   instance.urn)
            continue
        if group is None:
            report(f"parameter group {name!r} is not managed in this stack, so {parameter}=1 cannot be verified.",
                   instance.urn)
            continue
        value = parameter_value(group, parameter)
        if value is None or value.strip().lower() not in _ON:
            shown = "not set" if value is None else f"{value!r}"
            report(f"parameter group {group.name} has {parameter} {shown}; set it to 1 so clients must use TLS.",
                   instance.urn)


def _replicates(replication: Any, instance: Any) -> bool:
    source = known(replication.props, "sourceDbInstanceArn")
    if isinstance(source, str) and source:
        arn = known(instance.props, "arn")
        if arn:
            return bool(source == arn)
        identifier = known(instance.props, "identifier")
        if identifier:
            return source.endswith(f":db:{identifier}")
    return instance.urn in dependency_urns(replication)


@stack_rule(
    name="aws-rds-cross-region-backups-prod",
    summary="Production RDS instances replicate their automated backups to a different region "
    "(InstanceAutomatedBackupsReplication under the replica region's provider).",
    config=PRODUCTION_SCHEMA,
)
def rds_cross_region_backups_prod(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    environments = configured(args, PRODUCTION_SCHEMA)["environments"]
    replications = view.of_type(RDS_BACKUP_REPLICATION)
    for instance in view.of_type(RDS_INSTANCE):
        if not in_environments(instance, environments):
            continue
        mine = [replication for replication in replications if _replicates(replication, instance)]
        if not mine:
            report("no InstanceAutomatedBackupsReplication replicates this production database's backups to "
                   "another region.", instance.urn)
            continue
        for replication in mine:
            source_region = arn_region(known(replication.props, "sourceDbInstanceArn")) or region_of(instance)
            target_region = region_of(replication)
            if target_region is None or source_region is None:
                report("cannot tell which regions the backups are replicated from and to; give the database and "
                       "the replication resource providers (or `region`) for their regions.", replication.urn)
            elif target_region == source_region:
                report(f"automated backups are replicated to {target_region}, the database's own region; "
                       "replicate to a different region.", replication.urn)
