"""Admin pages of the processes: every process and its versions, a version's diagram and change summary, uploading
a new version and activating one (``workflow/services/process_versions.py``)."""
