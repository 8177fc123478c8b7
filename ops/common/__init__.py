"""What every command family shares.

    timestamps.py    RFC3339 UTC, the one format records and leases are written in
    stackfile.py     reading stacks/Pulumi.<stack>.yaml without the Pulumi CLI
    cell_target.py   which live resources a stack is (CellTarget), resolved by the stack's cloud adapter
    arguments.py     `--stack` and its overrides on the command line, resolved to a CellTarget
    check_result.py  one pass/fail line of a preflight or drill check
"""
