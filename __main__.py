"""gitpod-cell: one Gitpod cell per stack. Validate config, build the cloud's cell, install Gitpod, export."""

from components.cells import build_platform
from components.config import load_from_pulumi
from components.exports import export_gitpod, export_platform
from components.gitpod.installation import GitpodInstallation, GitpodInstallationArgs

config = load_from_pulumi()
platform = build_platform(config)
gitpod = GitpodInstallation(config.name_prefix, GitpodInstallationArgs(platform, config))
export_platform(config, platform)
export_gitpod(gitpod)
