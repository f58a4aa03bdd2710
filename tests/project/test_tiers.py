"""The two test tiers: the fast tier (./scripts/test --fast) runs every test not marked slow,
each property test at a few examples; the full tier (./scripts/test) runs every test, each
property test at its full count. Nothing is left out of the full tier."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import settings

from helpers import FAST_EXAMPLES, FAST_PROFILE, ROOT, examples


@pytest.fixture
def profile() -> Iterator[None]:
    """Whatever profile a test loads, the one this run uses is loaded again afterwards."""
    current = settings.get_current_profile_name()
    yield
    settings.load_profile(current)


def test_a_property_test_runs_its_full_count_in_the_full_tier_and_a_few_in_the_fast(
    profile: None,
) -> None:
    """examples(N) is N under Hypothesis' default profile (the full tier) and at most
    FAST_EXAMPLES under the fast tier's profile."""
    settings.load_profile("default")
    assert examples(1500) == 1500
    settings.load_profile(FAST_PROFILE)
    assert examples(1500) == FAST_EXAMPLES
    assert examples(FAST_EXAMPLES - 1) == FAST_EXAMPLES - 1
    default = settings.default
    assert default is not None
    assert default.max_examples == FAST_EXAMPLES  # a @given with no count, too


def test_every_property_test_asks_for_its_count_through_examples() -> None:
    """No test names a literal example count (which would run in full in the fast tier):
    each max_examples is examples(N)."""
    literal = re.compile(r"max_examples\s*=(?!=)\s*(?!examples\()")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []


def test_the_fast_tier_loads_the_fast_profile() -> None:
    """./scripts/test --fast leaves out the slow tests and loads the fast profile."""
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    (fast,) = [line for line in script.splitlines() if "-m pytest" in line and "not slow" in line]
    assert f"--hypothesis-profile={FAST_PROFILE}" in fast


def test_the_docs_give_the_fast_tiers_example_count() -> None:
    """README and CONTRIBUTING give the fast tier's example count that the tests use."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    contributing = " ".join((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split())
    assert f"each property test at {FAST_EXAMPLES} examples at most" in readme
    assert f"at most {FAST_EXAMPLES} in the fast" in contributing
