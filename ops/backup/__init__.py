"""What protects a cell, and restoring one.

    config_backup.py  the installer config backup: its record, its layout in the bucket, choosing one by time
    config_store.py   writing and reading those backups on any cloud's ObjectStore
    config_now.py     a config backup on demand, as the rollout step takes it
    status.py         what is backed up and what is not (the clouds' sections plus the installer config)
    pitr_window.py    a database's point-in-time window and a restore time inside it
    restore_point.py  the restore point a rollout records before the installer runs
    restore_plan.py   planning a restore into a new cell from the old one's backups
    cli.py            `python -m ops backup status|config` and `python -m ops restore plan`
"""
