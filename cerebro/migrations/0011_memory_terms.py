"""``cerebro_memoryterm``: each memory's lexemes with their full-text weights, kept by triggers.

The working set ranks every memory holding one of the conversation's terms. Read from
``cerebro_memory`` that is a heap visit and a ``ts_rank`` per match (about 1.4 microseconds each);
read from here it is one index-only scan of ``cerebro_memoryterm_lookup`` and a sum per memory.

On PostgreSQL, ``cerebro_memory_terms_sync`` rewrites a memory's rows after it is inserted or
deleted, and after an update that changes what they copy (its text's vector, layer, confidence,
sensitivity, times, owner); ``secret`` and ``pii`` memories get none, as the working set never
shows them. ``cerebro_lexeme_rank_weight`` is the weight ``ts_rank`` gives one lexeme of a document
(``calc_rank_or`` in PostgreSQL's tsrank.c, default weights D 0.1, C 0.2, B 0.4, A 1.0): over its
positions in order, j from 1, ``(w_max + sum(w_j / j^2) - w_max / j_max^2) / 1.64493406685``, where
w_max is the greatest position weight and j_max its first position. Existing memories are filled
in here. SQLite gets the empty table only.
"""

from django.db import migrations, models

CREATE = """
CREATE FUNCTION cerebro_lexeme_rank_weight(weights text[]) RETURNS float8
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total float8 := 0;
    strongest float8 := -1;
    strongest_at int := 1;
    weight float8;
    position_number int := 0;
    class text;
BEGIN
    -- A lexeme stored without positions counts as one position of weight D, as in ts_rank.
    FOREACH class IN ARRAY COALESCE(weights, ARRAY['D']) LOOP
        position_number := position_number + 1;
        weight := CASE class WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.2 ELSE 0.1 END;
        total := total + weight / (position_number * position_number);
        IF weight > strongest THEN
            strongest := weight;
            strongest_at := position_number;
        END IF;
    END LOOP;
    RETURN (strongest + total - strongest / (strongest_at * strongest_at)) / 1.64493406685;
END
$$;

CREATE FUNCTION cerebro_memory_terms_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM cerebro_memoryterm WHERE memory_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.search_vector IS NOT NULL AND NOT (NEW.sensitivity IN ('pii', 'secret')) THEN
        INSERT INTO cerebro_memoryterm (memory_id, lexeme, user_id, weight, layer, confidence, updated_at, expires_at)
        SELECT NEW.id, t.lexeme, NEW.user_id, cerebro_lexeme_rank_weight(t.weights),
               NEW.layer, NEW.confidence, NEW.updated_at, NEW.expires_at
        FROM unnest(NEW.search_vector) AS t;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cerebro_memory_terms_written AFTER INSERT OR DELETE ON cerebro_memory
    FOR EACH ROW EXECUTE FUNCTION cerebro_memory_terms_sync();
CREATE TRIGGER cerebro_memory_terms_changed AFTER UPDATE ON cerebro_memory
    FOR EACH ROW WHEN (
        (OLD.search_vector, OLD.layer, OLD.confidence, OLD.sensitivity, OLD.updated_at, OLD.expires_at, OLD.user_id, OLD.id)
        IS DISTINCT FROM
        (NEW.search_vector, NEW.layer, NEW.confidence, NEW.sensitivity, NEW.updated_at, NEW.expires_at, NEW.user_id, NEW.id)
    )
    EXECUTE FUNCTION cerebro_memory_terms_sync();

INSERT INTO cerebro_memoryterm (memory_id, lexeme, user_id, weight, layer, confidence, updated_at, expires_at)
SELECT m.id, t.lexeme, m.user_id, cerebro_lexeme_rank_weight(t.weights), m.layer, m.confidence, m.updated_at, m.expires_at
FROM cerebro_memory m CROSS JOIN unnest(m.search_vector) AS t
WHERE m.search_vector IS NOT NULL AND NOT (m.sensitivity IN ('pii', 'secret'));
"""

DROP = """
DROP TRIGGER IF EXISTS cerebro_memory_terms_changed ON cerebro_memory;
DROP TRIGGER IF EXISTS cerebro_memory_terms_written ON cerebro_memory;
DROP FUNCTION IF EXISTS cerebro_memory_terms_sync();
DROP FUNCTION IF EXISTS cerebro_lexeme_rank_weight(text[]);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cerebro", "0010_reembed_with_snowball_terms"),
    ]

    operations = [
        migrations.CreateModel(
            name="MemoryTerm",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "memory_id", "lexeme", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("memory_id", models.UUIDField()),
                ("lexeme", models.TextField()),
                ("user_id", models.UUIDField()),
                ("weight", models.FloatField()),
                (
                    "layer",
                    models.CharField(
                        choices=[("context", "Context"), ("temporary", "Temporary"), ("permanent", "Permanent")],
                        max_length=16,
                    ),
                ),
                ("confidence", models.FloatField()),
                ("updated_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["user_id", "lexeme"],
                        include=("memory_id", "weight", "layer", "confidence", "updated_at", "expires_at"),
                        name="cerebro_memoryterm_lookup",
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
