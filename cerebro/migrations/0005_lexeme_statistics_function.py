"""PostgreSQL: ``cerebro_memory_lexeme_shares(lexemes)``, how common lexemes are among memories.

The working set weighs the conversation's terms by how common they are among memories
(cerebro/retrieval/memory_sql.py), as ANALYZE sampled them (``pg_stats``). Read inline, that view
costs the working set statement about a millisecond of planning on every request (the view's
definition is expanded and planned each time); behind a PL/pgSQL function its query is planned once
per connection, and the conversation's lexemes are looked up in one hash join.
SQLite gets nothing here: the embedded default counts document frequencies itself.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION cerebro_memory_lexeme_shares(wanted text[])
    RETURNS TABLE (lexeme text, share real, least_share real)
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- For each wanted lexeme: the share of memories holding it, if ANALYZE found it among the most
    -- common lexemes of search_vector, and the least share of those (NULL without statistics).
    RETURN QUERY
        WITH statistics AS (
            SELECT s.most_common_elems::text::text[] AS lexemes, s.most_common_elem_freqs AS shares
            FROM pg_stats s
            WHERE s.schemaname = current_schema() AND s.tablename = 'cerebro_memory'
              AND s.attname = 'search_vector' AND NOT s.inherited
        ), listed AS (
            SELECT l.lexeme, l.share
            FROM statistics, unnest(statistics.lexemes, statistics.shares) AS l(lexeme, share)
            WHERE l.lexeme IS NOT NULL
        )
        SELECT w.lexeme, listed.share,
               (SELECT st.shares[cardinality(st.shares) - 2] FROM statistics st)
        FROM unnest(wanted) AS w(lexeme) LEFT JOIN listed ON listed.lexeme = w.lexeme;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS cerebro_memory_lexeme_shares(text[]);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cerebro", "0004_working_set_indexes")]

    operations = [migrations.RunPython(create, drop)]
