"""Load and validate the action catalogue (``data/catalogue/*.json``).

Loading is strict: any invalid entry, duplicated id or unknown commune makes the whole load fail
with a message that names the file, the entry and the field. The service never starts on a
half-valid catalogue. The problems are in French (``catalogue validate`` and ``catalogue import``
print them to the operator); file names, ids and field paths stay as written in the files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import ValidationError

from insertion_match.domain import Action, Catalogue
from insertion_match.features.errors import CatalogueError
from insertion_match.validation import french_message


def _format_validation(path: Path, exc: ValidationError, raw: dict) -> list[str]:
    lines = []
    actions = raw.get("actions") if isinstance(raw, dict) else None
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(document)"
        if len(loc) >= 2 and loc[0] == "actions" and isinstance(loc[1], int) and actions:
            try:
                fields = ".".join(str(p) for p in loc[2:]) or "(entrée)"
                where = f"{actions[loc[1]].get('id', '?')} : {fields}"
            except (IndexError, AttributeError):
                pass
        lines.append(f"{path.name} : {where} : {french_message(dict(err))}")
    return lines


def load_catalogue_file(path: Path) -> Catalogue:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogueError([f"{path.name} : JSON illisible : {exc}"]) from exc
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(_format_validation(path, exc, raw)) from exc


def load_catalogue(directory: Path) -> list[Action]:
    """Return every action of every ``*.json`` file of ``directory``, validated.

    Raises :class:`CatalogueError` listing every problem found (not only the first).
    """
    files = sorted(directory.glob("*.json"))
    if not files:
        raise CatalogueError([f"aucun fichier de catalogue (*.json) dans {directory}"])
    problems: list[str] = []
    actions: list[Action] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            cat = load_catalogue_file(path)
        except CatalogueError as exc:
            problems.extend(exc.problems)
            continue
        for action in cat.actions:
            if action.id in seen:
                problems.append(
                    f"{path.name} : {action.id} : identifiant en double (aussi dans {seen[action.id]})")
            seen[action.id] = path.name
            actions.append(action)
    if problems:
        raise CatalogueError(problems)
    return actions


if __name__ == "__main__":  # quick check while curating: python -m insertion_match.features.catalogue DIR
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/catalogue")
    try:
        acts = load_catalogue(target) if target.is_dir() else list(load_catalogue_file(target).actions)
    except CatalogueError as e:
        print("\n".join(e.problems), file=sys.stderr)
        sys.exit(1)
    print(f"{len(acts)} actions valides")
