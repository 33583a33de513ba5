"""A module that exists only in this asset: importing it proves sys.path starts at the asset."""

GREETING = "hello from the asset"
