"""Production orchestration: the nightly job, its schedule, the landing-folder and run-failure sensors, and the
freshness check of the population base. Pure helpers (landing folder, failure records) carry no Dagster import."""
