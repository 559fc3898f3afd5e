"""Loading the shipped policy packs: what the engine reads of an indicator is computed right, once."""

from devops_audit.policy import load_policies


def test_required_namespaces_are_every_namespace_read_in_order_once() -> None:
    for indicator in load_policies(compile_all=False).indicators:
        expected = list(dict.fromkeys([*indicator.evidence, *indicator.evidence_any,
                                       *(n for p in indicator.parts for n in [*p.evidence, *p.evidence_any])]))
        assert indicator.required_namespaces == expected
        assert indicator.required_namespaces is indicator.required_namespaces  # computed once
        for part in indicator.parts:
            assert part.required_namespaces == [*part.evidence, *part.evidence_any]
