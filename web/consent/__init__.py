"""Consent: what the complainant allows, its withdrawal, and the pre-filled forms the complainant signs."""
