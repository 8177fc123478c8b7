"""A cell on a Kubernetes cluster that already exists (k3s, on-premises): `gitpod-cell:cloud: kubernetes`.

    cell.py  KubernetesCell: the explicit kubernetes provider and the Platform built from the config's endpoints
"""
