"""The pinto pipeline runner: steps, typeo tables, .env, per-project environments."""
