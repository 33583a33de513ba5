"""Inventory data access: the repository interface and its DynamoDB implementation."""
