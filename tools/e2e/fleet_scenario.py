"""Placeholder replaced below."""
FLEET_BUCKETS: tuple[str, ...] = ()
FLEET_DATABASES: tuple[str, ...] = ()
