"""The platform-free core: events, model, the Platform port, the router and the clock."""
