"""Rolling out Gitpod: the steps around one cell's installer Job, and the staged rollout across the fleet.

    steps.py              the rollout steps (preflight, maintenance, restore point, health gate, config backup)
    hooks.py              the Pulumi adapter: a resource hook's context -> settings, clients, one step
    fleet.py              stacks/fleet.yaml: waves, stages, parallelism
    staged.py             a version across the fleet, wave by wave, halting on the first failure
    fleet_status.py       update age per cell
    pulumi_automation.py  the PulumiDriver over the Automation API
    cli.py                `python -m ops rollout` and `python -m ops fleet show|status|health`
"""
