"""Payments data access: repository and ledger interfaces with DynamoDB implementations."""
