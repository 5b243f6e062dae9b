"""Filing documents: render a new version, choose its language, bundle a case's filings with its annexes.

A version is a new encrypted Document row; earlier versions stay. Once a filing is checked (or later),
its documents are frozen: what a legal officer approved is what goes out.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import filings
from workflow.audit import audit
from workflow.bodies import filing_languages, get_body
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound
from workflow.models import Case, CollectiveComplaint, Document, Filing, User
from workflow.roles import FILING_BUNDLE_READERS, FILING_READERS, Role
from workflow.runtime.pending_blobs import put_generated
from workflow.services.collective_checks import exclusion_reasons
from workflow.services.documents import read_content
from workflow.services.review import approved_review
from workflow.snapshot_facts import annexed_documents
from workflow.snapshots import case_snapshot, collective_snapshot, load_cases
from workflow.states import FROZEN_FILING_STATES, DocumentKind, FilingState
from workflow.storage import DocumentStore
from workflow.uploads import DOCX, PDF
from workflow.visibility import filing_as_seen, text_fields_read


def filing_language(session: Session, body: str, chosen: str | None = None,
                    templates_dir: Path | None = None) -> str:
    """``chosen`` (the review's language for the body) when the body still offers it, else the first language the
    body accepts that has a template in ``templates_dir`` (``bodies.filing_languages``)."""
    languages = filing_languages(get_body(session, body), templates_dir)
    if chosen in languages:
        return str(chosen)
    if languages:
        return languages[0]
    raise Conflict(f"no template for {body} in a language it accepts")


def version_filename(filing: Filing, version: int, extension: str = "docx", *, edited: bool = False) -> str:
    """A version's file name: the case reference (or the complaint's), body, language and version; never a name a
    person typed (an uploaded file's own name can carry a complainant's name, and is not kept)."""
    owner = filing.case.ref if filing.case is not None else f"COL-{filing.collective_id or 0:03d}"
    return f"{owner}-{filing.body}-{filing.language}-v{version}{'-edited' if edited else ''}.{extension}"


def lacking_facts(session: Session, settings: Settings, filing: Filing) -> tuple[str, ...]:
    """The facts an individual filing prints as "[To be completed: ...]" (``filings.missing``'s keys), from the
    case as it stands now: what the legal officer still has to record, or mark "not known", before the check."""
    if filing.case is None:
        return ()
    snapshot = case_snapshot(session, filing.case, filing.body, filing.language, settings.organisation,
                             review=approved_review(session, filing.case))
    return filings.missing(snapshot, root=settings.templates_dir)


def render_case_filing(session: Session, settings: Settings, store: DocumentStore, filing: Filing,
                       actor: User | None) -> Document:
    """Render and store a new version of an individual filing; refused once the filing is frozen."""
    if filing.state in FROZEN_FILING_STATES:
        raise Conflict(f"filing {filing.id} is {filing.state} and can no longer be regenerated")
    case = filing.case
    if case is None:
        raise NotFound(f"filing {filing.id} belongs to no case")
    version = next_version(filing)
    snapshot = case_snapshot(session, case, filing.body, filing.language, settings.organisation,
                             review=approved_review(session, case), version=version)
    content = filings.render(snapshot, letterhead=settings.letterhead_bytes(), root=settings.templates_dir)
    blob = put_generated(session, store, content, DOCX)
    document = Document(case_id=case.id, filing_id=filing.id, kind=DocumentKind.FILING,
                        filename=version_filename(filing, version),
                        media_type=blob.media_type, size=blob.size, sha256=blob.sha256, storage_key=blob.key,
                        version=version, uploaded_by_id=None,
                        wording_sha256=filings.wording_sha256(filing.body, filing.language,
                                                              root=settings.templates_dir))
    session.add(document)
    session.flush()
    session.expire(filing, ["documents"])
    audit(session, actor, "filing_generated", "filing", filing.id, case.id,
          {"body": filing.body, "language": filing.language, "version": version, "document_id": document.id})
    return document


def render_collective_filing(session: Session, settings: Settings, store: DocumentStore,
                             collective: CollectiveComplaint, actor: User | None) -> Document:
    """Render and store a new version of a collective complaint; refused once its filing is frozen."""
    filing = collective.filing
    if filing is None:
        raise NotFound(f"collective complaint {collective.id} has no filing")
    if filing.state in FROZEN_FILING_STATES:
        raise Conflict(f"filing {filing.id} is {filing.state} and can no longer be regenerated")
    version = next_version(filing)
    cases = load_cases(session, [c.id for c in collective.cases])
    snapshot = collective_snapshot(
        session, cases, reference=f"COL-{collective.id:03d}", title=collective.title,
        body=collective.body, language=collective.language, organisation=settings.organisation,
        appeals_received=collective.appeals_received, narrative=dict(collective.narrative),
        officials=list(collective.officials), grounds_keys=collective.grounds, mandate_keys=collective.mandates,
        excluded=exclusion_reasons(session, collective),
        version=version)
    content = filings.render_collective(snapshot, letterhead=settings.letterhead_bytes(),
                                        root=settings.templates_dir)
    blob = put_generated(session, store, content, DOCX)
    document = Document(case_id=None, filing_id=filing.id, kind=DocumentKind.FILING,
                        filename=version_filename(filing, version),
                        media_type=blob.media_type, size=blob.size, sha256=blob.sha256, storage_key=blob.key,
                        version=version, uploaded_by_id=None,
                        wording_sha256=filings.wording_sha256(filings.COLLECTIVE, collective.language,
                                                              root=settings.templates_dir))
    session.add(document)
    session.flush()
    session.expire(filing, ["documents"])
    audit(session, actor, "filing_generated", "filing", filing.id, None,
          {"body": collective.body, "collective_id": collective.id, "language": collective.language,
           "version": version, "document_id": document.id, "cases": len(collective.cases)})
    return document


def next_version(filing: Filing) -> int:
    return max((d.version for d in filing.documents), default=0) + 1


def latest_document(filing: Filing) -> Document:
    """The current version: the latest, generated or uploaded (``services/filing_versions``). From ``checked`` on
    nothing can follow it, so it is the version that was approved, submitted and bundled."""
    documents = sorted(filing.documents, key=lambda d: d.version)
    if not documents:
        raise NotFound(f"filing {filing.id} has no document yet")
    return documents[-1]


def filing_document(session: Session, settings: Settings, actor: User, filing_id: int, *,
                    version: int | None = None, as_pdf: bool = False, channel: str) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of one version of a filing (default: the latest); audited.

    ``as_pdf`` converts with LibreOffice; a server without it answers Conflict rather than a wrong file.
    """
    if actor.role not in FILING_READERS:
        raise Forbidden("only intake staff and legal officers download filings (managers: collective complaints)")
    filing = session.get(Filing, filing_id)
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    if actor.role == Role.MANAGER and filing.kind != "collective":
        raise Forbidden("managers read collective complaints, not individual filings")
    documents = {d.version: d for d in filing.documents}
    if not documents:
        raise NotFound(f"filing {filing_id} has no document yet")
    document = documents.get(version if version is not None else max(documents))
    if document is None:
        raise NotFound(f"filing {filing_id} has no version {version}")
    content = read_content(settings, document)
    filename, media_type = document.filename, document.media_type
    if as_pdf and media_type != PDF:  # a version uploaded as a PDF is served as it is
        try:
            converted = filings.to_pdf(content)
        except filings.PdfError as err:  # LibreOffice is there but failed: say so, do not answer 500
            raise Conflict(f"PDF conversion failed ({err}); download the .docx instead") from None
        if converted is None:
            raise Conflict("PDF conversion needs LibreOffice on the server; download the .docx instead")
        content, filename, media_type = converted, filename.removesuffix(".docx") + ".pdf", "application/pdf"
    audit(session, actor, "document_downloaded", "document", document.id, filing.case_id,
          {"filing_id": filing.id, "version": document.version, "sha256": document.sha256,
           "format": "pdf" if media_type == PDF else "docx", "channel": channel})
    return filename, media_type, content


def case_bundle(session: Session, settings: Settings, actor: User, case: Case) -> tuple[str, bytes]:
    """One zip: the latest version of each of the case's filings, and the annexes its consent allows.

    Evidence (court decisions, medical reports, other evidence) goes when consent is verified; the power
    of attorney only beside an HRC filing, which requires the author's written authorisation; the form
    of appeal never (it is the NGO's own record). The download is audited with what it contained.
    """
    if actor.role not in FILING_BUNDLE_READERS:
        raise Forbidden("only intake staff and legal officers download filings")
    live = [f for f in case.filings if f.state != FilingState.CANCELLED and f.documents]
    if not live:
        raise NotFound(f"case {case.ref} has no filing documents")
    members: list[tuple[str, Document]] = [(f"filings/{latest_document(f).filename}", latest_document(f))
                                           for f in live]
    members += [(f"annexes/{d.kind}-{d.filename}", d) for d in annexed_documents(case, {f.body for f in live})]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in members:
            archive.writestr(name, read_content(settings, document))
    audit(session, actor, "filing_bundle_downloaded", "case", case.ref, case.id,
          {"documents": [d.id for _, d in members]})
    return f"{case.ref}-filings.zip", out.getvalue()


def get_filing(session: Session, filing_id: int) -> Filing:
    filing = session.scalar(select(Filing).where(Filing.id == filing_id).options(
        selectinload(Filing.documents), selectinload(Filing.responses), selectinload(Filing.case)))
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    return filing


def filing_versions(session: Session, filing_ids: list[int]) -> dict[int, list[Document]]:
    """filing id -> its versions (generated and uploaded), oldest first."""
    found: dict[int, list[Document]] = {filing_id: [] for filing_id in filing_ids}
    if filing_ids:
        query = select(Document).where(Document.filing_id.in_(filing_ids), Document.kind == DocumentKind.FILING)
        for document in session.scalars(query.order_by(Document.filing_id, Document.version)):
            found[document.filing_id or 0].append(document)
    return found


def read_filing(session: Session, actor: User, filing_id: int, *, role: str, channel: str) -> Any:
    """A filing as ``role`` may read it (``visibility.filing_as_seen``). Reading an individual filing's response
    summaries, which are about one person, is audited as ``identity_read`` naming the fields (never the values),
    as the case page's read is. Raises NotFound."""
    filing = get_filing(session, filing_id)
    if filing.case_id is not None and filing.responses and (texts := text_fields_read(role, ["responses"])):
        audit(session, actor, "identity_read", "filing", filing.id, filing.case_id,
              {"fields": texts, "channel": channel})
    return filing_as_seen(role, filing)
