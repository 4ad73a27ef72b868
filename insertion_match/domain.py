"""Domain types shared by every package: freins, the action catalogue, the beneficiary profile,
the opportunities (job, volunteering, internship and immersion offers).

This is the one place where the vocabulary of DESIGN.md §3-§4 is written down. Everything here is
pure data (pydantic models and enums), with no I/O, so that ``geo``, ``features``, ``matcher`` and
``service`` can all import it without creating cycles.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------------------------
# Freins (DESIGN §4, normative keys)
# --------------------------------------------------------------------------------------------


class Frein(StrEnum):
    """The normative frein keys (DESIGN §4). Never rename: other tools send these."""

    mobilite = "mobilite"
    logement = "logement"
    sante = "sante"
    garde_enfants = "garde_enfants"
    finances = "finances"
    numerique = "numerique"
    langue_francaise = "langue_francaise"
    savoirs_de_base = "savoirs_de_base"
    demarches_administratives = "demarches_administratives"
    isolement_confiance = "isolement_confiance"
    qualification = "qualification"
    projet_professionnel = "projet_professionnel"
    recherche_emploi = "recherche_emploi"
    savoir_etre = "savoir_etre"
    handicap = "handicap"
    activite_independante = "activite_independante"
    experience_professionnelle = "experience_professionnelle"
    disponibilite = "disponibilite"


FREINS: tuple[str, ...] = tuple(f.value for f in Frein)

#: Health data under GDPR art. 9: coarse levels only, never logged.
SENSITIVE_FREINS: frozenset[str] = frozenset({Frein.sante.value, Frein.handicap.value})

#: French labels of the freins, as a coach reads them.
FREIN_LABELS_FR: dict[str, str] = {
    "mobilite": "mobilité",
    "logement": "logement",
    "sante": "santé",
    "garde_enfants": "garde d'enfants",
    "finances": "difficultés financières",
    "numerique": "numérique",
    "langue_francaise": "langue française",
    "savoirs_de_base": "savoirs de base",
    "demarches_administratives": "démarches administratives",
    "isolement_confiance": "isolement, confiance en soi",
    "qualification": "qualification",
    "projet_professionnel": "projet professionnel",
    "recherche_emploi": "recherche d'emploi",
    "savoir_etre": "savoir-être",
    "handicap": "handicap",
    "activite_independante": "activité indépendante",
    "experience_professionnelle": "expérience professionnelle",
    "disponibilite": "disponibilité",
}

SEVERITY_LABELS_FR: dict[int, str] = {0: "absent", 1: "léger", 2: "réel", 3: "bloquant"}

Severity = Annotated[int, Field(ge=0, le=3)]


# --------------------------------------------------------------------------------------------
# Enumerations of the API (DESIGN §6, normative values)
# --------------------------------------------------------------------------------------------


class Orientation(StrEnum):
    sociale = "sociale"
    socioprofessionnelle = "socioprofessionnelle"
    professionnelle = "professionnelle"


class TrainingLevel(StrEnum):
    infra3 = "infra3"
    n3 = "3"
    n4 = "4"
    n5 = "5"
    n6 = "6"
    n7 = "7"
    n8 = "8"


def training_level_rank(level: str | None) -> int | None:
    """Return the level as an integer (infra3 -> 2), or None when unknown."""
    if level is None:
        return None
    return 2 if level == "infra3" else int(level)


class DrivingLicence(StrEnum):
    none = "none"
    code = "code"
    b = "b"


class Vehicle(StrEnum):
    none = "none"
    car = "car"
    two_wheeler = "two_wheeler"
    bike = "bike"


class ItemKind(StrEnum):
    action = "action"
    job = "job"
    volunteering = "volunteering"
    internship = "internship"
    immersion = "immersion"


class HistoryCode(IntEnum):
    """A person's last history status with an item, as stored in the vectorised arrays."""

    none = 0
    refused = 1
    abandoned = 2
    done = 3
    ongoing = 4


class LicenceCode(IntEnum):
    """The person's driving licence in the vectorised arrays (``unknown``: not said)."""

    unknown = -1
    none = 0
    code = 1
    b = 2


class ExperienceCode(IntEnum):
    """An offer's experience requirement in the vectorised arrays (France Travail D/S/E)."""

    unknown = 0
    beginner = 1  # D: débutant accepté
    wished = 2  # S: souhaitée
    required = 3  # E: exigée


class HistoryStatus(StrEnum):
    done = "done"
    ongoing = "ongoing"
    refused = "refused"
    abandoned = "abandoned"


