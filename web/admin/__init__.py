"""Admin pages: user accounts, the catalogue of bodies and the controlled vocabularies, each change audited."""
