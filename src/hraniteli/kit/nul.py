"""Text PostgreSQL cannot hold: NUL characters, found anywhere in a decoded JSON value."""

from __future__ import annotations

from typing import Any


def nul_field(value: Any, *, whole: str = "body") -> str | None:
    """Where the first string or key in `value` with a NUL character sits, as a dotted path
    (`education.0.title`; `whole` when `value` itself is that string), or None when there is none.
    PostgreSQL refuses such text, so callers answer 4xx before it can."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        found: tuple[str, ...] | None = None
        if isinstance(item, str):
            found = path if "\x00" in item else None
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    found = (*path, str(key))
                    break
                stack.append((child, (*path, str(key))))
        elif isinstance(item, list | tuple):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(item))
        if found is not None:
            return ".".join(found) or whole
    return None
