"""Every write of the analytics app, one module per area.

- ingest: registration, usage events (single and batch), error reports, feedback, heartbeats
- subjects: data-subject rights (privacy preference, export, delete, anonymize)
- triage: staff work on error groups and feedback
- rollups: the dashboard's daily counters
- retention: the nightly purge of old raw records
- audit: the audit log every staff view and data-subject request writes to
"""
