"""The cloud-agnostic Gitpod layer: consumes a `Platform` and `CellConfig`, nothing else from the cloud."""
