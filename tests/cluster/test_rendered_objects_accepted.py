"""Every Kubernetes object a shipped stack renders is accepted by a real API server (v1.34, tools/kube).

Each object of each shipped stack's offline plan is server-side applied with dryRun=All and Strict field
validation: OpenAPI types, unknown fields, defaulting, built-in validation and admission, and for cert-manager's
kinds the schemas of cert-manager's own CRDs at the version the cell installs. What is skipped, and why, is in
tests/cluster/plan_objects.py (Helm releases, providers). Nothing here fakes the server's answer: the tests at the
end break one shipped object and watch the same path reject it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import pytest
import yaml

from ops.common.stackfile import shipped_stacks
from ops.plan.runner import PlanDocument
from tests.cluster.plan_objects import PlannedObject, kubernetes_objects
from tests.kube_server import KubeApiError, KubeApiServer
from tools.crds import CrdError

FIELD_MANAGER = "gitpod-cell-render-check"


@pytest.fixture(scope="module")
def cluster_with_crds(kube_api: KubeApiServer) -> KubeApiServer:
    """The server with cert-manager's CRDs (the version the cell pins) installed for real and Established."""
    try:
        names = kube_api.install_cert_manager_crds()
    except CrdError as error:
        pytest.fail(f"cert-manager CRDs: {error}", pytrace=False)
    assert "certificates.cert-manager.io" in names
    assert kube_api.resource("cert-manager.io/v1", "ClusterIssuer").namespaced is False
    return kube_api


def rejections(kube_api: KubeApiServer, objects: Iterable[PlannedObject]) -> list[str]:
    """Dry-run apply each object; one line per object the server refused."""
    objects = list(objects)
    # A dry-run Namespace is not there for the objects in it, so namespaces are created for real first (bare);
    # the plan's Namespace objects are then validated like every other object.
    for namespace in sorted({o.manifest["metadata"].get("namespace") for o in objects} - {None}):
        kube_api.ensure_namespace(namespace)
    refused = []
    for planned in objects:
        try:
            kube_api.apply(planned.manifest, FIELD_MANAGER, dry_run=True, strict=True)
        except (KubeApiError, LookupError) as error:
            refused.append(f"{planned.label}: {error}")
    return refused


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_rendered_object_is_accepted(stack: str, registered: Callable[[str], PlanDocument],
                                           cluster_with_crds: KubeApiServer):
    plan = registered(stack)
    objects = kubernetes_objects(plan.resources)
    kinds = {o.manifest["kind"] for o in objects}
    # The shapes this check exists for: if a stack stops rendering them, the test must be looked at again. A cell on
    # an existing cluster uses the cluster's own ClusterIssuer and creates none.
    expected = {"Namespace", "Secret", "ConfigMap", "Job", "CronJob", "Certificate", "ClusterIssuer"}
    if plan.document["outputs"]["cloud"] == "kubernetes":
        expected.discard("ClusterIssuer")
        assert "ClusterIssuer" not in kinds
    assert expected <= kinds
    assert rejections(cluster_with_crds, objects) == []


def test_kubectl_server_side_dry_run_accepts_a_stack(registered: Callable[[str], PlanDocument],
                                                     cluster_with_crds: KubeApiServer):
    """The same check through kubectl, as an operator would run it on the objects of one stack."""
    objects = kubernetes_objects(registered("prod").resources)
    for namespace in {o.manifest["metadata"].get("namespace") for o in objects} - {None}:
        cluster_with_crds.ensure_namespace(namespace)
    stream = yaml.safe_dump_all([o.manifest for o in objects])
    result = cluster_with_crds.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                       "--field-manager=gitpod-cell-render-check", "--filename=-",
                                       input_text=stream)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("serverside-applied (server dry run)") == len(objects)

    broken = copy.deepcopy(next(o.manifest for o in objects if o.manifest["kind"] == "CronJob"))
    broken["spec"]["schedule"] = 15
    result = cluster_with_crds.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                       "--filename=-", input_text=yaml.safe_dump(broken))
    assert result.returncode != 0
    assert "schedule" in result.stderr


def _dev_object(registered: Callable[[str], PlanDocument], kind: str) -> list[PlannedObject]:
    found = [o for o in kubernetes_objects(registered("dev").resources) if o.manifest["kind"] == kind]
    assert found, f"the dev stack renders no {kind}"
    return [PlannedObject(o.resource_type, o.resource_name, copy.deepcopy(o.manifest)) for o in found[:1]]


def test_a_wrong_field_type_is_rejected(registered: Callable[[str], PlanDocument],
                                        cluster_with_crds: KubeApiServer):
    objects = _dev_object(registered, "Job")
    objects[0].manifest["spec"]["backoffLimit"] = "two"
    refused = rejections(cluster_with_crds, objects)
    assert len(refused) == 1
    assert "backoffLimit" in refused[0]


def test_an_unknown_field_is_rejected_under_strict_validation(registered: Callable[[str], PlanDocument],
                                                              cluster_with_crds: KubeApiServer):
    objects = _dev_object(registered, "Job")
    container = objects[0].manifest["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolicyy"] = "Always"
    refused = rejections(cluster_with_crds, objects)
    assert len(refused) == 1
    assert (f'.spec.template.spec.containers[name="{container["name"]}"].imagePullPolicyy: field not declared in '
            "schema") in refused[0]


def test_cert_manager_schema_is_enforced(registered: Callable[[str], PlanDocument],
                                         cluster_with_crds: KubeApiServer):
    unknown = _dev_object(registered, "Certificate")
    unknown[0].manifest["spec"]["dnsName"] = "typo.example.com"
    bad_enum = _dev_object(registered, "Certificate")
    bad_enum[0].manifest["spec"]["privateKey"]["algorithm"] = "DSA"
    refused = rejections(cluster_with_crds, [*unknown, *bad_enum])
    assert len(refused) == 2
    assert ".spec.dnsName: field not declared in schema" in refused[0]
    assert "spec.privateKey.algorithm" in refused[1]


def test_a_secret_missing_its_required_key_is_rejected(registered: Callable[[str], PlanDocument],
                                                       cluster_with_crds: KubeApiServer):
    secrets = [o for o in kubernetes_objects(registered("dev").resources)
               if o.manifest["kind"] == "Secret" and o.manifest.get("type") == "kubernetes.io/dockerconfigjson"]
    assert secrets, "the dev stack renders no registry pull secret"
    broken = copy.deepcopy(secrets[0].manifest)
    broken["stringData"] = {"config.json": "{}"}
    refused = rejections(cluster_with_crds, [PlannedObject(secrets[0].resource_type, secrets[0].resource_name,
                                                           broken)])
    assert len(refused) == 1
    assert ".dockerconfigjson" in refused[0]


def test_an_object_without_a_name_is_refused_before_the_server() -> None:
    unnamed = {"type": "kubernetes:core/v1:ConfigMap", "name": "orphan",
               "inputs": {"metadata": {"namespace": "gitpod"}, "data": {"k": "v"}}}
    with pytest.raises(AssertionError, match=r"orphan: ConfigMap without metadata\.name"):
        kubernetes_objects([unnamed])
