"""The web edge: REST API under /api/v1 and server-rendered pages."""
