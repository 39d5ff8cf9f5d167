"""PostgreSQL: drop ``cerebro_memory_lexeme_shares`` (migration 0005).

The working set's terms are weighed in Python now (cerebro/retrieval/memory_sql.py,
``conversation_terms``), with the lexeme statistics each process reads from ``pg_stats`` at most
every ``CEREBRO_LEXEME_STATISTICS_SECONDS``: the function read and parsed them on every request,
about 1.5 ms of the statement. Reversing recreates the function.
"""

import importlib

from django.db import migrations

lexeme_statistics_function = importlib.import_module("cerebro.migrations.0005_lexeme_statistics_function")


class Migration(migrations.Migration):
    dependencies = [("cerebro", "0006_covering_working_set_indexes")]

    operations = [migrations.RunPython(lexeme_statistics_function.drop, lexeme_statistics_function.create)]
