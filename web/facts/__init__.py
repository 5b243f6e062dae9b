"""Facts for the filings on the case page: the person's facts, perpetrators, incidents, arrests and custody,
ill-treatment and remedy steps, and what a person marked "not known" (``workflow/services/facts.py``)."""
