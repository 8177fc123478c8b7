"""Which cloud builds the cell. A new cloud is one more branch here and a folder that returns a `Platform`."""

from __future__ import annotations

from components.config import CellConfig
from components.platform import Platform


def build_platform(config: CellConfig) -> Platform:
    # Imported per cloud: a cell never pays for the other cloud's SDK.
    if config.cloud == "aws":
        from components.aws.cell import AwsCell

        return AwsCell(config).platform
    if config.cloud == "gcp":
        from components.gcp.cell import GcpCell

        return GcpCell(config).platform
    if config.cloud == "kubernetes":
        from components.kubernetes.cell import KubernetesCell

        return KubernetesCell(config).platform
    raise ValueError(f"gitpod-cell:cloud {config.cloud!r} has no cell implementation")
