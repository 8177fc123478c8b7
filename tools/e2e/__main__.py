"""`python -m tools.e2e` (`make e2e`): a cell on a laptop-sized local cluster under the real Pulumi engine."""

import sys

from tools.e2e.run import main

sys.exit(main())
