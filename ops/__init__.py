"""orderflow operations toolkit: invariant checker, DLQ redrive, archive replay (`python -m ops --help`)."""
