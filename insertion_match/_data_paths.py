"""Where the embedded data are: read through :mod:`importlib.resources`.

The reference data (``data/`` of the repository: catalogue, communes, ROME, mappings, geo) and the
shipped model (``models/``) are mapped into the package at build time as
``insertion_match._data`` and ``insertion_match._models`` (``setup.py``). A wheel carries them in
site-packages; an editable install (``pip install -e .``, ``make install``) resolves the same
package names to the clone's ``data/`` and ``models/``. Either way they are plain directories on
disk (pip installs wheels unzipped), so the loaders keep reading them with :class:`pathlib.Path`.

Read-only: nothing is ever written there (the service writes under ``IM_VAR_DIR``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_PACKAGE = "insertion_match._data"
MODELS_PACKAGE = "insertion_match._models"


def _directory(package: str) -> Path:
    resource = files(package)
    path = Path(str(resource))
    if not path.is_dir():  # e.g. a zipped install: not supported, say so plainly
        raise RuntimeError(f"{package} is not a directory on disk ({resource!r}): install the "
                           "wheel with pip (unzipped)")
    return path


def data_root() -> Path:
    """The embedded reference data (the repository's ``data/``)."""
    return _directory(DATA_PACKAGE)


def models_root() -> Path:
    """The shipped learned model and its card (the repository's ``models/``)."""
    return _directory(MODELS_PACKAGE)
