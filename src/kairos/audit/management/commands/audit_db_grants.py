"""``manage.py audit_db_grants``: give the PostgreSQL application role its (append-only audit) rights.

Run as the owner after every ``migrate`` (docs/DEPLOYMENT.md). With ``KAIROS_DB_OWNER_URL`` set, this
command (like ``migrate``) connects as the owner, and the application role defaults to DATABASE_URL's
user::

    KAIROS_DB_OWNER_URL=postgres://kairos_owner@db/kairos manage.py migrate
    KAIROS_DB_OWNER_URL=postgres://kairos_owner@db/kairos manage.py audit_db_grants
    manage.py audit_db_grants --app-role kairos_app --print     # only print the SQL

See :mod:`kairos.audit.dbroles` for the rights granted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Grant the application role SELECT/INSERT on audit events (no UPDATE/DELETE), no DDL (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", default="", help="application role (default: DATABASE_URL's user)")
        parser.add_argument("--schema", default="public", help="schema of the Kairos tables (default public)")
        parser.add_argument("--print", action="store_true", help="print the SQL instead of running it")

    def handle(self, *args: Any, **options: Any) -> None:
        from kairos.audit.dbroles import apply_grants, grant_statements

        role = options["app_role"] or settings.DB_APP_ROLE
        if not role:
            raise CommandError("--app-role is required (DATABASE_URL names no user)")
        if options["print"]:
            for sql in grant_statements(role, connection.ops.quote_name, options["schema"]):
                self.stdout.write(sql + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError(
                f"database roles are a PostgreSQL control (this database is {connection.vendor})"
            )
        if connection.settings_dict.get("USER") == role:
            raise CommandError(
                f"connected as {role!r}, the application role itself: set KAIROS_DB_OWNER_URL to the owner's URL"
            )
        apply_grants(connection, role, options["schema"])
        self.stdout.write(f"granted application rights to {role} (append-only audit tables, no DDL)")
