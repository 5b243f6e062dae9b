"""Where a case or a collective complaint stands in its process: the diagrams, the position, the steps."""
