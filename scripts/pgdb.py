"""Create or drop a throwaway PostgreSQL database for one test run (used by scripts/test-all)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, name: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = f"postgresql+{driver}" if driver else parts.scheme
    return urlunsplit((scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def create(admin_url: str) -> str:
    name = f"hraniteli_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def drop(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def main() -> int:
    command, admin_url = sys.argv[1], sys.argv[2]
    try:
        if command == "create":
            print(asyncio.run(create(admin_url)))
        elif command == "drop":
            asyncio.run(drop(admin_url, sys.argv[3]))
        elif command == "url":
            print(with_database(admin_url, sys.argv[3], driver="asyncpg"))
        else:
            print(f"unknown command {command}", file=sys.stderr)
            return 2
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
