"""PostgreSQL full-text search: triggers keep ``search_vector`` in step with the text, GIN indexes.

The english configuration (stemming, stop words) is used for memories and knowledge chunks alike.
SQLite gets nothing here: the embedded default ranks in Python (cerebro/retrieval/text.py).
"""

from django.db import migrations

CREATE = """
CREATE TRIGGER cerebro_memory_search_vector
    BEFORE INSERT OR UPDATE OF search_text ON cerebro_memory
    FOR EACH ROW EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', search_text);
CREATE TRIGGER cerebro_chunk_search_vector
    BEFORE INSERT OR UPDATE OF text ON cerebro_knowledgechunk
    FOR EACH ROW EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', text);
CREATE INDEX cerebro_memory_search_gin ON cerebro_memory USING gin (search_vector);
CREATE INDEX cerebro_memory_tags_gin ON cerebro_memory USING gin (tags jsonb_path_ops);
CREATE INDEX cerebro_chunk_search_gin ON cerebro_knowledgechunk USING gin (search_vector);
"""

DROP = """
DROP INDEX IF EXISTS cerebro_chunk_search_gin;
DROP INDEX IF EXISTS cerebro_memory_tags_gin;
DROP INDEX IF EXISTS cerebro_memory_search_gin;
DROP TRIGGER IF EXISTS cerebro_chunk_search_vector ON cerebro_knowledgechunk;
DROP TRIGGER IF EXISTS cerebro_memory_search_vector ON cerebro_memory;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cerebro", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
