"""Re-embed stored vectors after the stemmer change (Snowball's English stemmer, as PostgreSQL's).

The hashing embedder's features are the index terms of cerebro/retrieval/text.py, so vectors stored
before the change hold the old stems while queries are now embedded with the new ones: a permanent
memory or a document chunk would lose similarity to a query saying the same words. Every stored
vector is recomputed here from the text it was made from (a memory's ``search_text``, a chunk's
``text``), on both backends. Nothing else needs it: search terms are not stored (``search_text``
keeps the words, stemmed at query time on SQLite and by the trigger's english configuration on
PostgreSQL).

Only the hashing embedder reads the terms; another configured embedder (a semantic model) keeps
its vectors. Reversing is a no-op: the vectors stay those of today's terms.
"""

from django.db import migrations

BATCH = 500


def _reembed(queryset, text_field: str, embedder) -> None:
    """Recompute ``embedding`` from ``text_field``, a page of rows at a time (in primary-key order,
    so no cursor stays open over the rows being written)."""
    last_pk = None
    while True:
        page = queryset.order_by("pk") if last_pk is None else queryset.filter(pk__gt=last_pk).order_by("pk")
        rows = list(page.only("pk", text_field)[:BATCH])
        if not rows:
            return
        for row in rows:
            row.embedding = embedder.embed(getattr(row, text_field))
        queryset.model.objects.bulk_update(rows, ["embedding"])
        last_pk = rows[-1].pk


def reembed_with_current_terms(apps, schema_editor) -> None:
    from cerebro.retrieval.embedders import HashingEmbedder, get_embedder

    embedder = get_embedder()
    if not isinstance(embedder, HashingEmbedder):
        return
    memory = apps.get_model("cerebro", "Memory")
    chunk = apps.get_model("cerebro", "KnowledgeChunk")
    _reembed(memory.objects.filter(embedding__isnull=False), "search_text", embedder)
    _reembed(chunk.objects.all(), "text", embedder)


class Migration(migrations.Migration):
    dependencies = [
        ("cerebro", "0009_client_votes_documents"),
    ]

    operations = [
        migrations.RunPython(reembed_with_current_terms, migrations.RunPython.noop, elidable=True),
    ]
