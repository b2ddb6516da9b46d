"""Periodic jobs of this app, as ``(callable, every_seconds)``; see communitygrid/core/scheduler.py."""
from communitygrid.restapi.services import idempotency_purge

# Keys are kept 24 hours; an hourly purge keeps the table at about a day of POSTs.
PERIODIC = [(idempotency_purge, 3600)]
