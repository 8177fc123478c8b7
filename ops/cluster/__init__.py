"""The cell's Kubernetes cluster, as ops/ reads and writes it.

    kube.py                 the REST client for exactly the endpoints ops/ uses (KubeApi, KubeClient)
    kubeconfig.py           where the API server is and how to authenticate (kubeconfig, in-cluster)
    nodes.py                the nodes, as preflight checks them
    maintenance.py          the maintenance lease on ws-manager-mk2's ConfigMap
    installation_record.py  the `gitpod-installation` ConfigMap: version, restore point, rollout times
    health.py               the health gate: every Deployment and StatefulSet ready
    cell_health.py          the deploy gate's cluster half: workloads, record, lease
    cli.py                  `python -m ops maintenance status|enter|exit`
"""
