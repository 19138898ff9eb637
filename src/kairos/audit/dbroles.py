"""PostgreSQL privileges of the application role: the main control of the append-only audit trail.

The owner role (``KAIROS_DB_OWNER_URL``) owns every table and runs the migrations. The application role
(``DATABASE_URL``) owns nothing, so it can run no DDL (``ALTER TABLE … DISABLE TRIGGER`` needs
ownership), and on the audit tables it holds only:

- ``audit_auditevent``: SELECT, INSERT (no UPDATE, DELETE, TRUNCATE);
- ``audit_chainhead``: SELECT, INSERT, UPDATE (appends move a head forward; the trigger of migration
  0005 refuses moving it backwards; no DELETE, TRUNCATE);
- ``django_migrations``: SELECT only.

Everything else: SELECT, INSERT, UPDATE, DELETE. The triggers stay as the second line of defence.
Re-run after every migration (new tables get no rights until then): ``manage.py audit_db_grants``
with ``KAIROS_DB_OWNER_URL`` set (see settings: that command and ``migrate`` then connect as the owner).
"""

from __future__ import annotations

from typing import Any

AUDIT_EVENTS = "audit_auditevent"
CHAIN_HEADS = "audit_chainhead"


def grant_statements(app_role: str, quote: Any, schema: str = "public") -> list[str]:
    """The SQL (idempotent) that gives ``app_role`` exactly the rights above; ``quote`` quotes a name."""
    role, sch = quote(app_role), quote(schema)
    return [
        f"REVOKE CREATE ON SCHEMA {sch} FROM PUBLIC",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {sch} FROM {role}",
        f"GRANT USAGE ON SCHEMA {sch} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sch} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {sch}.{quote(AUDIT_EVENTS)} FROM {role}",
        f"REVOKE DELETE, TRUNCATE ON {sch}.{quote(CHAIN_HEADS)} FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {sch}.{quote('django_migrations')} FROM {role}",
    ]


def apply_grants(connection: Any, app_role: str, schema: str = "public") -> list[str]:
    """Run :func:`grant_statements` on ``connection`` (the owner's, PostgreSQL only); returns the SQL."""
    if connection.vendor != "postgresql":
        raise ValueError(f"database roles are a PostgreSQL control (this database is {connection.vendor})")
    statements = grant_statements(app_role, connection.ops.quote_name, schema)
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    return statements
