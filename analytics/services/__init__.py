"""Every write of the analytics app, one module per area.

- installs: registration, on-the-fly registration of unknown installs, heartbeats
- events: usage events, one or a batch of up to 500 (all or nothing)
- reports: error reports (grouping, regression rule) and feedback
- subjects: data-subject rights (privacy preference, export, delete, anonymize)
- scrubbing: the staff dry run
- triage: staff work on error groups and feedback
- rollups: the dashboard's daily counters
- retention: the nightly purge of old raw records
- audit: the audit log every staff view and data-subject request writes to
"""