# --------------------------------------------------------------------------------------------
# Action catalogue
# --------------------------------------------------------------------------------------------


class ActionCategory(StrEnum):
    mobilite = "mobilite"
    langue = "langue"
    insertion_sociale = "insertion_sociale"
    emploi_formation = "emploi_formation"
    iae = "iae"
    accompagnement_renforce = "accompagnement_renforce"
    sante = "sante"
    logement = "logement"
    numerique = "numerique"
    diagnostic = "diagnostic"
    projet_departemental = "projet_departemental"
    autre = "autre"


CATEGORY_LABELS_FR: dict[str, str] = {
    "mobilite": "mobilité",
    "langue": "langue française",
    "insertion_sociale": "insertion sociale",
    "emploi_formation": "emploi et formation",
    "iae": "insertion par l'activité économique",
    "accompagnement_renforce": "accompagnement renforcé",
    "sante": "santé",
    "logement": "logement",
    "numerique": "numérique",
    "diagnostic": "diagnostic",
    "projet_departemental": "projet départemental",
    "autre": "autre",
}

#: Départements the catalogue covers (INSEE codes); extend when a territory joins.
DEPARTMENT_CODES = Literal["61", "72", "91"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Site(_Strict):
    """A place where the action is delivered. Coordinates come from the commune gazetteer."""

    commune: str = Field(description="Commune name as written in the source document")
    insee: str = Field(pattern=r"^(\d[\dAB]\d{3})$", description="INSEE code of the commune")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = None
    precision: Literal["address", "commune", "department_seat", "unspecified"] = Field(
        default="commune",
        description="'department_seat' when the site stands for the département as a whole "
        "(legacy); 'unspecified' when the document spreads the action over its territory without "
        "naming places (\"sites à préciser\"): no trip is computed, no travel penalty applied",
    )


class Territory(_Strict):
    """The territory an action serves.

    ``scope`` is ``departement`` (every commune of ``department``), ``commissions`` (the listed
    Commission RSA / DTAS territories, see data/geo/territories.csv) or ``communes`` (the listed
    INSEE codes only).
    """

    department: DEPARTMENT_CODES
    scope: Literal["departement", "commissions", "communes"]
    commissions: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _scope_has_members(self) -> Territory:
        if self.scope == "commissions" and not self.commissions:
            raise ValueError("la portée « commissions » demande au moins une commission")
        if self.scope == "communes" and not self.communes:
            raise ValueError("la portée « communes » demande au moins un code INSEE")
        return self


class Eligibility(_Strict):
    """Hard entry conditions stated by the source document. ``None``/``False`` = no condition.

    Only conditions the document states as conditions belong here (DESIGN §11): an action's
    "professional" or "social" label is its aim, not an entry rule.
    """

    orientations: tuple[Orientation, ...] | None = Field(
        default=None, description="Orientations admitted; None = any orientation"
    )
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    rsa_months_max: int | None = Field(
        default=None, ge=0, description="At most this many months in RSA (new entrants)"
    )
    foreign_newcomer_required: bool = False
    independent_worker_required: bool = False
    farmers_excluded: bool = False
    farmer_required: bool = Field(
        default=False, description="Only for non-salaried farmers (MSA referencing)"
    )
    qpv_required: bool = False
    rqth_required: bool = False
    driving_licence_required: Literal["code", "b"] | None = None
    no_driving_licence_required: bool = Field(
        default=False, description="For people without a B licence (licence courses)"
    )
    rsa_months_min: int | None = Field(
        default=None, ge=0, description="At least this many months in RSA (long-term public)"
    )
    sex: Literal["f", "m"] | None = Field(
        default=None, description="Public of one sex only, when the document says so "
        "(e.g. an action for women); checked against the profile's sex, never scored"
    )
    training_level_min: TrainingLevel | None = Field(
        default=None, description="At least this training level (2019 nomenclature)"
    )
    training_level_max: TrainingLevel | None = Field(
        default=None, description="At most this training level ('niveaux 1 à 4' = up to bac: "
        "'4'; 'sans diplôme' / 'infra 3': 'infra3')"
    )
    family_situation: Literal["isole", "couple"] | None = Field(
        default=None, description="Only for people living alone (isole) or in a couple"
    )
    children: Literal["none", "any", "under_3", "under_6"] | None = Field(
        default=None, description="'none': people without children (\"public seul sans "
        "enfant\"); 'any': parents; 'under_3' / 'under_6': a child under 3 / under 6"
    )
    mdph_unknown_required: bool = Field(
        default=False, description="For people not yet known to the MDPH (no RQTH, no file): "
        "e.g. an RQTH pre-eligibility diagnostic"
    )
    vehicle_required: Literal["car", "any"] | None = Field(
        default=None, description="A vehicle is needed to benefit: 'car' (a car repair "
        "garage), 'any' (a car or a two-wheeler)"
    )
    job_takeup_required: bool = Field(
        default=False, description="For people taking up a job (a job in view, a contract "
        "signed or about to be)"
    )
    needs_any: dict[Frein, Annotated[int, Field(ge=1, le=3)]] | None = Field(
        default=None, description="A need the document states as a condition: at least one of "
        "these freins at least at this severity (e.g. {'sante': 2} for people in a break of "
        "access to care; the social freins for the accompagnement global)"
    )
    other_fr: str | None = Field(
        default=None, description="Other conditions, in French, shown to the coach as a warning "
        "(only what cannot be a structured rule; see data/catalogue/notes/conditions.md)"
    )

    @model_validator(mode="after")
    def _age_bounds(self) -> Eligibility:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} supérieur à age_max {self.age_max}")
        if (self.rsa_months_min is not None and self.rsa_months_max is not None
                and self.rsa_months_min > self.rsa_months_max):
            raise ValueError(
                f"rsa_months_min {self.rsa_months_min} supérieur à rsa_months_max {self.rsa_months_max}")
        lo, hi = training_level_rank(self.training_level_min), training_level_rank(
            self.training_level_max)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(
                f"training_level_min {self.training_level_min} supérieur à training_level_max "
                f"{self.training_level_max}")
        return self


