"""Periodic jobs of this app, as ``(callable, every_seconds)``; see communitygrid/core/scheduler.py."""
from communitygrid.insights.tasks import refresh

# The cockpit polls every minute; the figures behind it need be no fresher than that.
PERIODIC = [(refresh, 60)]
