"""See docs/architecture.md: one service shape."""
