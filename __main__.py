"""gitpod-cell: one Gitpod cell per stack. Validate config, build the cloud's cell, export what operators need."""

from components.cells import build_platform
from components.config import load_from_pulumi
from components.exports import export_platform

config = load_from_pulumi()
platform = build_platform(config)
export_platform(config, platform)
