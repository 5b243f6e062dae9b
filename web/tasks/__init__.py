"""Task completion for cases and collective complaints alike: the forms drawn from each task's JSON Schema, the
ready tasks as page panels, and the route that completes one."""
