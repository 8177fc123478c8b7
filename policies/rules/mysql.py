"""MySQL server settings Gitpod depends on, whichever cloud hosts the database."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import RDS_PARAMETER_GROUP, SQL_INSTANCE

FLAG = "explicit_defaults_for_timestamp"
_OFF = ("0", "off", "false")


def _flag_value(entries: Any) -> str | None:
    for entry in as_list(entries):
        if get(entry, "name") == FLAG:
            value = get(entry, "value")
            return None if value is None else str(value)
    return None


@resource_rule(
    name="gitpod-mysql-explicit-defaults-for-timestamp",
    summary="MySQL runs with explicit_defaults_for_timestamp OFF, as Gitpod's schema requires (RDS parameter "
    "group or Cloud SQL database flag).",
    types=[RDS_PARAMETER_GROUP, SQL_INSTANCE],
)
def mysql_explicit_defaults_for_timestamp(args: Any, report: Report) -> None:
    if args.resource_type == RDS_PARAMETER_GROUP:
        if not str(get(args.props, "family") or "mysql").startswith("mysql"):
            return
        where, value = "parameters", _flag_value(get(args.props, "parameters"))
    else:
        if not str(get(args.props, "databaseVersion") or "MYSQL").upper().startswith("MYSQL"):
            return
        where, value = "settings.databaseFlags", _flag_value(get(args.props, "settings.databaseFlags"))
    if value is None:
        report(f"{where} does not set {FLAG} (MySQL 8.0 defaults to ON); Gitpod needs it OFF (0).")
    elif value.strip().lower() not in _OFF:
        report(f"{where} sets {FLAG} to {value!r}; Gitpod needs it OFF (0).")
