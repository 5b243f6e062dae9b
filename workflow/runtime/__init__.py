"""The SpiffWorkflow wrapper: specs and versions, restricted scripts, serialization, load/complete/save."""
