"""The OpenAPI document says what the service does (issue 9); schemathesis checks every answer
against it (test_schemathesis.py); these are the points it found, checked directly."""

from __future__ import annotations

from datetime import datetime


def test_timestamps_carry_their_utc_offset(client):
    res = client.put("/v1/beneficiaries/contract-1", json={"home": {"insee": "61169"}})
    assert res.status_code in (200, 201)
    for value in (res.json()["created_at"], res.json()["updated_at"],
                  client.get("/v1/beneficiaries", params={"limit": 500}).json()["items"][0][
                      "updated_at"]):
        assert datetime.fromisoformat(value).utcoffset() is not None, value
    export = client.get("/v1/beneficiaries/contract-1/export").json()
    assert all(datetime.fromisoformat(a["created_at"]).utcoffset() is not None
               for a in export["accesses"])


def test_errors_and_statuses_are_documented(client):
    schema = client.get("/openapi.json").json()
    put = schema["paths"]["/v1/beneficiaries/{beneficiary_id}"]["put"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "408", "409", "413", "422", "429",
            "503"} <= set(put)
    assert set(put["404"]["content"]) == {"application/problem+json"}
    assert "Retry-After" in put["503"]["headers"]
    imports = schema["paths"]["/v1/outcomes/import"]["post"]["responses"]
    assert {"400", "401", "403", "413", "422", "429", "503"} <= set(imports)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and path != "/readyz":
                    assert set(response["content"]) == {"application/problem+json"}, (path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
