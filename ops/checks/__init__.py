"""Checks of a live cell.

    preflight.py     the installer's preflight checks: database, object storage, registry, cluster
    mysql.py         checks of a Gitpod MySQL database over verified TLS (preflight and the drill)
    drill.py         the recovery drill's steps, on any cloud's DrillBackend
    drill_report.py  what a drill measured, as JSON and Markdown
    cli.py           `python -m ops preflight` and `python -m ops drill`
"""
