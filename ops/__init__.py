"""Operations for a gitpod-cell: the offline plan and the code that talks to live systems.

Nothing here imports Pulumi resource modules at import time; commands import what they need when they run.
"""
