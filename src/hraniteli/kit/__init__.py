"""Domain-free helpers: time zones and slot strings, JSON, small utilities."""
