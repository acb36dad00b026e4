"""A stand-in CRM in SuiteCRM's V8 API shape (JSON:API, OAuth2 client credentials).

Test and demo peer only; it uses none of Tandem's packages. See ``README.md``.
"""

from __future__ import annotations

from sandbox.crm.peer import CrmHandle, make_crm, start_in_thread

__all__ = ["CrmHandle", "make_crm", "start_in_thread"]
