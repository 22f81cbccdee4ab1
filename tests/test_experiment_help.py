"""Every experiment script's --help says what each flag does and what it defaults to."""

import argparse

import pytest

from experiments import atari100k, minatar, seed_agents, sweep
from experiments.ablate import cli as ablate_cli


@pytest.mark.parametrize("module", [atari100k, minatar, seed_agents, ablate_cli, sweep])
def test_every_flag_has_help_naming_its_default(module):
    parser = module.build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue  # -h itself; positionals have no default
        assert action.help, f"{module.__name__}: {action.option_strings[0]} has no help"
        if not isinstance(action, argparse._StoreTrueAction):
            assert "default" in action.help, \
                f"{module.__name__}: {action.option_strings[0]} does not give its default"
    text = parser.format_help()  # %(default)s expands without error
    assert "usage:" in text
