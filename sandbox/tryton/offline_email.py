"""``python offline_email.py -c CONF -d DB``: trytond that checks e-mail syntax but not DNS.

Tryton refuses an e-mail contact mechanism whose domain has no mail server, asking DNS. On
machines without outside DNS (CI, these sandboxes) every domain fails that check, so no party
with an e-mail could be written. This wrapper starts the same ``trytond`` with the check of
deliverability switched off; syntax and reserved names (``.test``, ``.invalid``...) are still
refused. ``start_tryton(..., offline_email=True)`` uses it.
"""

from __future__ import annotations

import sys
from typing import Any


def _patch() -> None:
    from trytond.tools import email_

    check = email_.validate_email

    def validate_email(email: str, check_deliverability: bool = True) -> Any:
        return check(email, check_deliverability=False)

    email_.validate_email = validate_email


if __name__ == "__main__":
    if sys.path and sys.path[0] == __file__.rsplit("/", 1)[0]:
        sys.path.pop(0)  # this directory's modules (setup, data...) must not shadow others
    _patch()
    from trytond.cli import main

    sys.argv[0] = "trytond"
    sys.exit(main())
