"""Legal review: the legal facts a legal officer records, and what the review steps decide on (the checks per body,
the review being approved, the manager's reasons for a return)."""
