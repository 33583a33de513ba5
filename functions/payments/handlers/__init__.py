"""Thin Lambda handlers: parse the input, call logic once, shape the output."""
