"""The orders service: validates and records orders, keeps their status, serves status and timeline."""
