"""The GCP cell: Gitpod's single-cluster reference architecture on Google Cloud, handed over as a `Platform`."""
