"""Lambda entry points: ``orders.handlers.<module>.lambda_handler``."""
