"""Admin pages for process instances in error (retry, reset to an earlier task) and the case page's notice."""
