"""Each IVOA fact is written once: every standard identifier, XML namespace and schema location the
code writes into a document comes from ivoa/vocabulary.py, so a new version of a standard cannot
leave /capabilities and the registry record disagreeing. Read from the source (no database)."""

from __future__ import annotations

import ast
from pathlib import Path

from dalserver.registry.oai import OAIErrorCode
from dalserver.uws.jobs import ACTIVE, FINAL, ExecutionPhase
from ivoa.vocabulary import CANONICAL_PREFIXES, Namespace, SchemaLocation, StandardID

ROOT = Path(__file__).resolve().parent.parent
THE_MODULE = ROOT / "ivoa" / "vocabulary.py"
PACKAGES = ("adql", "archive_io", "dalserver", "data_ingest", "hips_build", "ivoa", "pgsql_text", "schemas", "bench")
# What marks a literal as one of the facts: the IVOA's identifiers and namespaces, and the other
# namespaces its documents declare (W3C's, OAI-PMH's, Dublin Core's).
FACTS = (
    "ivo://ivoa.net/std/",
    "http://www.ivoa.net/xml/",
    "http://www.w3.org/",
    "http://www.openarchives.org/",
    "http://purl.org/dc/",
)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants (prose may name a standard)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _facts_written_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = _docstrings(tree)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and any(fact in node.value for fact in FACTS)
    ]


def test_no_module_but_the_vocabulary_writes_an_ivoa_identifier_or_namespace() -> None:
    sources = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")) if p != THE_MODULE]
    assert len(sources) > 100
    written = [fact for path in sources for fact in _facts_written_in(path)]
    assert not written, "write these in ivoa/vocabulary.py and use them from there:\n" + "\n".join(written)


def test_the_vocabulary_itself_is_seen_by_the_scan() -> None:
    # the scan would find the facts if they were anywhere else: here they are
    assert len(_facts_written_in(THE_MODULE)) > 40


def test_each_identifier_and_namespace_is_written_once() -> None:
    for group in (StandardID, Namespace, SchemaLocation):
        values = [v for k, v in vars(group).items() if not k.startswith("_")]
        repeated = {v for v in values if values.count(v) > 1}
        # the VOTable schema is published under its namespace: one fact, named where it is used
        assert repeated <= {Namespace.VOTABLE}, (group.__name__, repeated)
    assert set(CANONICAL_PREFIXES) <= {v for k, v in vars(Namespace).items() if not k.startswith("_")}


def test_uws_phases_are_one_enum_and_every_phase_is_active_or_final_or_unknown() -> None:
    assert [p.value for p in ExecutionPhase] == [p.name for p in ExecutionPhase]
    assert set(ACTIVE).isdisjoint(FINAL)
    assert set(ExecutionPhase) == {*ACTIVE, *FINAL, ExecutionPhase.UNKNOWN}


def test_oai_pmh_error_codes_are_the_protocols_eight() -> None:
    # OAI-PMH 2.0 section 3.6
    assert {c.value for c in OAIErrorCode} == {
        "badArgument",
        "badResumptionToken",
        "badVerb",
        "cannotDisseminateFormat",
        "idDoesNotExist",
        "noRecordsMatch",
        "noMetadataFormats",
        "noSetHierarchy",
    }
