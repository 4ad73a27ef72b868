"""Hostile inputs to the import and write routes never make a 5xx (issue 9).

A fixed grid, not random: JSON nesting (up to 100,000 levels), line endings (LF, CRLF, CR-only,
mixed), field sizes (around the csv module's 128 KiB limit, in a header and in a cell), NUL and
other control bytes (raw, escaped, in every stored text field of an outcome), encodings
(UTF-8 with and without BOM, Latin-1, CP1252, UTF-16, invalid bytes), truncated and empty
documents. Each case is sent to every route it fits; the test prints the number of cases.
Runs on SQLite and, with IM_TEST_DATABASE_URL, on PostgreSQL (where NUL bytes used to be 503s).
"""

from __future__ import annotations

import json
from collections import Counter

OFFERS_CSV = ("external_id,title,kind,commune,postcode,rome_code\n"
              "FZ1,Agent d'entretien,job,Flers,61100,K2204\n"
              "FZ2,Plongeur,job,Alençon,61000,\n")
OUTCOMES_CSV = ("beneficiary_id,item_id,status,occurred_on,rank,model_name,model_version\n"
                "fuzz-1,flers-mobylis-permis-b,proposed,2026-01-02,1,transparent-additive,1.0\n"
                "fuzz-1,flers-mobylis-permis-b,accepted,2026-01-05,,,\n")
OFFER_JSON = {"id": "FZJ1", "intitule": "Agent d'entretien", "romeCode": "K2204",
              "lieuTravail": {"libelle": "61 - Flers", "codePostal": "61100", "commune": "61169"}}
BIG = 128 * 1024


def _nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def _csv_variants(text: str) -> list[bytes]:
    header, *rows = text.rstrip("\n").split("\n")
    out = []
    for ending in ("\n", "\r\n", "\r"):
        out.append(ending.join([header, *rows]).encode() + ending.encode())
    out.append((header + "\r" + rows[0] + "\n" + "\r\n".join(rows[1:])).encode())  # mixed
    first = header.split(",")[0]
    for size in (BIG - 10, BIG + 1, 4 * BIG):
        out.append(text.replace(first, first + "x" * size, 1).encode())  # header field
        out.append((text + "y" * size + "\n").encode())  # data field
        out.append((text + '"' + "z" * size + '"\n').encode())  # quoted field
    for junk in ("\x00", "\x00\x00\x00", "\x1b[31m", "\x7f", "\u2028", "\ufeff"):
        out.append(text.replace(",", "," + junk, 2).encode())
        out.append((junk + text).encode())
    for encoding in ("utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32"):
        out.append((text.replace("Agent", "Agent d'accueil éèà")).encode(encoding, "replace"))
    out += [b"", b"\n", b"\r", b"\r\n\r\n", b"\xff\xfe\xfa", text.encode()[:-20],
            text.encode() + b'"unterminated', b'"' * 1000, b",,,,\n" * 1000]
    return out


def _json_variants() -> list[bytes]:
    out = [_nested(d, k) for d in (10, 500, 999, 1000, 1001, 5000, 100_000)
           for k in ("list", "object")]
    out.append(json.dumps({"resultats": [{"id": "X", "a": json.loads(_nested(200, "list"))}]})
               .encode())
    out.append(b'{"resultats": ' + _nested(3000, "list") + b"}")
    for value in ("\x00", "a\x00b", "\u0000" * 100, "\ud800", "x" * (BIG + 1)):
        out.append(json.dumps([{**OFFER_JSON, "intitule": value}]).encode())
        out.append(json.dumps([{**OFFER_JSON, "id": value}]).encode())
    out.append(json.dumps([OFFER_JSON]).encode().replace(b"Agent", b"Agent\x00"))  # raw NUL
    for encoding in ("utf-8-sig", "latin-1", "utf-16"):
        out.append(json.dumps([OFFER_JSON], ensure_ascii=False).replace("Agent", "Agént")
                   .encode(encoding))
    out += [b"", b"null", b"[]", b"{}", b"[1, 2]", b'"text"', b"{", b"\xff\xfe", b"NaN",
            b"[" + b"1e999999," * 10 + b"1]"]
    return out


def _outcome_variants() -> list[dict]:
    base = {"beneficiary_id": "fuzz-1", "item_id": "flers-mobylis-permis-b", "status": "proposed",
            "occurred_on": "2026-01-02", "rank": 1, "model_name": "m", "model_version": "1"}
    out = []
    for field in ("item_id", "model_name", "model_version", "beneficiary_id", "status",
                  "occurred_on"):
        for value in ("\x00", "a\x00b", "\x1f", "x" * 300, "", "é" * 80, "\ud800", 10**30, None):
            out.append({**base, field: value})
    out.append({**base, "rank": 10**30})
    return out


def test_no_input_makes_a_server_error(client):
    assert client.put("/v1/beneficiaries/fuzz-1",
                      json={"home": {"insee": "61169"}}).status_code in (200, 201)
    cases: list[tuple[str, str, dict, bytes]] = []
    for body in _csv_variants(OFFERS_CSV):
        cases.append(("POST", "/v1/opportunities/import", {"content-type": "text/csv"}, body))
    for body in _csv_variants(OUTCOMES_CSV):
        cases.append(("POST", "/v1/outcomes/import", {"content-type": "text/csv"}, body))
        cases.append(("POST", "/v1/outcomes/import?dry_run=true",
                      {"content-type": "text/csv"}, body))
    for body in _json_variants():
        cases.append(("POST", "/v1/opportunities/import?on_error=skip",
                      {"content-type": "application/json"}, body))
        for path in ("/v1/recommendations", "/v1/outcomes"):
            cases.append(("POST", path, {"content-type": "application/json"}, body))
        cases.append(("PUT", "/v1/beneficiaries/fuzz-2", {"content-type": "application/json"},
                      body))
    for event in _outcome_variants():
        body = json.dumps(event).encode()
        cases.append(("POST", "/v1/outcomes", {"content-type": "application/json"}, body))
        line = ",".join("" if event.get(k) is None else str(event[k]) for k in (
            "beneficiary_id", "item_id", "status", "occurred_on", "rank", "model_name",
            "model_version"))
        csv_body = (OUTCOMES_CSV.split("\n")[0] + "\n" + line + "\n").encode("utf-8", "replace")
        cases.append(("POST", "/v1/outcomes/import", {"content-type": "text/csv"}, csv_body))
    statuses: Counter[int] = Counter()
    errors = []
    for method, path, headers, body in cases:
        res = client.request(method, path, content=body, headers=headers)
        statuses[res.status_code] += 1
        if res.status_code >= 500:
            errors.append(f"{method} {path} {body[:60]!r}: {res.status_code} {res.text[:200]}")
        else:
            assert res.status_code < 300 or res.headers["content-type"].startswith(
                "application/problem+json"), (path, res.status_code, res.headers)
    print(f"\nimport fuzz: {len(cases)} cases, statuses {dict(sorted(statuses.items()))}, "
          f"{len(errors)} server error(s)")
    assert len(cases) >= 300
    assert not errors, errors[:10]
