"""My tasks: the ready tasks of the user's team, overdue first, and the alerts addressed to managers."""
