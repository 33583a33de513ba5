"""`python -m local`: the local cloud's command line (see local/cli.py)."""

import sys

from local.cli import main

sys.exit(main())
