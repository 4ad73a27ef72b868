"""France Travail "offres v2" files of any size, for the import benchmark and tests (synthetic).

The records are the demo offers (``data/demo/offers_demo.json``, all fictitious), repeated with
new ids and spread over the communes of France (gazetteer, in proportion to nothing: a plain
cycle), so that a national file names thousands of communes as a real one does. Written as a
stream: the generator never holds the file.

    .venv/bin/python bench/offers_files.py OUT.json --count 1000000 [--format json|jsonl|csv]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "offers_demo.json"


def _communes(data_dir: Path) -> list[dict[str, Any]]:
    from insertion_match.geo import Gazetteer

    gazetteer = Gazetteer.load(data_dir)
    places = []
    for c in gazetteer.communes[::7]:  # about 5,000 communes of every département
        postcode = c.postcodes[0] if c.postcodes else None
        places.append({"libelle": f"{c.department} - {c.name.upper()}", "commune": c.insee,
                       "codePostal": postcode, "latitude": c.lat, "longitude": c.lon})
    return places


def offers(count: int, data_dir: Path = REPO / "data", prefix: str = "B") -> Iterator[dict]:
    """``count`` offers (ids ``{prefix}0000001``...), each a demo offer moved to a commune."""
    templates = json.loads(DEMO.read_text(encoding="utf-8"))["resultats"]
    places = _communes(data_dir)
    for n in range(count):
        record = dict(templates[n % len(templates)])
        record["id"] = f"{prefix}{n + 1:07d}"
        record["lieuTravail"] = places[(n * 7919) % len(places)]
        yield record


def write(path: Path, count: int, fmt: str = "json", prefix: str = "B") -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "json":
            out.write('{"resultats":[\n')
            for n, record in enumerate(offers(count, prefix=prefix)):
                out.write(("," if n else "") + json.dumps(record, ensure_ascii=False) + "\n")
            out.write("]}\n")
        elif fmt == "jsonl":
            for record in offers(count, prefix=prefix):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(out)
            writer.writerow(["external_id", "title", "rome_code", "insee", "contract_type",
                             "hours_per_week", "employer"])
            for r in offers(count, prefix=prefix):
                writer.writerow([r["id"], r["intitule"], r.get("romeCode", ""),
                                 r["lieuTravail"]["commune"], r.get("typeContrat", ""), 35,
                                 (r.get("entreprise") or {}).get("nom", "")])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--format", choices=("json", "jsonl", "csv"), default="json")
    args = parser.parse_args()
    write(args.out, args.count, args.format)
    print(f"{args.count} offers written to {args.out} ({args.out.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
