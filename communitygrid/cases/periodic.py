"""Periodic jobs of this app, as ``(callable, every_seconds)``; see communitygrid/core/scheduler.py."""
from communitygrid.cases.tasks import send_notices, sweep

# Urgent cases must be answered within 30 minutes: a minute's lag in warning is acceptable.
# Intake leaves its assignment messages to send_notices too: every 5 s (an idle run is one
# indexed read).
PERIODIC = [(sweep, 60), (send_notices, 5)]
