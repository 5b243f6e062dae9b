"""Case documents: upload (checked by content, stored encrypted), download (audited), and their panel."""
