"""Protect the chain heads like the events: refuse DELETE (and TRUNCATE) of a head, and any UPDATE that
moves a head backwards (seq decreasing, last_hash changing without seq increasing) or renames its chain.

Without this an insider could cut the tail of a chain and rewind its head, and the chain would still
verify. Appends (seq + 1, new hash) pass.
"""

from django.db import migrations

_REWIND = (
    "NEW.seq < OLD.seq OR NEW.chain <> OLD.chain OR (NEW.last_hash <> OLD.last_hash AND NEW.seq <= OLD.seq)"
)

SQLITE_UP = [
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_chainhead
       BEGIN SELECT RAISE(ABORT, 'audit chain heads cannot be deleted'); END;""",
    f"""CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_chainhead WHEN {_REWIND}
       BEGIN SELECT RAISE(ABORT, 'audit chain heads only move forward'); END;""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_head_no_delete;", "DROP TRIGGER IF EXISTS audit_head_no_rewind;"]

PG_UP = [
    f"""CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF {_REWIND} THEN RAISE EXCEPTION 'audit chain heads only move forward'; END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit chain heads cannot be deleted';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_chainhead
       FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_chainhead
       FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only();""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_chainhead;",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_chainhead;",
    "DROP FUNCTION IF EXISTS audit_head_forward_only();",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements_by_vendor:
            raise RuntimeError(f"no chain-head triggers for database vendor {vendor!r}")
        for sql in statements_by_vendor[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_auditevent_key_id")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
