"""The chaos drill on the local cloud: `python -m ops.chaos` (make chaos), described in __main__.py."""
