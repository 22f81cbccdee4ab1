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


@pytest.mark.parametrize("module, args", [
    ("experiments.ablate", []), ("experiments.sweep", []), ("experiments.atari100k", []),
    ("experiments.minatar", []), ("experiments.seed_agents", ["lunarlander"])])
def test_an_output_folder_that_cannot_be_written_is_one_line_before_any_work(
        module, args, tmp_path, capsys):
    import importlib

    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the output folder's parent should be
    try:  # a script reports through its parser (SystemExit) or returns the code
        code = importlib.import_module(module).main([*args, "--out", str(blocked / "out")])
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is a file" in err[0], err
