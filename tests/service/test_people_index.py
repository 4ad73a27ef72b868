"""The service's people index patched on profile changes equals the index built whole."""

from __future__ import annotations

from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service import db
from insertion_match.service.offers import PeopleIndex
from tests.matcher.test_opportunity_index import _profiles, _same_people


def test_profile_changes_are_patched_into_the_people_index(
        catalogue, gazetteer, territories, rome, tmp_path):
    engine = MatchingEngine.build(catalogue, gazetteer, territories, rome=rome)
    sessions = db.init_db(db.make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))

    def store(profile):
        home = engine.locate(profile)
        db.store_beneficiary(sessions, profile, department=home.department,
                             commission=territories.commission_of(home.insee),
                             home_insee=home.insee)

    profiles = _profiles(80, ["o1", "o2", "o3", "o4"], seed=51)
    for p in profiles[:60]:
        store(p)
    patched = PeopleIndex(patch_share=1.0)
    first = patched.get(sessions, engine)
    assert len(first) == 60
    for p in profiles[60:70]:  # created
        store(p)
    for old, new in zip(profiles[:10], profiles[70:80], strict=True):  # updated
        store(new.model_copy(update={"id": old.id}))
    for p in profiles[10:15]:  # deleted
        assert db.delete_beneficiary(sessions, p.id or "")
    again = patched.get(sessions, engine)
    assert again is not first and len(again) == 65
    whole = PeopleIndex(patch_share=0.0).get(sessions, engine)
    _same_people(again, whole)
    assert patched.get(sessions, engine) is again  # unchanged: the same arrays
    # out of step (as after a get that failed midway): rebuilt whole, not patched wrongly
    lost = next(k for k in patched._keys if k[0] == profiles[20].id)
    patched._keys.remove(lost)
    store(profiles[21].model_copy(update={"id": profiles[20].id}))
    _same_people(patched.get(sessions, engine), PeopleIndex(patch_share=0.0).get(sessions, engine))
