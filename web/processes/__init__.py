"""Admin pages for the deployed processes."""
