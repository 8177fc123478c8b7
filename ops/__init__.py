"""Operations for a gitpod-cell: the offline plan and the code that talks to live systems.

    cli.py      `python -m ops <command>`: each family registers its own sub-commands
    errors.py   OpsError and the exit codes
    common/     timestamps, stack files, the cell target, check results
    cluster/    the Kubernetes client, maintenance lease, installation record, health   (`maintenance`)
    checks/     preflight, MySQL checks, the recovery drill                              (`preflight`, `drill`)
    backup/     config backups, backup status, PITR windows, restore points and plans    (`backup`, `restore`)
    rollout/    the rollout steps and their Pulumi hooks, the fleet and staged rollouts  (`rollout`, `fleet`)
    clouds/     one adapter per cloud (aws/, gcp/) behind CellClients and ObjectStore
    plan/       the offline plan                                                         (`plan`)

Nothing here imports Pulumi resource modules at import time; commands import what they need when they run.
"""
