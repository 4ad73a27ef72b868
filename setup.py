"""Build glue: the embedded data ship inside the package.

``data/`` and ``models/`` stay at the repository root (where contributors add files), and are
mapped into the package as ``insertion_match._data`` and ``insertion_match._models``, so that the
wheel carries them and an editable install resolves them the same way: both are read through
``importlib.resources`` (``insertion_match.resources``). Everything else is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

EMBEDDED = {"insertion_match._data": "data", "insertion_match._models": "models"}


def _embedded_packages() -> list[str]:
    """The mapped packages and their sub-directories (listed, so setuptools ships them quietly)."""
    found = list(EMBEDDED)
    for package, directory in EMBEDDED.items():
        found += [f"{package}.{sub}" for sub in find_namespace_packages(where=directory)
                  if "__pycache__" not in sub]
    return found


setup(
    packages=[*find_namespace_packages(include=["insertion_match", "insertion_match.*"]),
              *_embedded_packages()],
    package_dir=EMBEDDED,
)
