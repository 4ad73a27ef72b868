"""Storage: one module per group of tables, sharing the engine and base of ``base``.

- ``base``: engine (SQLite default, PostgreSQL by URL), session factory, transactions;
- ``catalogue``: the action catalogue and its imports;
- ``beneficiaries``: stored profiles (caseloads) under pseudonymous ids;
- ``opportunities``: job, volunteering, internship and immersion offers, and their imports;
- ``people_index``: the reads that keep the in-memory people index (reverse matching) fresh;
- ``outcomes``: prescriptions and their outcomes (events, with the rank and model version);
- ``audit``: what was shown to whom, and who accessed whose data;
- ``api_keys``: hashed API keys with their role and territories;
- ``migrate``: Alembic migrations (``migrations/``), run at start-up.
"""

from insertion_match.service.db.api_keys import (
    ApiKeyCache,
    ApiKeyRow,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    verify_api_key,
)
from insertion_match.service.db.audit import (
    AccessLog,
    AuditWriter,
    RecommendationLog,
    audit_about,
    get_recommendation,
    log_access,
    log_recommendation,
    log_recommendations,
    purge_audit,
    recommendation_counts,
    recommendation_log,
)
from insertion_match.service.db.base import (
    Base,
    DatabaseHealth,
    health_of,
    init_db,
    make_engine,
    transaction,
)
from insertion_match.service.db.beneficiaries import (
    AmbiguousId,
    BeneficiaryRow,
    delete_beneficiary,
    erase_beneficiary,
    find_beneficiaries,
    find_beneficiaries_in,
    get_beneficiary,
    list_beneficiaries,
    profile_of,
    purge_beneficiaries,
    scope_of,
    store_beneficiary,
    upsert_beneficiary,
    visible_beneficiary,
)
from insertion_match.service.db.catalogue import (
    ActionRow,
    CatalogueImport,
    catalogue_fingerprint,
    catalogue_hash,
    count_actions,
    last_import,
    load_actions,
    replace_catalogue,
)
from insertion_match.service.db.opportunities import (
    OpportunityImport,
    OpportunityRow,
    UpsertReport,
    count_opportunities,
    get_opportunity,
    load_opportunities,
    opportunity_imports,
    purge_expired_opportunities,
    upsert_opportunities,
)
from insertion_match.service.db.outcomes import (
    OutcomeRow,
    add_outcomes,
    import_outcomes,
    list_outcomes,
)
from insertion_match.service.db.people_index import (
    beneficiaries_by_ids,
    beneficiaries_fingerprint,
    beneficiary_stamps,
)
from insertion_match.service.db.sign_in import SignInFailureRow, SignInLimiter
from insertion_match.service.db.users import (
    UserRow,
    create_user,
    disable_user,
    end_sessions,
    get_user,
    list_users,
    session_ended,
    set_password,
    verify_user,
)

__all__ = [
    "AccessLog",
    "ActionRow",
    "AmbiguousId",
    "ApiKeyCache",
    "ApiKeyRow",
    "AuditWriter",
    "Base",
    "BeneficiaryRow",
    "CatalogueImport",
    "DatabaseHealth",
    "OpportunityImport",
    "OpportunityRow",
    "OutcomeRow",
    "RecommendationLog",
    "SignInFailureRow",
    "SignInLimiter",
    "UpsertReport",
    "UserRow",
    "add_outcomes",
    "audit_about",
    "beneficiaries_by_ids",
    "beneficiaries_fingerprint",
    "beneficiary_stamps",
    "catalogue_fingerprint",
    "catalogue_hash",
    "count_actions",
    "count_opportunities",
    "create_api_key",
    "create_user",
    "delete_beneficiary",
    "disable_user",
    "end_sessions",
    "erase_beneficiary",
    "find_beneficiaries",
    "find_beneficiaries_in",
    "get_beneficiary",
    "get_opportunity",
    "get_recommendation",
    "get_user",
    "health_of",
    "import_outcomes",
    "init_db",
    "last_import",
    "list_api_keys",
    "list_beneficiaries",
    "list_outcomes",
    "list_users",
    "load_actions",
    "load_opportunities",
    "log_access",
    "log_recommendation",
    "log_recommendations",
    "make_engine",
    "opportunity_imports",
    "profile_of",
    "purge_audit",
    "purge_beneficiaries",
    "purge_expired_opportunities",
    "recommendation_counts",
    "recommendation_log",
    "replace_catalogue",
    "revoke_api_key",
    "scope_of",
    "session_ended",
    "set_password",
    "store_beneficiary",
    "transaction",
    "upsert_beneficiary",
    "upsert_opportunities",
    "verify_api_key",
    "verify_user",
    "visible_beneficiary",
]
