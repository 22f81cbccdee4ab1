"""The Rainbow family's agents solve CartPole as Nature DQN does (test_cartpole.py: the
agents, the bar and the budget). A file of its own so that the two halves of the solve
tests run in different xdist workers (the suite distributes whole files)."""

import pytest

from test_cartpole import AGENTS, CLASSIC, assert_solves


@pytest.mark.parametrize("agent", [name for name in AGENTS if name not in CLASSIC])
def test_each_rainbow_family_agent_solves_cartpole(tmp_path, agent):
    assert_solves(agent, str(tmp_path))
