"""Import data·inclusion services into the stored catalogue (``catalogue import-di``).

Atomic and idempotent like the other imports: the files are validated first (one invalid record
and nothing is stored, unless ``skip_invalid``); the new engine is built from the curated +
imported actions *before* the one write transaction, then swapped in; importing the same files
again finds every record unchanged and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from insertion_match.features.di_import import (
    DI_DOCUMENT,
    DiBatch,
    DiPlan,
    DiReference,
    plan_import,
)
from insertion_match.service.db.catalogue import (
    DataInclusionLinkRow,
    DiWrite,
    apply_di_import,
    attach_links,
    load_actions,
    load_di_links,
)
from insertion_match.service.state import ServiceState


@dataclass(frozen=True)
class DiOutcome:
    imported: bool
    plan: DiPlan | None = None
    action_count: int = 0  # actions the engine serves after the import


def import_data_inclusion(
    state: ServiceState, batch: DiBatch, ref: DiReference, skip_invalid: bool = False
) -> DiOutcome:
    """Plan, validate the engine, write once, swap the engine (module docstring)."""
    if batch.rejected and not skip_invalid:
        return DiOutcome(imported=False)
    stored = load_actions(state.sessions)
    curated = [a for a in stored if a.source.document != DI_DOCUMENT]
    stored_imported = {a.id: a for a in stored if a.source.document == DI_DOCUMENT}
    links = load_di_links(state.sessions)
    plan = plan_import(batch, curated, stored_imported, links, ref)
    if not (plan.links or plan.delete_action_ids or plan.withdrawn):  # nothing to write
        return DiOutcome(imported=True, plan=plan, action_count=len(state.engine.actions))
    final_links = dict(links)
    for service_id in plan.withdrawn:
        final_links.pop(service_id, None)
    for link in plan.links:
        # the planned link as a row (transient, never added to a session): attach_links reads it
        final_links[link["service_id"]] = DataInclusionLinkRow(**link)
    actions = attach_links([*curated, *plan.imported_actions.values()],
                           list(final_links.values()))
    candidate = state.engine.with_actions(actions)  # fails before any write if invalid
    with state._lock:  # the same lock as ServiceState.import_catalogue
        apply_di_import(state.sessions, DiWrite(plan.created, plan.delete_action_ids, plan.links,
                                                plan.withdrawn))
        state.serve_written_catalogue(candidate)
    return DiOutcome(imported=True, plan=plan, action_count=len(actions))
