"""Given names that stand for each other (``Bill`` and ``William``, ``Sepp`` and ``Josef``).

A short list of the common English, German and French forms; names compare folded
(``fold``), so ``José`` is ``jose``.
"""

from __future__ import annotations

_GROUPS = """
alexander alex sandy sascha
andrew andy drew
anthony tony
barbara barb babs
benjamin ben benny
catherine katherine kathryn kate katie cathy kathy kat
charles charlie chuck karl carl
christopher chris kit
christine christina chris tina kristina
daniel dan danny
david dave davy
deborah debbie debra deb
edward ed eddie ted ned
elizabeth liz lisa beth betty eliza elisabeth lizzy
francis frank frances fran
frederick fred freddy friedrich fritz
gregory greg
henry harry hank heinrich heinz
jacob jake jakob
james jim jimmy jamie
jennifer jenny jen
john jon johnny jack johann johannes hans hannes
joseph joe joey josef sepp jose
katharina kathrin katrin kati
margaret maggie meg peggy margarete grete gretchen
matthew matt matthias
michael mike mick michi
nicholas nick nicky nikolaus klaus niklas
patricia pat patty trish
patrick pat paddy
peter pete
richard rick dick rich richie
robert rob bob bobby bert
samuel sam sammy
stephen steven steve stefan stephan
susan sue susie susanne
thomas tom tommy
timothy tim
victoria vicky tori
william will bill billy willy wilhelm willi
wolfgang wolf
""".strip().splitlines()

_ALIASES: dict[str, frozenset[int]] = {}
for _index, _line in enumerate(_GROUPS):
    for _name in _line.split():
        _ALIASES[_name] = _ALIASES.get(_name, frozenset()) | {_index}


def same_given_name(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same name or forms of one (folded names)."""
    if a == b:
        return True
    groups = _ALIASES.get(a)
    return bool(groups and groups & _ALIASES.get(b, frozenset()))
