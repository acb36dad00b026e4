"""The products stream's cursor: which catalogue files are done, and how far into the current one.

Encoded as compact JSON (opaque to everyone else)::

    {"v": 1, "done": {"<file>": "<identity>"}, "at": {"file": ..., "id": ..., "n": 1000}}

- ``done``: files read to their end (well-formed or quarantined), each with its identity
  (``size:mtime``): the same name with another identity is a new file and is read again.
  Entries of files that are no longer in the folder are dropped at the next read, so the
  cursor stays as small as the folder.
- ``at``: a file read part of the way: the next read re-parses it from the start without
  yielding the first ``n`` products (nothing is yielded twice), provided its identity is
  unchanged; otherwise the file is read from its first product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from canonical.errors import PermanentError

VERSION = 1


@dataclass
class FileCursor:
    done: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    identity: str | None = None
    products: int = 0

    @classmethod
    def decode(cls, text: str | None) -> FileCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            at = data.get("at") or {}
            done = {str(k): str(v) for k, v in (data.get("done") or {}).items()}
            return cls(done, at.get("file"), at.get("id"), int(at.get("n") or 0))
        except (ValueError, TypeError, AttributeError) as exc:
            raise PermanentError(
                f"pdm products cursor is not one this connector wrote: {exc}"
            ) from exc

    def encode(self) -> str:
        data: dict[str, object] = {"v": VERSION, "done": dict(sorted(self.done.items()))}
        if self.file is not None:
            data["at"] = {"file": self.file, "id": self.identity, "n": self.products}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def is_done(self, name: str, identity: str) -> bool:
        return self.done.get(name) == identity

    def resume_at(self, name: str, identity: str) -> int:
        """Products of ``name`` already delivered (0 unless it was left part of the way)."""
        if self.file == name and self.identity == identity:
            return self.products
        return 0

    def keep_only(self, names: Iterable[str]) -> None:
        present = set(names)
        self.done = {k: v for k, v in self.done.items() if k in present}

    def at(self, name: str, identity: str, products: int) -> str:
        self.file, self.identity, self.products = name, identity, products
        return self.encode()

    def finish(self, name: str, identity: str) -> str:
        self.done[name] = identity
        self.file, self.identity, self.products = None, None, 0
        return self.encode()
