"""The command line reads French everywhere, argparse's own words included (usage, the help
option, usage errors), with argparse's exit status 2 for a usage error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from insertion_match.service.cli import main
from tests.conftest import REPO


@pytest.mark.parametrize(("argv", "expected"), [
    (["offers", "import"],
     "insertion-match offers import : erreur : arguments obligatoires manquants : file"),
    (["offers", "import", "x.json", "--jobs", "deux"],
     "erreur : argument --jobs : valeur invalide (int) : 'deux'"),
    (["nope"], "erreur : argument command : choix invalide : 'nope' (choisir parmi 'serve'"),
    (["recommend", "p.json", "--bogus"], "erreur : arguments non reconnus : --bogus"),
])
def test_usage_errors_are_french_and_exit_2(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage : insertion-match")
    assert expected in err
    assert "error" not in err and "required" not in err


def test_help_is_french_in_a_fresh_process():
    """In its own process (as a user runs it): no English heading or help line."""
    done = subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "keys", "create",
                           "--help"], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("usage : insertion-match keys create")
    assert "-h, --help            afficher cette aide et quitter" in done.stdout
    for english in ("usage:", "show this help", "positional arguments"):
        assert english not in done.stdout
