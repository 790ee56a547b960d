"""Budgets beyond a key's own `max_budget`: budget objects referenced by `budget_id`,
per-model key budgets (`model_max_budget`) and alert-only `soft_budget`s."""
