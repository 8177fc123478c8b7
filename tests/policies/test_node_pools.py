"""Node pools, together, carry every Gitpod workload label."""

from __future__ import annotations

from tests.policies.records import resource

RULE = "node-pools-cover-gitpod-workloads"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "gcp:container/nodePool:NodePool"
SERVICES = {f"gitpod.io/workload_{name}": "true" for name in ("meta", "ide", "workspace_services", "services")}


def eks_group(name, labels):
    return resource(NODE_GROUP, name, {"labels": labels})


def test_eks_groups_cover_all_labels(check):
    records = [eks_group("services", SERVICES),
               eks_group("regular", {"gitpod.io/workload_workspace_regular": "true"}),
               eks_group("headless", {"gitpod.io/workload_workspace_headless": "true"})]
    assert check(RULE, *records) == []


def test_gke_pools_cover_all_labels(check):
    records = [resource(NODE_POOL, "services", {"nodeConfig": {"labels": SERVICES}}),
               resource(NODE_POOL, "workspaces", {"nodeConfig": {"labels": {
                   "gitpod.io/workload_workspace_regular": "true",
                   "gitpod.io/workload_workspace_headless": "true"}}})]
    assert check(RULE, *records) == []


def test_fails_when_a_workload_class_has_no_pool(check):
    records = [eks_group("services", SERVICES),
               eks_group("regular", {"gitpod.io/workload_workspace_regular": "false"})]
    assert check(RULE, *records) == [
        (None, "no node pool carries gitpod.io/workload_workspace_regular=true, "
               "gitpod.io/workload_workspace_headless=true; Gitpod could not schedule those workloads.")
    ]


def test_fails_when_labels_absent(check):
    assert check(RULE, eks_group("services", {})) == [
        (None, "no node pool carries gitpod.io/workload_meta=true, gitpod.io/workload_ide=true, "
               "gitpod.io/workload_workspace_services=true, gitpod.io/workload_services=true, "
               "gitpod.io/workload_workspace_regular=true, gitpod.io/workload_workspace_headless=true; Gitpod could "
               "not schedule those workloads.")
    ]


def test_required_labels_are_configurable(check):
    records = [eks_group("services", SERVICES)]
    assert check(RULE, *records, config={"requiredLabels": list(SERVICES)}) == []


def test_stack_without_node_pools_is_not_checked(check):
    assert check(RULE, resource("aws:ec2/vpc:Vpc", "vpc", {})) == []
