"""The flow-node coverage check (tests/bpmn_coverage.py) lists every node, records only what was reached, and fails
naming what was not: tests that can fail."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from tests import bpmn_coverage
from tests.bpmn_coverage import BPMN_DIR, Recorder, flow_nodes, reached_in, shipped_flow_nodes, summary, whole_suite
from tests.helpers import case_instance, open_sample_case
from workflow.models import Case
from workflow.services import processes
from workflow.services.consent import withdraw_consent

NS = {"bpmn": bpmn_coverage.BPMN_NS}
SHIPPED = sorted(BPMN_DIR.glob("*.bpmn"))


def test_the_listing_finds_every_node_a_sequence_flow_joins_and_nothing_else() -> None:
    """Counted independently: every flow node of our files is the source or target of a sequence flow, and has
    an incoming or outgoing reference; lanes, flows, messages and diagram elements have neither."""
    assert [p.name for p in SHIPPED] == ["case.bpmn", "collective_complaint.bpmn", "filing.bpmn"]
    for path in SHIPPED:
        tree = etree.parse(str(path))
        nodes = flow_nodes(path)
        ids = [node.id for node in nodes]
        joined = set(tree.xpath("//bpmn:process//bpmn:sequenceFlow/@sourceRef", namespaces=NS)) \
            | set(tree.xpath("//bpmn:process//bpmn:sequenceFlow/@targetRef", namespaces=NS))
        connected = tree.xpath("count(//bpmn:process//*[bpmn:incoming or bpmn:outgoing])", namespaces=NS)
        assert len(ids) == len(set(ids)) == len(joined) == connected, path.name
        assert set(ids) == joined, path.name
    kinds = {node.id: node.kind for node in shipped_flow_nodes() if node.file == "case.bpmn"}
    assert (kinds["case_work"], kinds["consent_sla"], kinds["filings"], kinds["gw_urgent"]) == (
        "subProcess", "boundaryEvent", "callActivity", "exclusiveGateway")
    assert "lane_intake" not in kinds and "to_case_work" not in kinds and "msg_consent_withdrawn" not in kinds


def test_a_diagram_and_a_collaboration_add_no_flow_node(tmp_path: Path) -> None:
    """Other work adds bpmndi sections and pools to the files: shapes and participants are not flow nodes."""
    source = (BPMN_DIR / "collective_complaint.bpmn").read_text(encoding="utf-8")
    decorated = source.replace(
        "<bpmn:definitions ",
        '<bpmn:definitions xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ',
    ).replace(
        "</bpmn:definitions>",
        '<bpmn:collaboration id="collab"><bpmn:participant id="pool" processRef="collective_complaint" />'
        '</bpmn:collaboration>'
        '<bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="collab">'
        '<bpmndi:BPMNShape id="collective_start_di" bpmnElement="collective_start">'
        '<dc:Bounds x="0" y="0" width="36" height="36" /></bpmndi:BPMNShape>'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>",
    )
    copy = tmp_path / "collective_complaint.bpmn"
    copy.write_text(decorated, encoding="utf-8")
    assert "BPMNShape" in decorated and "participant" in decorated
    assert flow_nodes(copy) == flow_nodes(BPMN_DIR / "collective_complaint.bpmn")
    assert [n.id for n in flow_nodes(copy)] == ["collective_start", "collective_filing", "collective_end"]


def test_the_check_names_the_one_node_no_test_reached() -> None:
    nodes = shipped_flow_nodes()
    everything = {(node.file, node.id) for node in nodes}
    assert summary(nodes, everything) == (f"BPMN flow nodes reached: {len(nodes)}/{len(nodes)}", [])
    line, missing = summary(nodes, everything - {("case.bpmn", "inform_body")})
    assert line == f"BPMN flow nodes reached: {len(nodes) - 1}/{len(nodes)}"
    assert [node.describe() for node in missing] == [
        "case.bpmn: inform_body (Inform the body of the withdrawal) [userTask]"]
    # The same id in another file is another node: filing.bpmn's start does not stand for case.bpmn's.
    _line, missing = summary(nodes, everything - {("case.bpmn", "start")} | {("filing.bpmn", "start")})
    assert [(node.file, node.id) for node in missing] == [("case.bpmn", "start")]


def test_only_a_whole_sqlite_selection_is_checked() -> None:
    tests = str(Path(bpmn_coverage.__file__).parent)
    plain = Namespace(keyword="", markexpr="", deselect=None, ignore=None, collectonly=False)
    assert whole_suite([tests], plain, ["sqlite"])
    assert whole_suite([tests], plain, ["sqlite", "postgresql"])
    assert not whole_suite([tests], plain, ["postgresql"])  # CI's PostgreSQL half
    assert not whole_suite([f"{tests}/workflow"], plain, ["sqlite"])
    assert not whole_suite([f"{tests}/test_layers.py::test_x"], plain, ["sqlite"])
    for narrowed in ({"keyword": "process"}, {"markexpr": "db"}, {"deselect": ["tests/x.py::t"]},
                     {"ignore": ["tests/e2e"]}, {"lf": True}, {"collectonly": True}):
        assert not whole_suite([tests], Namespace(**{**vars(plain), **narrowed}), ["sqlite"]), narrowed


def test_reached_means_ready_waiting_or_done_never_only_predicted(env, staff) -> None:
    """A withdrawn case: the consent task and its timer were reached (then cancelled); legal review, only ever
    predicted, was not; the withdrawal branch ran to its end."""
    recorder = Recorder()
    recorder.install()  # over the session's own recorder: both see every save
    try:
        open_sample_case(env, "APL-701")  # imported: waits at verify_consent with its service-level timer
        with env.uow() as session:
            loaded = processes.load(session, env.settings, case_instance(session, "APL-701"), None)
            assert {("case.bpmn", "verify_consent"), ("case.bpmn", "consent_sla")} <= reached_in(loaded.workflow)
            assert ("case.bpmn", "legal_review") not in reached_in(loaded.workflow)  # predicted only
            case = session.scalar(select(Case).where(Case.ref == "APL-701"))
            withdraw_consent(session, env.settings, env.user(session, "ina"), case, "Changed their mind.")
            final = processes.load(session, env.settings, case_instance(session, "APL-701"), None)
    finally:
        recorder.uninstall()
    now = reached_in(final.workflow)
    assert ("case.bpmn", "verify_consent") not in now  # cancelled now: this state alone would miss it...
    reached = recorder.reached
    assert {("case.bpmn", "verify_consent"), ("case.bpmn", "consent_sla")} <= reached  # ...the earlier save did not
    assert {("case.bpmn", i) for i in ("consent_withdrawn", "withdraw_filings", "set_withdrawn", "end_withdrawn")} \
        <= reached
    assert not {("case.bpmn", i) for i in ("legal_review", "complete_intake", "inform_body", "end_case")} & reached
    assert recorder.saves == 2  # the start and the withdrawal
