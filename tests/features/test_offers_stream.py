"""Reading offers record by record (JSON document, JSON lines, CSV): the same offers as the
whole-document parsers, one record in memory at a time, whole-document errors as ValueError."""

from __future__ import annotations

import io
import json

import pytest

from insertion_match.features import offers_import
from insertion_match.features.offers_import import (
    RawRecord,
    Rejection,
    parse_csv,
    parse_france_travail,
    read_records,
    validate_records,
)
from tests.features.offer_records import offer

COMMUNES = ("61169", "61001", "91228", "61484")


def records(n: int, start: int = 1) -> list[dict]:
    return [offer(id=f"S{i:05d}", lieuTravail={"commune": COMMUNES[i % len(COMMUNES)]},
                  nombrePostes=1 + i % 5, dureeTravailLibelle=f"{20 + i % 15}H Horaires normaux")
            for i in range(start, start + n)]


def stream_of(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def valid(results) -> list:
    return [r for _, r in results if not isinstance(r, Rejection)]


@pytest.mark.parametrize("shape", ["list", "resultats", "resultats-last", "one"])
def test_json_shapes_stream_the_same_offers_as_the_document_parser(gazetteer, rome, shape):
    offers = records(40) if shape != "one" else records(1)
    document = {"list": offers, "resultats": {"resultats": offers},
                "resultats-last": {"filtresPossibles": [{"a": [1, 2]}], "resultats": offers},
                "one": offers[0]}[shape]
    expected = parse_france_travail(document, gazetteer, rome).opportunities
    got = valid(validate_records(read_records(stream_of(json.dumps(document)), "json"), "json",
                                 gazetteer, rome))
    assert got == expected and len(got) == len(offers)


def test_json_lines_and_csv_stream_the_same_offers(gazetteer, rome):
    offers = records(30)
    lines = "\n".join(json.dumps(o) for o in offers) + "\n\n"
    got = valid(validate_records(read_records(stream_of(lines), "jsonl"), "jsonl", gazetteer,
                                 rome))
    assert got == parse_france_travail(offers, gazetteer, rome).opportunities
    csv = ("\ufeffexternal_id;title;rome_code;insee;contract_type;hours_per_week;licences\r\n"
           + "".join(f"C{i};Cariste;N1101;{COMMUNES[i % 4]};CDI;{20 + i};B:E\r\n"
                     for i in range(25)))
    got = list(validate_records(read_records(stream_of(csv), "csv"), "csv", gazetteer, rome))
    expected = parse_csv(csv, gazetteer, rome)
    assert [r for _, r in got] == expected.opportunities
    assert [p for p, _ in got] == list(range(2, 27))  # CSV positions are line numbers


def test_records_straddling_chunks_are_read_whole(gazetteer, rome, monkeypatch):
    """Tiny chunks: every record, string and number crosses a chunk boundary somewhere."""
    offers = records(12)
    offers[3]["lieuTravail"] = {"commune": "61169", "latitude": 48.7486123, "longitude": -0.5697}
    text = json.dumps({"resultats": offers, "fin": 12345.678}, ensure_ascii=False, indent=1)
    expected = [(i + 1, o) for i, o in enumerate(offers)]
    for chunk in (1, 3, 7, 64):
        monkeypatch.setattr(offers_import, "CHUNK_BYTES", chunk)
        assert list(read_records(stream_of(text), "json")) == expected
    monkeypatch.setattr(offers_import, "CHUNK_BYTES", 5)
    assert list(read_records(stream_of("[1, 23, 456]"), "json")) == [(1, 1), (2, 23), (3, 456)]


def test_raw_records_are_each_records_own_text(gazetteer, rome, monkeypatch):
    """``raw=True`` (what worker processes receive): each record's own text, cut at the right
    place even when it crosses chunk boundaries, and validated into the same results as the
    decoded records, an unreadable JSON line included; the document is still checked whole."""
    offers = records(9)
    offers[2]["description"] = "guillemets \" et accolades } { dans ] le texte, é à ç"
    text = json.dumps({"filtresPossibles": [{"a": [1, 2]}], "resultats": offers},
                      ensure_ascii=False, indent=1)
    decoded = list(read_records(stream_of(text), "json"))
    for chunk in (1, 7, 64, 1 << 20):
        monkeypatch.setattr(offers_import, "CHUNK_BYTES", chunk)
        raw = list(read_records(stream_of(text), "json", raw=True))
        assert all(isinstance(r, RawRecord) for _, r in raw)
        assert [(p, json.loads(r.text)) for p, r in raw] == decoded
    assert list(validate_records(raw, "json", gazetteer, rome)) == list(
        validate_records(decoded, "json", gazetteer, rome))
    lines = "\ufeff" + "\n".join(json.dumps(o) for o in offers[:3]) + "\n{cassé\n\n" + \
        json.dumps(offers[3]) + "\n"
    raw = list(read_records(stream_of(lines), "jsonl", raw=True))
    assert [p for p, _ in raw] == [1, 2, 3, 4, 6]
    got = list(validate_records(raw, "jsonl", gazetteer, rome))
    assert got == list(validate_records(read_records(stream_of(lines), "jsonl"), "jsonl",
                                        gazetteer, rome))
    assert isinstance(got[3][1], Rejection) and "ligne illisible" in got[3][1].errors[0].message_fr
    with pytest.raises(ValueError, match="invalid JSON"):
        list(read_records(stream_of('[{"id": 1}, {"id": }]'), "json", raw=True))


class Tripwire(io.RawIOBase):
    """A file that fails the test if read past ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit, self.pos = data, limit, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset
        return offset

    def readinto(self, buffer) -> int:
        if self.pos >= self.limit:
            raise AssertionError(f"read past byte {self.limit}: the reader is not streaming")
        chunk = self.data[self.pos:self.pos + len(buffer)]
        buffer[:len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_records_come_before_the_file_is_read(fmt, monkeypatch):
    """Memory bound without timing: the first records are yielded while most of a large file
    is still unread (the tripwire fails the test on any read past 1/20 of it)."""
    monkeypatch.setattr(offers_import, "CHUNK_BYTES", 64 * 1024)
    many = records(3000)
    if fmt == "json":
        data = json.dumps({"resultats": many}).encode()
    elif fmt == "jsonl":
        data = "\n".join(json.dumps(o) for o in many).encode()
    else:
        data = ("external_id,title,insee\n" + "".join(
            f"C{i},Agent d'entretien {'x' * 400},61169\n" for i in range(3000))).encode()
    assert len(data) > 1_000_000
    with pytest.raises(AssertionError, match="not streaming"):  # the tripwire works
        io.BufferedReader(Tripwire(data, len(data) // 20), 8192).read()
    stream = io.BufferedReader(Tripwire(data, len(data) // 20), 8192)
    first = []
    for position, record in read_records(stream, fmt):
        first.append(position)
        if len(first) == 50:
            break
    assert len(first) == 50


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", "invalid JSON"),
    ('"a string"', "list of offers"),
    ("42", "list of offers"),
    ("", "empty"),
    ('{"resultats": 5}', "resultats"),
    ("[{}] [", "extra data"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('[{"id": "A"}, {"id": ', "invalid JSON"),
    ('[{"id": "A"} {"id": "B"}]', "','"),
])
def test_unusable_documents_are_value_errors(text, words):
    with pytest.raises(ValueError, match=words):
        list(read_records(stream_of(text), "json"))


def test_a_truncated_file_fails_after_its_good_records():
    """The records before the damage are yielded; the import then fails as a whole (the
    caller writes nothing: see the storage tests)."""
    text = json.dumps(records(5))[:-300]
    got = []
    with pytest.raises(ValueError, match="invalid JSON"):
        for position, _ in read_records(stream_of(text), "json"):
            got.append(position)
    assert got == [1, 2, 3, 4]


def test_invalid_utf8_and_bad_csv_header():
    with pytest.raises(ValueError, match="UTF-8"):
        list(read_records(io.BytesIO(b'[{"id": "\xff"}]'), "json"))
    with pytest.raises(ValueError, match="missing columns"):
        list(read_records(stream_of("id;title\n1;x\n"), "csv"))


def test_an_unreadable_json_line_is_one_rejection(gazetteer, rome):
    lines = json.dumps(offer(id="L1")) + "\n{broken\n" + json.dumps(offer(id="L3")) + "\n"
    got = list(validate_records(read_records(stream_of(lines), "jsonl"), "jsonl", gazetteer,
                                rome))
    assert [p for p, _ in got] == [1, 2, 3]
    rejection = got[1][1]
    assert isinstance(rejection, Rejection) and rejection.position == 2
    assert rejection.errors[0].field == "record" and "illisible" in rejection.errors[0].message_fr
