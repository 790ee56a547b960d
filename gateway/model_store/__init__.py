"""Models and provider credentials added at runtime and kept in the database
(`store_model_in_db`), with their secrets encrypted at rest."""
