"""Notifications: the side effects of order outcomes (customer notification, analytics)."""
