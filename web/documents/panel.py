"""The documents panel of the case page: what there is (file names only for roles that read names), downloads
for the roles that open documents, and the upload form (drawn when asked for: ``web/panel.py`` OPEN_ARG)."""

from __future__ import annotations

from typing import Any

from web.documents.forms import DocumentUploadForm, upload_form
from web.panel import CasePage
from workflow.roles import DOCUMENT_READERS, DOCUMENT_UPLOADERS, sees_names


def documents_panel(page: CasePage, posted: DocumentUploadForm | None) -> dict[str, Any]:
    role = page.actor.role
    return {
        "documents": sorted(page.read.documents, key=lambda d: (d.kind, d.version)),
        # File names are typed by people and often carry the complainant's name: only for roles that see it.
        "show_filenames": sees_names(role),
        "may_download": role in DOCUMENT_READERS,
        "may_upload": role in DOCUMENT_UPLOADERS,
        "form": (posted or upload_form(formdata=None))
        if role in DOCUMENT_UPLOADERS and page.wants_forms("documents", posted) else None,
    }
