"""Transitional alias of `ops.common.stackfile` (the same module object), for tests/components, which still
import this old path. Remove it once they import `ops.common.stackfile`; nothing under ops/ imports it."""

import sys

import ops.common.stackfile

sys.modules[__name__] = ops.common.stackfile
