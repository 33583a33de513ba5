"""Data access: small interfaces and their AWS implementations. The only layer that touches boto3."""
