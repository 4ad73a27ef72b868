"""Storage: one module per group of tables, sharing the engine and base of ``base``.

- ``base``: engine (SQLite default, PostgreSQL by URL), session factory, transactions;
- ``catalogue``: the action catalogue and its imports;
- ``beneficiaries``: stored profiles (caseloads) under pseudonymous ids;
- ``audit``: what was shown to whom.
"""

from insertion_match.service.db.audit import (
    RecommendationLog,
    log_recommendation,
    recommendation_log,
)
from insertion_match.service.db.base import Base, init_db, make_engine, transaction
from insertion_match.service.db.beneficiaries import (
    BeneficiaryRow,
    delete_beneficiary,
    get_beneficiary,
    list_beneficiaries,
    profile_of,
    upsert_beneficiary,
)
from insertion_match.service.db.catalogue import (
    ActionRow,
    CatalogueImport,
    catalogue_hash,
    count_actions,
    last_import,
    load_actions,
    replace_catalogue,
)

__all__ = [
    "ActionRow", "Base", "BeneficiaryRow", "CatalogueImport", "RecommendationLog",
    "catalogue_hash", "count_actions", "delete_beneficiary", "get_beneficiary", "init_db",
    "last_import", "list_beneficiaries", "load_actions", "log_recommendation", "make_engine",
    "profile_of", "recommendation_log", "replace_catalogue", "transaction", "upsert_beneficiary",
]