class SourceRef(_Strict):
    document: str = Field(description="File name of the source document in the seeds")
    section: str | None = None
    extract_id: str | None = Field(default=None, description="Id of the seed extract entry")


class DataInclusionLink(_Strict):
    """Where an action meets data·inclusion: the service(s) imported from it (or merged into a
    curated action), by their data·inclusion ids (``catalogue import-di``)."""

    service_ids: tuple[str, ...] = Field(min_length=1, description="data·inclusion service ids")
    source: str = Field(description="data·inclusion producer, e.g. 'dora'")
    structure_id: str | None = None
    date_maj: date | None = Field(default=None, description="Last update at the producer")
    merged: bool = Field(
        default=False, description="True: a curated action the service(s) duplicate (the "
        "curated record is kept); False: an action created from data·inclusion")


class Action(_Strict):
    """One prescribable insertion action of a PDI / PLICS / PTI."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3, description="Title as the document gives it (French)")
    description_fr: str = Field(min_length=10, description="What it is, for a coach, in French")
    operator: str | None = None
    category: ActionCategory
    territory: Territory
    sites: tuple[Site, ...] = Field(min_length=1)
    itinerant: bool = Field(
        default=False, description="Comes to the person (itinerant, at home, remote), only "
        "where the document says so"
    )
    remote: bool = Field(
        default=False, description="Delivered only at a distance (telephone, video, online: "
        "data·inclusion's mode d'accueil « à distance »): no trip, like ``itinerant`` (which it "
        "implies), but hard for a person whose digital frein is real or blocking"
    )
    by_dossier: bool = Field(
        default=False, description="Applied for by a dossier through the référent (a fund "
        "such as the FSI or the FSL): no trip, no travel penalty"
    )
    prescribable: bool = Field(
        default=True, description="False for pact objectives and experiments (\"Développer…\", "
        "\"Expérimenter…\", criteria \"à définir\"): kept in the catalogue with a note, never "
        "proposed"
    )
    not_prescribable_fr: str | None = Field(
        default=None, description="Why the entry is not a prescribable action (French)"
    )
    public_fr: str | None = Field(
        default=None, description="The public the document names, in its words (French)"
    )
    freins: tuple[Frein, ...] = Field(min_length=1)
    eligibility: Eligibility = Eligibility()
    prescription_required: bool = Field(
        default=False, description="Only reachable on a référent's prescription"
    )
    places: int | None = Field(
        default=None, ge=0, description="Places for the RSA public in ``places_year`` (not the "
        "whole public of the structure, not several years added up)"
    )
    places_year: int | None = Field(default=None, description="Year the places count is for")
    places_note_fr: str | None = Field(
        default=None, description="How the places figure was read from the document (French)"
    )
    participants: int | None = Field(default=None, ge=0, description="Last known head count")
    participants_year: int | None = None
    occupancy_rate: float | None = Field(
        default=None, ge=0, le=10, description="Occupancy rate as the document gives it "
        "(places taken in turn by several people make participants / places misleading); "
        "shown and scored instead of participants / places when given"
    )
    cost_eur: float | None = Field(default=None, ge=0, description="Cost to the person, euros")
    cost_note_fr: str | None = None
    duration_fr: str | None = None
    duration_months: float | None = Field(default=None, ge=0)
    weekly_hours: float | None = Field(default=None, ge=0)
    format: Literal["individuel", "collectif", "mixte"] | None = None
    outcome_rate: float | None = Field(
        default=None, ge=0, le=1, description="Last known share of positive exits"
    )
    how_to_mobilise_fr: str | None = None
    contact: str | None = Field(default=None, description="Public phone of the operator")
    active: bool = Field(default=True, description="False when the document says it stopped")
    period: str | None = Field(default=None, description="Programme period, e.g. '2022'")
    source: SourceRef
    curation_note: str | None = Field(default=None, description="What the curator decided, why")
    data_inclusion: DataInclusionLink | None = Field(
        default=None, description="The data·inclusion service(s) this action comes from or "
        "duplicates (set by the import, never in the curated files)")

    @field_validator("freins")
    @classmethod
    def _unique_freins(cls, v: tuple[Frein, ...]) -> tuple[Frein, ...]:
        if len(set(v)) != len(v):
            raise ValueError("un frein apparaît deux fois dans freins")
        return v

    @model_validator(mode="after")
    def _prescribable_has_reason(self) -> Action:
        if not self.prescribable and not self.not_prescribable_fr:
            raise ValueError("une entrée non prescriptible demande not_prescribable_fr (pourquoi)")
        return self

    @model_validator(mode="after")
    def _sites_in_department(self) -> Action:
        for site in self.sites:
            outside = not site.insee.startswith(self.territory.department)
            # Operators may sit outside the territory they serve (rare); allowed when explained.
            if (outside and site.precision not in ("department_seat", "unspecified")
                    and not self.curation_note):
                raise ValueError(
                    f"le site {site.commune} ({site.insee}) est hors du département "
                    f"{self.territory.department} : l'expliquer dans curation_note"
                )
        return self


class Catalogue(_Strict):
    """A catalogue file: one source document's actions."""

    source_document: str
    title: str
    actions: tuple[Action, ...]


