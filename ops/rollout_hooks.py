"""Transitional alias of `ops.rollout.hooks` (the same module object), for tests/components, which still
import this old path. Remove it once they import `ops.rollout.hooks`; nothing under ops/ imports it."""

import sys

import ops.rollout.hooks

sys.modules[__name__] = ops.rollout.hooks
