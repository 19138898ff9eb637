"""``manage.py audit_db_grants``: give the PostgreSQL application role its (append-only audit) rights.

Run as the owner after every ``migrate`` (docs/DEPLOYMENT.md)::

    manage.py migrate --database owner
    manage.py audit_db_grants --database owner            # role: DATABASE_URL's user
    manage.py audit_db_grants --app-role kairos_app --print   # only print the SQL

See :mod:`kairos.audit.dbroles` for the rights granted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections


class Command(BaseCommand):
    help = "Grant the application role SELECT/INSERT on audit events (no UPDATE/DELETE), no DDL (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default="owner" if "owner" in settings.DATABASES else "default",
            help="connection alias to run the grants on (the owner's; default 'owner' when configured)",
        )
        parser.add_argument("--app-role", default="", help="application role (default: DATABASE_URL's user)")
        parser.add_argument("--schema", default="public", help="schema of the Kairos tables (default public)")
        parser.add_argument("--print", action="store_true", help="print the SQL instead of running it")

    def handle(self, *args: Any, **options: Any) -> None:
        from kairos.audit.dbroles import apply_grants, grant_statements

        role = options["app_role"] or settings.DATABASES["default"].get("USER", "")
        if not role:
            raise CommandError("--app-role is required (DATABASE_URL names no user)")
        if options["database"] not in settings.DATABASES:
            raise CommandError(f"--database {options['database']!r} is not configured (KAIROS_DB_OWNER_URL?)")
        connection = connections[options["database"]]
        if options["print"]:
            for sql in grant_statements(role, connection.ops.quote_name, options["schema"]):
                self.stdout.write(sql + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError(
                f"database roles are a PostgreSQL control (this database is {connection.vendor})"
            )
        owner = connection.settings_dict.get("USER", "")
        if owner and owner == role:
            raise CommandError(
                f"--database {options['database']!r} connects as {role!r}, the application role itself"
            )
        apply_grants(connection, role, options["schema"])
        self.stdout.write(f"granted application rights to {role} (append-only audit tables, no DDL)")