# --------------------------------------------------------------------------------------------
# Beneficiary profile (DESIGN §6)
# --------------------------------------------------------------------------------------------


class Home(_Strict):
    commune: str | None = Field(default=None, max_length=120, examples=["La Ferté-Macé"])
    postcode: str | None = Field(default=None, pattern=r"^\d[\dAB]\d{3}$", examples=["61600"])
    insee: str | None = Field(default=None, pattern=r"^\d[\dAB]\d{3}$", examples=["61168"])

    @model_validator(mode="after")
    def _something_given(self) -> Home:
        if not (self.commune or self.postcode or self.insee):
            raise ValueError("give at least one of commune, postcode or insee")
        return self


class Family(_Strict):
    situation: Literal["isole", "couple"] | None = None
    children_under_3: int | None = Field(default=None, ge=0, le=20)
    children_3_to_11: int | None = Field(default=None, ge=0, le=20)
    children_12_plus: int | None = Field(default=None, ge=0, le=20)
    children_under_6: int | None = Field(
        default=None, ge=0, le=20, description="Optional: children under 6 (refines the bands "
        "for conditions such as 'a child under 6'; must be at least children_under_3)"
    )

    @model_validator(mode="after")
    def _under_6_consistent(self) -> Family:
        u3, u6 = self.children_under_3, self.children_under_6
        if u6 is not None and u3 is not None and u6 < u3:
            raise ValueError("children_under_6 cannot be fewer than children_under_3")
        if (u6 is not None and u3 is not None and self.children_3_to_11 is not None
                and u6 - u3 > self.children_3_to_11):
            raise ValueError("children_under_6 - children_under_3 cannot exceed children_3_to_11")
        return self


class Mobility(_Strict):
    driving_licence: DrivingLicence | None = None
    vehicle: Vehicle | None = None
    public_transport: bool | None = None
    max_travel_minutes: int | None = Field(default=None, ge=0, le=240)


