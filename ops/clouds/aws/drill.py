"""The recovery drill on RDS: ops.checks.drill's steps with restore_db_instance_to_point_in_time into a scratch
instance (the source's subnets, security groups and parameter group), boto3 waiters, and delete_db_instance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ops.backup.pitr_window import PitrWindow
from ops.checks.drill import DRILL_LABEL_KEY, DRILL_LABEL_VALUE, DrillSettings, LeftoverInstance, scratch_name_time
from ops.clouds.aws.rds import read_pitr_window


@dataclass
class RdsDrillBackend:
    """The drill on RDS: a boto3 `rds` client of the cell's region."""

    rds: Any
    settings: DrillSettings

    def pitr_window(self) -> PitrWindow:
        return read_pitr_window(self.rds, self.settings.db_instance_id)

    def restore(self, scratch: str, restore_time: datetime, *, latest: bool) -> None:
        settings = self.settings
        source = self.rds.describe_db_instances(DBInstanceIdentifier=settings.db_instance_id)["DBInstances"][0]
        request: dict[str, Any] = {
            "SourceDBInstanceIdentifier": settings.db_instance_id,
            "TargetDBInstanceIdentifier": scratch,
            "RestoreTime": restore_time,
            "MultiAZ": False,
            "PubliclyAccessible": False,
            "DeletionProtection": False,
            "Tags": [{"Key": "Purpose", "Value": "recovery-drill"}, {"Key": "Cell", "Value": settings.stack},
                     {"Key": "ManagedBy", "Value": "gitpod-cell-ops"}],
        }
        if settings.scratch_instance_class:
            request["DBInstanceClass"] = settings.scratch_instance_class
        subnet_group = (source.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
        if subnet_group:
            request["DBSubnetGroupName"] = subnet_group
        security_groups = [group["VpcSecurityGroupId"] for group in source.get("VpcSecurityGroups") or []
                           if group.get("VpcSecurityGroupId")]
        if security_groups:
            request["VpcSecurityGroupIds"] = security_groups
        parameter_groups = [group["DBParameterGroupName"] for group in source.get("DBParameterGroups") or []
                            if group.get("DBParameterGroupName")]
        if parameter_groups:
            # The cell's parameter group carries require_secure_transport and explicit_defaults_for_timestamp.
            request["DBParameterGroupName"] = parameter_groups[0]
        self.rds.restore_db_instance_to_point_in_time(**request)

    def wait_available(self, scratch: str) -> tuple[str, int]:
        self.rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=scratch,
                                                          WaiterConfig=self._waiter_config())
        instance = self.rds.describe_db_instances(DBInstanceIdentifier=scratch)["DBInstances"][0]
        endpoint = instance.get("Endpoint") or {}
        if not endpoint.get("Address"):
            raise RuntimeError(f"{scratch} is available but reports no endpoint")
        return str(endpoint["Address"]), int(endpoint.get("Port") or 3306)

    def delete(self, scratch: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.rds.delete_db_instance(DBInstanceIdentifier=scratch, SkipFinalSnapshot=True,
                                        DeleteAutomatedBackups=True)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
                return  # the restore never created it
            raise
        self.rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=scratch,
                                                        WaiterConfig=self._waiter_config())

    def leftover_scratch_instances(self, prefix: str, now: datetime) -> list[LeftoverInstance]:
        pattern = re.compile(rf"^{re.escape(prefix)}-drill-\d{{14}}$")
        found: list[LeftoverInstance] = []
        for page in self.rds.get_paginator("describe_db_instances").paginate():
            for instance in page.get("DBInstances") or []:
                name = str(instance.get("DBInstanceIdentifier") or "")
                if not pattern.match(name) or name == self.settings.db_instance_id:
                    continue
                tags = {str(tag.get("Key", "")).lower(): str(tag.get("Value", "")) for tag in instance.get("TagList")
                        or []}
                if DRILL_LABEL_KEY in tags and tags[DRILL_LABEL_KEY] != DRILL_LABEL_VALUE:
                    continue
                created = instance.get("InstanceCreateTime")
                found.append(LeftoverInstance(name, created.astimezone(UTC) if isinstance(created, datetime)
                                              else scratch_name_time(name), str(instance.get("DBInstanceStatus")
                                                                                or "")))
        return found

    def _waiter_config(self) -> dict[str, int]:
        # botocore waiters count whole seconds.
        return {"Delay": max(1, round(self.settings.wait_delay_seconds)),
                "MaxAttempts": self.settings.wait_max_attempts}
