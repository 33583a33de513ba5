"""orderflow infrastructure: one construct per service, plus the bus, the saga and the API."""
