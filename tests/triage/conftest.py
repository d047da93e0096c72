"""Fixtures for the symptom-check tests: the shipped content, loaded once."""

from __future__ import annotations

import pytest

from bot.triage.engine import TriageEngine
from content.pack import load_texts
from content.triage_checks import Exploration, explore
from content.triage_schema import Countries, TriageFlow, load_countries, load_triage_flow


@pytest.fixture(scope="session")
def flow() -> TriageFlow:
    return load_triage_flow()


@pytest.fixture(scope="session")
def countries() -> Countries:
    return load_countries()


@pytest.fixture(scope="session")
def texts() -> dict[str, dict[str, str]]:
    return load_texts()


@pytest.fixture(scope="session")
def engine(flow: TriageFlow) -> TriageEngine:
    return TriageEngine(flow)


@pytest.fixture(scope="session")
def exploration(engine: TriageEngine) -> Exploration:
    """Every path through the shipped flow, walked once per test session."""
    return explore(engine)
