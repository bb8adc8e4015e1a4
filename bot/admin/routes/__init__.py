"""Request handlers of the admin console, one module per area."""
