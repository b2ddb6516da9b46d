"""Pages of cases. The public board is open to everyone and carries no personal data."""
from __future__ import annotations

from collections import Counter

from django.http import Http404
from django.shortcuts import render

from communitygrid.cases import selectors
from communitygrid.cases.errors import NotFound
from communitygrid.cases.models import FINAL_STATES, Status


def board(request, community_code: str):
    try:
        community, rows = selectors.community_board(community_code=community_code)
    except NotFound as error:
        raise Http404(error.message)
    counts = Counter(row["status"] for row in rows)
    resolved = [row["hours_to_resolve"] for row in rows if row["hours_to_resolve"] is not None]
    context = {
        "community": community,
        "rows": rows,
        "open_count": sum(n for status, n in counts.items() if status not in FINAL_STATES and status != Status.RESOLVED),
        "done_count": counts[Status.RESOLVED] + counts[Status.CLOSED],
        "median_hours": sorted(resolved)[len(resolved) // 2] if resolved else None,
    }
    return render(request, "cases/board.html", context)
