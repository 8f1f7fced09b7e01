"""The correction-task store: tasks for ward police, match review for data officers, audit log (pure library).

Entry points: ``build.build_drafts`` (findings + pairs -> drafts), ``nightly.apply_night`` (upsert by fingerprint),
``lifecycle`` (claim / release / resolve / reopen), ``reviews`` (decisions, ``load_labels`` for the matching engine),
``auth`` (accounts, sessions), ``export`` (Excel), ``db`` (engines and Alembic migrations).
"""