class Status(_Strict):
    independent_worker: bool | None = None
    farmer: bool | None = None
    foreign_newcomer: bool | None = None
    rqth: bool | None = None
    qpv: bool | None = None
    mdph_known: bool | None = Field(
        default=None, description="Known to the MDPH (a file, a recognition such as the RQTH); "
        "RQTH true implies true"
    )
    job_takeup: bool | None = Field(
        default=None, description="Taking up a job: a contract signed or about to be"
    )

    @model_validator(mode="after")
    def _rqth_means_known(self) -> Status:
        if self.rqth is True and self.mdph_known is False:
            raise ValueError("rqth true means the person is known to the MDPH (mdph_known)")
        return self


class Availability(_Strict):
    hours_per_week: float | None = Field(default=None, ge=0, le=70)
    atypical_hours: bool | None = None


class HistoryEntry(_Strict):
    item_id: str = Field(min_length=1, max_length=200)
    status: HistoryStatus


class BeneficiaryProfile(_Strict):
    """The diagnostic of one person. Every field but ``home`` may be omitted (= unknown)."""

    id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Pseudonymous id: never a name, a NIR or a CAF number",
    )
    home: Home
    age: int | None = Field(default=None, ge=16, le=99)
    sex: Literal["f", "m"] | None = Field(
        default=None, description="Stored for fairness audits only; never a scoring feature"
    )
    family: Family = Family()
    orientation: Orientation | None = None
    rsa_months: int | None = Field(default=None, ge=0, le=600)
    training_level: TrainingLevel | None = None
    mobility: Mobility = Mobility()
    freins: dict[Frein, Severity] = Field(default_factory=dict)
    status: Status = Status()
    target_jobs: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    skills: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50,
        description="Skills, free text (e.g. 'nettoyage de locaux', 'CACES 1'); matched "
        "against the skills an offer asks for",
    )
    availability: Availability = Availability()
    history: list[HistoryEntry] = Field(default_factory=list, max_length=500)

    def severity(self, frein: str) -> int:
        return int(self.freins.get(frein, 0))  # type: ignore[call-overload]


# --------------------------------------------------------------------------------------------
# Opportunities: job, volunteering, internship and immersion offers (DESIGN §3)
# --------------------------------------------------------------------------------------------

#: The item kinds that are opportunities (every ``ItemKind`` but ``action``).
OPPORTUNITY_KINDS: tuple[str, ...] = ("job", "volunteering", "internship", "immersion")

OpportunityKind = Literal["job", "volunteering", "internship", "immersion"]

KIND_LABELS_FR: dict[str, str] = {
    "action": "action", "job": "offre d'emploi", "volunteering": "mission de bénévolat",
    "internship": "stage", "immersion": "immersion en entreprise (PMSMP)",
}

#: France Travail ``typeContrat`` codes, and the project's own for what it does not cover.
CONTRACT_LABELS_FR: dict[str, str] = {
    "CDI": "CDI", "CDD": "CDD", "MIS": "mission d'intérim", "SAI": "contrat saisonnier",
    "DIN": "CDI intérimaire", "DDI": "CDD d'insertion (IAE)",
    "TTI": "mission de travail temporaire d'insertion (IAE)", "CCE": "profession commerciale",
    "FRA": "franchise", "LIB": "profession libérale", "REP": "reprise d'entreprise",
    "PEC": "contrat aidé (Parcours emploi compétences)", "APP": "contrat d'apprentissage",
    "PRO": "contrat de professionnalisation", "BEN": "bénévolat", "SCV": "service civique",
    "STA": "stage", "PMS": "période de mise en situation en milieu professionnel",
}
#: Contracts of work-integration structures (IAE) and subsidised contracts.
INSERTION_CONTRACTS = frozenset({"DDI", "TTI", "PEC"})
#: Kinds of work-integration structures (SIAE), as les emplois de l'inclusion names them.
SIAE_KINDS_FR: dict[str, str] = {
    "ACI": "atelier et chantier d'insertion", "AI": "association intermédiaire",
    "EI": "entreprise d'insertion", "EITI": "entreprise d'insertion par le travail indépendant",
    "ETTI": "entreprise de travail temporaire d'insertion",
}


class AtypicalHours(StrEnum):
    """Working-time patterns that clash with childcare or a limited availability."""

    night = "night"  # travail de nuit
    weekend = "weekend"  # samedi, dimanche, week-end
    shifts = "shifts"  # travail en équipe, 2x8, 3x8, par roulement
    early_late = "early_late"  # horaires décalés, tôt le matin, tard le soir
    split = "split"  # type: ignore[assignment]  # horaires en coupure (shadows str.split)


