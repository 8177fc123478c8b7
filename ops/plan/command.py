"""Transitional alias of `ops.plan.cli` (the same module object), for tests/components, which still
import this old path. Remove it once they import `ops.plan.cli`; nothing under ops/ imports it."""

import sys

import ops.plan.cli

sys.modules[__name__] = ops.plan.cli
