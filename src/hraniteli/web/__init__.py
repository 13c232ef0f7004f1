"""Web pages served by the service itself."""
