"""Code every orderflow service shares: the event envelope, correlation and observability."""
