"""The manager's page: per territory, recommendations shown, proposals, acceptances, entries;
the actions most proposed beside their capacity. Aggregates only, never a person."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from insertion_match.service.db.caseload import proposals_by_item, territory_activity
from insertion_match.service.web.context import ManagerDep, render
from insertion_match.service.web.sheets import action_sheet

router = APIRouter()


@router.get("/pilotage")
def dashboard(request: Request, user: ManagerDep) -> Response:
    state = request.app.state.im
    principal = user.principal

    def visible(department: str | None, commission: str | None) -> bool:
        return principal.covers(department, commission) or (
            # activity of people no longer stored: shown to whoever covers the département
            commission is None and department is not None and principal.role.value == "admin")

    rows = [a for a in territory_activity(state.sessions) if visible(a.department, a.commission)]
    totals = {"recommendations": sum(a.recommendations for a in rows)}
    for status in ("proposed", "accepted", "refused", "entered", "abandoned", "exited"):
        totals[status] = sum(a.events.get(status, 0) for a in rows)
    per_item: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department, commission, item_id, status, n in proposals_by_item(state.sessions):
        if visible(department, commission) and state.engine.action(item_id) is not None:
            per_item[item_id][status] += n  # actions only: their places are what is managed
    top = sorted(per_item.items(), key=lambda kv: (-kv[1].get("proposed", 0), kv[0]))[:10]
    items: list[dict[str, Any]] = []
    for item_id, counts in top:
        sheet = action_sheet(state.engine, item_id)
        action = state.engine.action(item_id)
        items.append({"id": item_id, "title": sheet.title if sheet else item_id,
                      "counts": dict(counts), "places": action.places if action else None,
                      "places_year": action.places_year if action else None})
    scale = max([a.recommendations for a in rows] + [1])
    item_scale = max([i["counts"].get("proposed", 0) for i in items] + [1])
    return render(request, "manager.html", {
        "title": "Pilotage", "rows": rows, "totals": totals, "items": items, "scale": scale,
        "item_scale": item_scale, "territories": user.territories_label})
