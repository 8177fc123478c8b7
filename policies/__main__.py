"""Entry point for the Pulumi CLI: `pulumi preview --policy-pack policies`. It only assembles the PolicyPack.

The CLI runs this file by path, so the `policies` package is registered from this directory before the rules are
imported; that also holds when the pack is published on its own.
"""

import importlib.util
import sys
from pathlib import Path


def _register_package() -> None:
    if "policies" in sys.modules:
        return
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "policies", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the policy pack package from {here}")
    package = importlib.util.module_from_spec(spec)
    sys.modules["policies"] = package
    spec.loader.exec_module(package)


_register_package()

from pulumi_policy import PolicyPack  # noqa: E402

from policies.core.sdk import policy_pack_arguments  # noqa: E402
from policies.rules import ALL_RULES  # noqa: E402

PolicyPack(**policy_pack_arguments(ALL_RULES))
