"""Personal data masked in what monitoring shows: values of configured keys, at any depth."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MASK = "•••"


class Masker:
    """Masks values whose key is one of ``fields`` (case-insensitive) or ends with
    ``_<field>`` (``billing_email``). E-mail addresses keep their domain, phone numbers their
    last two digits, so an operator can still tell two records apart."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = frozenset(f.lower() for f in fields)

    def is_personal(self, key: str) -> bool:
        k = key.lower()
        return k in self.fields or any(k.endswith("_" + f) for f in self.fields)

    def mask_value(self, key: str, value: Any) -> Any:
        if value is None or value == "":
            return value
        if isinstance(value, dict | list):
            return self.mask(value)
        text = str(value)
        k = key.lower()
        if "email" in k and "@" in text:
            return f"{MASK}@{text.rsplit('@', 1)[1]}"
        if "phone" in k and len(text) > 2:
            return MASK + text[-2:]
        return MASK

    def mask(self, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: self.mask_value(k, v) if self.is_personal(str(k)) else self.mask(v)
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.mask(v) for v in data]
        return data

    def mask_text(self, body: str | bytes | None, limit: int = 20_000) -> str:
        """A payload for display: JSON is masked and pretty-printed; anything else is shown
        only as its size (it may hold personal data the masker cannot see)."""
        if body is None:
            return ""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            parsed = json.loads(text)
        except ValueError:
            return (
                f"[{len(text)} characters of non-JSON content, not shown: may hold personal data]"
            )
        shown = json.dumps(self.mask(parsed), indent=2, ensure_ascii=False, default=str)
        return shown if len(shown) <= limit else shown[:limit] + "\n… (truncated)"