ATYPICAL_LABELS_FR: dict[str, str] = {
    "night": "travail de nuit", "weekend": "travail le week-end",
    "shifts": "travail en équipes", "early_late": "horaires décalés",
    "split": "horaires en coupure",
}


class LicenceRequirement(_Strict):
    """A driving licence the offer asks for. ``category``: "B", "C", "CE", "D", "BE", "A"..."""

    category: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,3}$", examples=["B"])
    label: str | None = Field(default=None, max_length=120, examples=["B - Véhicule léger"])
    required: bool = Field(description="True: exigé (E); False: souhaité (S)")


class OpportunityLocation(_Strict):
    """Where the work is: a commune (INSEE code), positioned at its centroid or at the offer's
    own coordinates when it gives them."""

    commune: str = Field(max_length=120)
    insee: str = Field(pattern=r"^\d[\dAB]\d{3}$")
    postcode: str | None = Field(default=None, pattern=r"^\d[\dAB]\d{3}$")
    department: str = Field(pattern=r"^(\d[\dAB]|\d{3})$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Opportunity(_Strict):
    """One job, volunteering, internship or immersion offer, as validated at import.

    Identified by ``(source, external_id)``; ``id`` is ``"{source}:{external_id}"``. Unknown
    values stay None (an unknown requirement never excludes anyone).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*:[A-Za-z0-9][A-Za-z0-9_.-]*$",
                    examples=["france-travail:4369834"])
    source: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=40,
                        examples=["france-travail"])
    external_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)
    kind: OpportunityKind
    title: str = Field(min_length=2, max_length=300)
    rome_code: str | None = Field(default=None, pattern=r"^[A-N]\d{4}$")
    rome_inferred: bool = Field(
        default=False, description="The ROME code was inferred from the title at import"
    )
    appellation: str | None = Field(default=None, max_length=300)
    employer: str | None = Field(default=None, max_length=300)
    location: OpportunityLocation
    contract_type: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    contract_label: str | None = Field(default=None, max_length=200)
    contract_months: float | None = Field(default=None, ge=0, le=120)
    hours_per_week: float | None = Field(default=None, ge=0, le=70)
    full_time: bool | None = None
    atypical_hours: tuple[AtypicalHours, ...] = ()
    schedule_label: str | None = Field(default=None, max_length=300)
    training_level: TrainingLevel | None = Field(
        default=None, description="Training level asked for (None: none stated)"
    )
    training_required: bool = Field(default=False, description="Exigé (E) rather than souhaité")
    experience: Literal["D", "S", "E"] | None = Field(
        default=None, description="D débutant accepté, S souhaitée, E exigée"
    )
    experience_label: str | None = Field(default=None, max_length=300)
    licences: tuple[LicenceRequirement, ...] = ()
    skills: tuple[Annotated[str, Field(max_length=300)], ...] = ()
    soft_skills: tuple[Annotated[str, Field(max_length=300)], ...] = ()
    positions: int = Field(default=1, ge=1, le=10000)
    accessible_rqth: bool | None = None
    created_at: date | None = None
    start_date: date | None = None
    expires_at: date | None = Field(default=None, description="Not proposed after this day")
    url: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    synthetic: bool = Field(default=False, description="Synthetic demo offer: not a real one")
    iae: bool = Field(default=False, description="A position in a work-integration structure "
                      "(SIAE, insertion par l'activité économique), with support on the job")
    siae_kind: Literal["ACI", "AI", "EI", "EITI", "ETTI"] | None = Field(
        default=None, description="Kind of SIAE of an IAE position (see SIAE_KINDS_FR)")

    @model_validator(mode="after")
    def _consistent(self) -> Opportunity:
        if self.siae_kind is not None and not self.iae:
            raise ValueError("siae_kind is only for an IAE position (iae: true)")
        if self.id != f"{self.source}:{self.external_id}":
            raise ValueError(f"id must be '{self.source}:{self.external_id}'")
        if self.kind == "job" and self.rome_code is None:
            raise ValueError("a job offer needs a ROME code (given or inferred from the title)")
        return self


# --------------------------------------------------------------------------------------------
# Prescriptions and outcomes (DESIGN §3)
# --------------------------------------------------------------------------------------------


class OutcomeStatus(StrEnum):
    """Where a proposal stands. Events are recorded as they happen; the latest one counts."""

    proposed = "proposed"
    accepted = "accepted"
    refused = "refused"
    entered = "entered"
    abandoned = "abandoned"
    exited = "exited"


class RefusalReason(StrEnum):
    not_mobile = "not_mobile"
    incompatible_frein = "incompatible_frein"
    lacking_skills = "lacking_skills"
    not_eligible = "not_eligible"
    not_interested = "not_interested"
    other = "other"


class ExitKind(StrEnum):
    """How a person left an action (Sarthe definitions, seed 003).

    ``emploi_durable``: CDI, CDD over 6 months or business creation; ``sortie_dynamique``: any
    other real next step (job, training, IAE, another insertion action); ``other``: none.
    """

    emploi_durable = "emploi_durable"
    sortie_dynamique = "sortie_dynamique"
    other = "other"


#: Exits that count as a success for learning and evaluation.
POSITIVE_EXITS: frozenset[str] = frozenset({ExitKind.emploi_durable, ExitKind.sortie_dynamique})

OUTCOME_STATUS_LABELS_FR: dict[str, str] = {
    "proposed": "proposée", "accepted": "acceptée", "refused": "refusée", "entered": "entrée",
    "abandoned": "abandonnée", "exited": "sortie",
}
REFUSAL_REASON_LABELS_FR: dict[str, str] = {
    "not_mobile": "pas de moyen de s'y rendre", "incompatible_frein": "frein incompatible",
    "lacking_skills": "prérequis non acquis", "not_eligible": "conditions non remplies",
    "not_interested": "pas intéressée", "other": "autre raison",
}
EXIT_KIND_LABELS_FR: dict[str, str] = {
    "emploi_durable": "emploi durable", "sortie_dynamique": "sortie dynamique",
    "other": "autre sortie",
}


class DoraOrientationStatus(StrEnum):
    """Status of an orientation toward a service in DORA (gip-inclusion/dora-back,
    ``orientations.models.OrientationStatus``: OUVERTE, VALIDÉE, REFUSÉE)."""

    ouverte = "ouverte"
    validee = "validée"
    refusee = "refusée"


#: DORA status → our status of the event (an orientation "ouverte" is a proposal).
DORA_STATUS_TO_OUTCOME: dict[str, str] = {"ouverte": "proposed", "validée": "accepted",
                                          "refusée": "refused"}
#: Our statuses compatible with each DORA status (a validated orientation may have been
#: entered, abandoned or exited since).
DORA_STATUS_COMPATIBLE: dict[str, frozenset[str]] = {
    "ouverte": frozenset({"proposed"}), "refusée": frozenset({"refused"}),
    "validée": frozenset({"accepted", "entered", "abandoned", "exited"}),
}
#: DORA's refusal reasons (``orientations`` migration 0005, values as DORA writes them) → ours.
DORA_REFUSAL_REASONS: dict[str, str] = {
    "bénéficiaire-non-joignable": "other", "bénéficiaire-absent": "other",
    "bénéficiaire-en-emploi": "other", "bénéficiaire-en-formation": "other",
    "bénéficiaire-non-éligible": "not_eligible", "bénéficiaire-non-mobile": "not_mobile",
    "bénéficiaire-non-intéressé": "not_interested", "freins-périphériques": "incompatible_frein",
    "session-complète": "other", "orientation-en-doublon": "other", "autre": "other",
}
_REFUSAL_PRIORITY = ("not_eligible", "not_mobile", "incompatible_frein", "not_interested")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text.strip().lower()).encode("ascii", "ignore").decode()


_DORA_STATUS_KEYS = {_plain(v): v for v in DORA_STATUS_TO_OUTCOME}
_DORA_REASON_KEYS = {_plain(v): v for v in DORA_REFUSAL_REASONS}


def dora_refusal_reason(reasons: Sequence[str]) -> str:
    """Our refusal reason for DORA's (several may be given): the most telling one, else other."""
    ours = {DORA_REFUSAL_REASONS.get(r, "other") for r in reasons}
    return next((r for r in _REFUSAL_PRIORITY if r in ours), "other")


class OutcomeRecord(_Strict):
    """One event of a prescription: proposed (with the rank and model that produced it), then
    accepted / refused (with a reason) / entered / abandoned / exited (with the kind of exit).

    ``rank``, ``model_name`` and ``model_version`` say which ranked list proposed the item; on a
    later event they may be omitted: storage copies them from the proposal. Null on a proposal
    means it was not made from a ranked list (by hand).
    """

    beneficiary_id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                                description="Pseudonymous id", examples=["b-0042"])
    item_id: str = Field(min_length=1, max_length=200, examples=["flers-mobylis-permis-b"])
    item_kind: ItemKind = ItemKind.action
    status: OutcomeStatus
    occurred_on: date = Field(description="Day of the event (ISO 8601)")
    refusal_reason: RefusalReason | None = Field(default=None, description="When refused")
    exit_kind: ExitKind | None = Field(default=None, description="When exited")
    rank: int | None = Field(default=None, ge=1, le=1000, description="Rank in the list shown")
    model_name: str | None = Field(default=None, max_length=80)
    model_version: str | None = Field(default=None, max_length=40)
    recommendation_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="The ``recommendation_id`` of the answer that showed "
        "the item (its audit row): ties the event to the list shown. Rank and model are then "
        "read from that list when not given")
    di_service_id: str | None = Field(
        default=None, max_length=200,
        pattern=r"^[a-z0-9][a-z0-9_-]*?(?::|--)[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="The data·inclusion id of the service the person was oriented to "
        "('source:id' or 'source--id', e.g. 'dora:1234'), when the item is one",
        examples=["dora:a1b2c3"])
    orientation_status: DoraOrientationStatus | None = Field(
        default=None, description="DORA's status of the orientation: 'ouverte' (→ proposed), "
        "'validée' (→ accepted; entered, abandoned, exited are later steps), 'refusée' (→ "
        "refused). ``status`` may then be omitted: it is derived")
    orientation_refusal_reasons: tuple[str, ...] = Field(
        default=(), max_length=11, description="DORA's refusal reasons of a 'refusée' orientation "
        "(bénéficiaire-non-éligible, bénéficiaire-non-mobile, freins-périphériques, "
        "bénéficiaire-non-intéressé, ... see DORA_REFUSAL_REASONS); ``refusal_reason`` is derived "
        "from them when omitted")

    @model_validator(mode="before")
    @classmethod
    def _from_orientation(cls, data: object) -> object:
        """Read DORA's values (any case, with or without accents) and derive ``status`` and
        ``refusal_reason`` when they are omitted."""
        if not isinstance(data, dict) or data.get("orientation_status") in (None, ""):
            return data
        data = dict(data)
        raw = data["orientation_status"]
        status = _DORA_STATUS_KEYS.get(_plain(raw)) if isinstance(raw, str) else None
        if status is None:
            return data  # the enum reports the error
        data["orientation_status"] = status
        reasons = data.get("orientation_refusal_reasons") or ()
        if isinstance(reasons, str):
            reasons = [r for r in reasons.split("|") if r.strip()]
        if isinstance(reasons, (list, tuple)):
            reasons = [_DORA_REASON_KEYS.get(_plain(r), r) if isinstance(r, str) else r
                       for r in reasons]
            data["orientation_refusal_reasons"] = reasons
        if data.get("status") in (None, ""):
            data["status"] = DORA_STATUS_TO_OUTCOME[status]
        if status == "refusée" and data.get("refusal_reason") in (None, "") and \
                isinstance(reasons, list) and all(isinstance(r, str) for r in reasons):
            data["refusal_reason"] = dora_refusal_reason(reasons)
        return data

    @field_validator("item_id", "model_name", "model_version")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise PydanticCustomError("control_characters",
                                      "control characters (NUL, line breaks, tabs) are not allowed")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeRecord:
        if (self.status is OutcomeStatus.refused) != (self.refusal_reason is not None):
            raise ValueError("refusal_reason is required when status is 'refused', and only then")
        if (self.status is OutcomeStatus.exited) != (self.exit_kind is not None):
            raise ValueError("exit_kind is required when status is 'exited', and only then")
        if (self.model_name is None) != (self.model_version is None):
            raise ValueError("give both model_name and model_version, or neither")
        unknown = [r for r in self.orientation_refusal_reasons if r not in DORA_REFUSAL_REASONS]
        if unknown:
            raise ValueError(f"unknown DORA refusal reason(s) {unknown}; known: "
                             f"{', '.join(DORA_REFUSAL_REASONS)}")
        if self.orientation_refusal_reasons and self.orientation_status is not \
                DoraOrientationStatus.refusee:
            raise ValueError("orientation_refusal_reasons are only for a 'refusée' orientation")
        if self.orientation_status is not None and self.status.value not in \
                DORA_STATUS_COMPATIBLE[self.orientation_status.value]:
            raise ValueError(f"status '{self.status.value}' contradicts orientation_status "
                             f"'{self.orientation_status.value}' (→ "
                             f"'{DORA_STATUS_TO_OUTCOME[self.orientation_status.value]}')")
        return self

    @property
    def success(self) -> bool:
        return self.status is OutcomeStatus.exited and self.exit_kind in POSITIVE_EXITS
