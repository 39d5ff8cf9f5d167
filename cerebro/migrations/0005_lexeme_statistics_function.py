"""PostgreSQL: ``cerebro_memory_lexeme_statistics()``, the sampled statistics of ``search_vector``.

The working set weighs the conversation's terms by how common they are among memories
(cerebro/retrieval/memory_sql.py), read from ``pg_stats``. Read inline, that view costs the working
set statement about a millisecond of planning on every request (the view's definition is expanded
and planned each time); behind a PL/pgSQL function its query is planned once per connection.
SQLite gets nothing here: the embedded default counts document frequencies itself.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION cerebro_memory_lexeme_statistics() RETURNS TABLE (lexemes text[], shares real[])
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- The most common lexemes of memories' search_vector as ANALYZE last sampled them, and the
    -- share of rows holding each (followed by the least and greatest share and the null share).
    RETURN QUERY
        SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs
        FROM pg_stats s
        WHERE s.schemaname = current_schema() AND s.tablename = 'cerebro_memory'
          AND s.attname = 'search_vector' AND NOT s.inherited;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS cerebro_memory_lexeme_statistics();"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cerebro", "0004_working_set_indexes")]

    operations = [migrations.RunPython(create, drop)]
