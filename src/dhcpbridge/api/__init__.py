"""The HTTP management API (``[api]``): FastAPI on the server's own asyncio loop, versioned
paths under ``/v1``, bearer tokens with roles, RFC 9457 problem details for every error.

``dhcpbridge.api.serve.addons`` is the server add-on that runs it; ``dhcpbridge.api.app.create_app``
builds the application over a running server (see ``dhcpbridge.api.app.Managed``).
"""
