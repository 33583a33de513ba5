"""The orders domain: models.py (the order, statuses, timeline), errors.py. No I/O."""
