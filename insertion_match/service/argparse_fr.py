"""argparse in French: its own words (usage, headings, the help option, its error messages).

The command line's help texts and our own messages are written in French; argparse's own
strings ("usage:", "the following arguments are required", "invalid choice"...) go through
``gettext`` at the moment they are used. :func:`install` points argparse's two gettext names
at :data:`FRENCH` (the messages of Python 3.11's argparse), so a user of the CLI reads one
language; a string not listed stays as argparse wrote it. Only the ``argparse`` module is
touched, not the process's gettext domain.
"""

from __future__ import annotations

import argparse

#: argparse's message ids (Python 3.11) → French.
FRENCH: dict[str, str] = {
    "usage: ": "usage : ",
    "positional arguments": "arguments positionnels",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version du programme et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "un des arguments %s est obligatoire",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "une valeur au plus attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur explicite %r ignorée",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "sous-commande inconnue %(parser_name)r (choix : %(choices)s)",
    "unexpected option string: %s": "option inattendue : %s",
}

#: Plural messages: (singular, plural) → (French singular, French plural).
FRENCH_PLURAL: dict[tuple[str, str], tuple[str, str]] = {
    ("expected %s argument", "expected %s arguments"):
        ("%s valeur attendue", "%s valeurs attendues"),
    ("conflicting option string: %s", "conflicting option strings: %s"):
        ("option en conflit : %s", "options en conflit : %s"),
}


def gettext_fr(message: str) -> str:
    return FRENCH.get(message, message)


def ngettext_fr(singular: str, plural: str, n: int) -> str:
    french = FRENCH_PLURAL.get((singular, plural))
    if french is None:
        return singular if n == 1 else plural
    return french[0] if n <= 1 else french[1]  # French: 0 and 1 take the singular


def install() -> None:
    """Make argparse speak French in this process (idempotent)."""
    argparse._ = gettext_fr  # type: ignore[attr-defined]
    argparse.ngettext = ngettext_fr  # type: ignore[attr-defined]
