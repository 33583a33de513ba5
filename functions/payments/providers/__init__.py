"""Payment providers: the port (``base``) and the built-in simulated card processor."""
