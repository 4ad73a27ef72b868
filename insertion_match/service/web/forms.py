"""The diagnostic form ↔ :class:`~insertion_match.domain.BeneficiaryProfile`.

Field names are the profile's dotted paths (``home.commune``, ``family.children_under_3``),
freins are ``frein.<key>`` (severity 0–3) and yes/no questions read ``oui``/``non``/empty
(unknown). Validation is the profile model's own; its errors come back per field, in French.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from insertion_match.domain import FREIN_LABELS_FR, FREINS, BeneficiaryProfile

STATUS_KEYS = ("foreign_newcomer", "independent_worker", "farmer", "rqth", "mdph_known", "qpv",
               "job_takeup")
INT_FIELDS = ("age", "rsa_months", "family.children_under_3", "family.children_under_6",
              "family.children_3_to_11", "family.children_12_plus",
              "mobility.max_travel_minutes")
CHOICE_FIELDS = ("sex", "family.situation", "orientation", "training_level",
                 "mobility.driving_licence", "mobility.vehicle")
BOOL_FIELDS = ("mobility.public_transport", "availability.atypical_hours",
               *(f"status.{k}" for k in STATUS_KEYS))
TEXT_FIELDS = ("home.commune", "home.postcode", "availability.hours_per_week")
JOB_FIELDS = ("target_job_1", "target_job_2", "target_job_3")

#: The label of each field, for the error summary at the top of the form.
FIELD_LABELS: dict[str, str] = {
    "id": "Identifiant pseudonyme", "home.commune": "Commune de résidence",
    "home.postcode": "Code postal", "age": "Âge", "sex": "Sexe",
    "family": "Famille", "family.situation": "Situation familiale",
    "family.children_under_3": "Enfants de moins de 3 ans",
    "family.children_under_6": "Enfants de moins de 6 ans",
    "family.children_3_to_11": "Enfants de 3 à 11 ans",
    "family.children_12_plus": "Enfants de 12 ans et plus", "orientation": "Orientation",
    "rsa_months": "Mois au RSA", "training_level": "Niveau de formation",
    "mobility.driving_licence": "Permis de conduire", "mobility.vehicle": "Véhicule",
    "mobility.public_transport": "Transports en commun",
    "mobility.max_travel_minutes": "Trajet acceptable", "status": "Statuts",
    "availability.hours_per_week": "Heures par semaine",
    "availability.atypical_hours": "Horaires décalés",
    **{f"frein.{k}": f"Frein {v}" for k, v in FREIN_LABELS_FR.items()},
    **{f"target_job_{n}": f"Métier visé {n}" for n in (1, 2, 3)},
    "skills": "Compétences",
}

#: French messages for the profile's own consistency rules (model validators).
_RULES_FR = {
    "children_under_6 cannot be fewer than children_under_3":
        "le nombre d'enfants de moins de 6 ans ne peut pas être inférieur à celui des moins de 3 ans",
    "children_under_6 - children_under_3 cannot exceed children_3_to_11":
        "les enfants de 3 à 5 ans comptent aussi parmi les 3 à 11 ans : vérifiez les nombres",
    "rqth true means the person is known to the MDPH (mdph_known)":
        "une personne avec une RQTH est connue de la MDPH",
    "give at least one of commune, postcode or insee": "indiquez la commune de résidence",
}


def _message_fr(error: Mapping[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Saisissez un nombre entier."
    if kind in ("float_parsing", "float_type"):
        return "Saisissez un nombre."
    if kind == "greater_than_equal":
        return f"Saisissez une valeur d'au moins {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Saisissez une valeur d'au plus {ctx.get('le')}."
    if kind == "string_pattern_mismatch":
        return "Format invalide."
    if kind == "string_too_long":
        return f"Texte trop long (au plus {ctx.get('max_length')} caractères)."
    if kind in ("enum", "literal_error"):
        return "Choisissez une valeur de la liste."
    if kind == "value_error":
        text = str(error.get("msg", "")).removeprefix("Value error, ")
        french = _RULES_FR.get(text, "valeur invalide").rstrip(".")
        return french[:1].upper() + french[1:] + "."
    if kind == "missing":
        return "Champ obligatoire."
    return "Valeur invalide."


def _set(target: dict, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def form_to_profile(form: Mapping[str, str], beneficiary_id: str,
                    history: list | None = None) -> tuple[BeneficiaryProfile | None,
                                                          dict[str, str]]:
    """The profile the form describes, or None with the French error of each field."""
    data: dict[str, Any] = {"id": beneficiary_id}
    errors: dict[str, str] = {}
    for name in (*INT_FIELDS, *CHOICE_FIELDS, *TEXT_FIELDS):
        value = (form.get(name) or "").strip()
        if value:
            _set(data, name, value)
    for name in BOOL_FIELDS:
        value = (form.get(name) or "").strip()
        if value in ("oui", "non"):
            _set(data, name, value == "oui")
    freins = {}
    for key in FREINS:
        value = (form.get(f"frein.{key}") or "0").strip()
        if value not in ("0", "1", "2", "3"):
            errors[f"frein.{key}"] = "Choisissez une sévérité de 0 à 3."
        elif value != "0":
            freins[key] = int(value)
    data["freins"] = freins
    data["target_jobs"] = [j.strip() for j in (form.get(n) or "" for n in JOB_FIELDS)
                           if j.strip()]
    data["skills"] = [s.strip() for s in (form.get("skills") or "").splitlines() if s.strip()]
    if history:
        data["history"] = history
    if not data.get("home", {}).get("commune") and not data.get("home", {}).get("postcode"):
        errors["home.commune"] = "Indiquez la commune de résidence."
        data.setdefault("home", {})["commune"] = "?"
    try:
        profile = BeneficiaryProfile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            if loc and loc[0] == "freins":
                name = f"frein.{loc[1]}" if len(loc) > 1 else "freins"
            elif loc and loc[0] == "skills":
                name = "skills"
            elif loc and loc[0] == "target_jobs":
                index = int(loc[1]) if len(loc) > 1 and loc[1].isdigit() else 0
                name = JOB_FIELDS[min(index, 2)]
            else:
                name = ".".join(loc) or "form"
                # a rule across fields: shown next to the field it is about
                name = {"family": "family.children_under_6", "status": "status.mdph_known",
                        "home": "home.commune"}.get(name, name)
            errors.setdefault(name, _message_fr(err))
        return None, errors
    if errors:
        return None, errors
    return profile, {}


def profile_to_form(profile: BeneficiaryProfile | None) -> dict[str, str]:
    """The form values showing a stored profile (unknowns empty)."""
    if profile is None:
        return {}
    data = profile.model_dump(mode="json")
    values: dict[str, str] = {}

    def get(path: str) -> Any:
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    for name in (*INT_FIELDS, *CHOICE_FIELDS, *TEXT_FIELDS):
        value = get(name)
        values[name] = "" if value is None else str(value)
    for name in BOOL_FIELDS:
        value = get(name)
        values[name] = "" if value is None else ("oui" if value else "non")
    for key in FREINS:
        values[f"frein.{key}"] = str(profile.severity(key))
    for name, job in zip(JOB_FIELDS, profile.target_jobs, strict=False):
        values[name] = job
    values["skills"] = "\n".join(profile.skills)
    if profile.availability.hours_per_week is not None:
        values["availability.hours_per_week"] = f"{profile.availability.hours_per_week:g}"
    return values
