"""Key id on each audit row (HMAC chain, see kairos.audit.keys). Existing rows keep an empty key id and
their SHA-256 hashes: nothing is re-hashed.

On SQLite, adding a column with a default rebuilds the table, which drops its triggers; the append-only
triggers of migration 0002 are re-created right after (PostgreSQL adds the column in place).
"""

import importlib

from django.db import migrations, models

_0002 = importlib.import_module("kairos.audit.migrations.0002_append_only_triggers")


def _recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in _0002.SQLITE_UP:
        schema_editor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_more_actions")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(_recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
