"""Lambda entry points of the shipping service."""
