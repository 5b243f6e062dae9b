"""Bulk actions: one legal review applied to many cases, many reviews approved from one table, and the
progress and result page of each bulk job."""
