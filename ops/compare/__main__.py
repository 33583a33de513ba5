"""`python -m ops.compare`."""

from ops.compare.run import main

raise SystemExit(main())
