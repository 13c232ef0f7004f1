"""Declarative base, naming convention, UUID keys, the aware-UTC instant type, and the check
that every stored value fits its column on SQLite as on PostgreSQL."""

from __future__ import annotations

import functools
import itertools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    TypeDecorator,
    Uuid,
    event,
    inspect,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, Session, mapped_column

from hraniteli.errors import InvalidInput

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware instants as UTC; always returns aware UTC datetimes (SQLite included)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC instant is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)


TEXT_MAX_LENGTH = 20_000
"""Characters of a Text column (or a String without a length) unless `info={"max_length": n}`."""
JSON_MAX_LENGTH = 100_000
"""Characters of a JSON column's serialised value unless `info={"max_length": n}`."""
_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))

Check = Callable[[object], str | None]
"""Why the database would refuse a value (SQLite would store it), or None if it fits."""


def _check_for(column: Column[Any]) -> Check | None:
    kind = column.type
    if isinstance(kind, String):
        chars = int(column.info.get("max_length", kind.length or TEXT_MAX_LENGTH))
        return lambda value: (
            f"at most {chars} characters" if isinstance(value, str) and len(value) > chars else None
        )
    if isinstance(kind, JSON):
        size = int(column.info.get("max_length", JSON_MAX_LENGTH))
        return lambda value: (
            f"at most {size} characters in all"
            if len(json.dumps(value, ensure_ascii=False, default=str)) > size
            else None
        )
    if isinstance(kind, Integer):
        bound = 2 ** (next(bits for cls, bits in _INTEGER_BITS if isinstance(kind, cls)) - 1)
        return lambda value: (
            f"a whole number from {-bound} to {bound - 1}"
            if isinstance(value, int) and not -bound <= value < bound
            else None
        )
    return None


@functools.cache
def _checks(mapper: Mapper[Any]) -> tuple[tuple[str, str, Check], ...]:
    """(attribute, table.column, check) of every column attribute that has a limit."""
    found = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if isinstance(column, Column) and (check := _check_for(column)) is not None:
            found.append((prop.key, f"{column.table.name}.{column.name}", check))
    return tuple(found)


@event.listens_for(Session, "before_flush")
def _refuse_values_that_do_not_fit(session: Session, _context: Any, _instances: Any) -> None:
    """Over-long text and out-of-range numbers are the caller's mistake, the same on both
    databases: SQLite does not enforce VARCHAR lengths, PostgreSQL refuses them mid-transaction.
    New rows are checked whole, changed rows only in what changed (old rows stay writable)."""
    details = []
    for instance in itertools.chain(session.new, session.dirty):
        state = inspect(instance)
        values = state.dict
        unchanged = state.unmodified if state.persistent else frozenset()
        for key, column, check in _checks(state.mapper):
            value = values.get(key)
            if value is None or key in unchanged:
                continue
            if (problem := check(value)) is not None:
                details.append({"field": key, "column": column, "message": problem})
    if details:
        first = details[0]
        message = (
            f"{first['field']}: {first['message']}"
            if len(details) == 1
            else "some values are too long or out of range"
        )
        raise InvalidInput(message, details=details)
