"""On PostgreSQL, refuse UPDATE and DELETE of ledger transactions in the database itself.

SQLite has no such trigger here; the model and its queryset refuse there (and everywhere).
TRUNCATE is left alone: test databases are emptied with it, and it needs table ownership anyway.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_transaction_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger transactions are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_transaction_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_ledgertransaction;
DROP FUNCTION IF EXISTS ledger_transaction_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
