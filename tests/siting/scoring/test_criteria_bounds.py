"""The scenario validates and orders the criterion weights by ``params.BOUND_FIELDS``."""

from __future__ import annotations

from siting.scoring.criteria import CRITERION_NAMES
from siting.scoring.params import BOUND_FIELDS, ScenarioParams


def test_bound_fields_list_every_criterion_in_order():
    assert tuple(BOUND_FIELDS) == CRITERION_NAMES


def test_default_weights_follow_the_criteria_order():
    assert tuple(ScenarioParams().weights) == CRITERION_NAMES
