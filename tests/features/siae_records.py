"""SIAE API records (les emplois de l'inclusion, ``GET /api/v1/siaes/``) for the tests: the
fields and value shapes of ``itou/api/siae_api/serializers.py`` (gip-inclusion/les-emplois)."""

from __future__ import annotations

from typing import Any


def poste(pid: int, rome: str = "Entretien des espaces verts (A1203)", *, open_: bool = True,
          contract: str = "CDD insertion", lieu: dict | None = None, **extra: Any) -> dict:
    return {
        "id": pid, "rome": rome, "cree_le": "2026-10-02T09:15:00.000000+02:00",
        "mis_a_jour_le": "2026-11-20T16:40:12.000000+01:00",
        "recrutement_ouvert": "True" if open_ else "False",  # the API writes it as a string
        "description": "Entretien des espaces verts de la commune, en équipe encadrée.",
        "appellation_modifiee": "", "type_contrat": contract, "nombre_postes_ouverts": 2,
        "lieu": lieu, "profil_recherche": "Aucune expérience exigée.", **extra,
    }


LIEU_FLERS = {"nom": "Flers", "departement": "61", "code_postaux": ["61100"],
              "code_insee": "61169"}


def structure(siret: str, kind: str, postes: list[dict], *, ville: str = "Flers",
              code_postal: str = "61100", blocked: bool = False, **extra: Any) -> dict:
    return {
        "id": f"0b6f1c52-1d3e-4c4e-9a55-{siret[-12:]}", "cree_le": "2021-01-04T10:00:00+01:00",
        "mis_a_jour_le": "2026-11-20T16:40:12+01:00", "siret": siret, "type": kind,
        "raison_sociale": f"STRUCTURE {kind} DE TEST", "enseigne": f"Chantier test {kind}",
        "telephone": "", "courriel": "", "site_web": "", "description": "",
        "bloque_candidatures": blocked, "addresse_ligne_1": "1 rue de la Gare",
        "addresse_ligne_2": "", "code_postal": code_postal, "ville": ville,
        "departement": code_postal[:2], "postes": postes, **extra,
    }


def page(*structures: dict) -> dict:
    return {"count": len(structures), "next": None, "previous": None,
            "results": list(structures)}


def orne_page() -> dict:
    """An ACI in Flers (one open, one closed position), an EI of Argentan whose position has no
    place of its own, an ETTI of Alençon (mission), a GEIQ (not a SIAE), a blocked AI."""
    return page(
        structure("12345678900011", "ACI", [
            poste(101, lieu=LIEU_FLERS),
            poste(102, "Nettoyage de locaux (K2204)", open_=False, lieu=LIEU_FLERS),
        ]),
        structure("12345678900029", "EI", [
            poste(201, "Magasinage et préparation de commandes (N1103)", contract="",
                  appellation_modifiee="Préparateur de commandes en insertion"),
        ], ville="Argentan", code_postal="61200"),
        structure("12345678900037", "ETTI", [
            poste(301, "K2204", contract="Contrat de mission intérimaire",
                  lieu={"nom": "Alençon", "departement": "61", "code_postaux": ["61000"],
                        "code_insee": "61001"}),
        ], ville="Alençon", code_postal="61000"),
        structure("12345678900045", "GEIQ", [poste(401, lieu=LIEU_FLERS)]),
        structure("12345678900052", "AI", [poste(501, lieu=LIEU_FLERS)], blocked=True),
    )
