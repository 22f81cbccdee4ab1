"""Command line: `purejaxdqn train|presets|watch|plot` (also `python -m purejaxdqn`).

Every Config field is a flag (`--total-steps 100000`, `--dueling true`);
`--game`/`--env` name the environment. Bad input exits with code 2 and one
line on stderr before anything is written; a run stopped by SIGINT exits 130,
by SIGTERM 143 (after saving a checkpoint), a run whose learning diverged (non-finite
loss, Q-values or parameters) 3 with one line (its last finite checkpoint kept), a
finished run 0.

argparse, not tyro: tyro's bad-input report is a multi-line rich panel, ours must be
one line; every script reads a field's value with `fieldparse.parse_field` (see there).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Any, Sequence

from purejaxdqn import __version__
from purejaxdqn.config import FIELD_CHOICES, Config, ConfigError, fields_by_name
from purejaxdqn.presets import PRESETS, get_preset
from purejaxdqn.run.preflight import (RESUME_MAY_CHANGE, check_memory, check_new_run_dir,
                                      check_resume_flags, check_unedited, check_writable,
                                      clear_run_dir, flag, preset_for_env, run_dir_problem)
from purejaxdqn.settings import help_of
from purejaxdqn.tools.fieldparse import field_kind, parse_field

RESERVED = {"env_id"}  # spelled --game / --env
# --quick: a whole run (warm-up, learning, a checkpoint, the final evaluation) in about
# two minutes on 2 CPU cores, whatever the preset: to see it work end to end
QUICK = {"total_steps": 4_000, "warmup_steps": 1_000, "replay_capacity": 8_000,
         "log_every": 1_000, "eval_every": 4_000, "eval_episodes": 2, "checkpoint_every": 4_000}
# 128 + signal number, as a shell reports a process the signal ended (ablate uses the same)
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143,
              "diverged": 3}  # non-finite loss, Q-values or parameters: the run stopped


# argparse words a failed `type` as "invalid <__name__> value: 'TEXT'"
_KIND_NAMES = {bool: "true/false", int: "int", float: "float", tuple: "integer list"}


def _field_type(field: dataclasses.Field):
    """argparse `type` for a Config field: fieldparse.parse_field, the scripts' one parser."""
    def convert(text: str):
        try:
            return parse_field(field.name, text)
        except ConfigError:
            raise ValueError(text) from None

    convert.__name__ = _KIND_NAMES.get(field_kind(field.name), "str")
    return convert


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_finite_float.__name__ = "finite float"  # argparse: "invalid finite float value: 'nan'"


class OneLineParser(argparse.ArgumentParser):
    """argparse whose bad-input report is one line, `NAME: error: ...`, and exit code 2
    (the project's scripts subclass it with their own `name`)."""

    name = "purejaxdqn"

    def error(self, message: str):
        print(f"{self.name}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _field_help(field: dataclasses.Field) -> str:
    value = field.default
    if isinstance(value, bool):
        shown = str(value).lower()
    elif isinstance(value, tuple):
        shown = ",".join(map(str, value)) or "(none)"
    else:
        shown = f"{value:,}" if isinstance(value, int) else str(value) or "(none)"
    text = help_of(field)
    return f"{text} (nature default: {shown})".replace("%", "%%")


def _metavar(field: dataclasses.Field) -> str | None:
    if field.name in FIELD_CHOICES:
        return "{" + ",".join(FIELD_CHOICES[field.name]) + "}"
    if isinstance(field.default, bool):
        return "{true,false}"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="purejaxdqn", description="Nature DQN in pure JAX.",
                     epilog="Exit codes: 0 finished, 2 bad input, 3 learning diverged (the "
                            "last finite checkpoint is kept), 74 a write failed (a full "
                            "disk; the last checkpoint is kept), 130 interrupted by SIGINT "
                            "(Ctrl-C), 143 by SIGTERM; an interrupted run saves a checkpoint.")
    parser.add_argument("--version", action="version", version=f"purejaxdqn {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    train = sub.add_parser(
        "train", help="train (or resume) a DQN run",
        description="Train a DQN run, or continue one with --resume. Exit codes: 0 finished, "
                    "2 bad input, 3 diverged, 74 write failed, 130 SIGINT, 143 SIGTERM "
                    "(checkpoint saved).")
    train.add_argument("--preset", default=None,
                       help=f"named config the flags below change: {', '.join(PRESETS)} "
                            "(default: nature)")
    fields = fields_by_name()
    env_field = fields["env_id"]
    train.add_argument("--game", "--env", dest="env_id", default=None, metavar="GAME",
                       help=_field_help(env_field))
    train.add_argument("--run-dir", default=None,
                       help="where logs and checkpoints go (default: runs/GAME-seedN-TIME)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the logs and checkpoint of an earlier run in --run-dir")
    train.add_argument("--resume", default=None, metavar="RUN_DIR",
                       help="continue the run in RUN_DIR from its checkpoint; only "
                            f"{', '.join(flag(n) for n in RESUME_MAY_CHANGE)} may change")
    train.add_argument("--exact-resume", action="store_true",
                       help="with --resume: replay the recorded actions to restore the games "
                            "exactly (bitwise the same run as an uninterrupted one)")
    train.add_argument("--stop-at-score", type=_finite_float, default=None, metavar="SCORE",
                       help="stop (checkpoint saved, exit 0) after the first evaluation by "
                            "which every seed has scored a mean of at least SCORE: steps to "
                            "solve")
    train.add_argument("--no-progress", action="store_true", help="no progress line")
    train.add_argument("--quick", action="store_true",
                       help="any preset, end to end in about two minutes (Atari included): "
                            + ", ".join(f"{k} {v:,}" for k, v in QUICK.items())
                            + "; flags given beside it win")
    group = train.add_argument_group("config fields (default: the preset's value)")
    for field in fields.values():
        if field.name in RESERVED:
            continue
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name,
                           type=_field_type(field), default=None,
                           choices=FIELD_CHOICES.get(field.name), metavar=_metavar(field),
                           help=_field_help(field))
    sub.add_parser("presets", help="print the named presets")
    _add_watch_plot(sub)
    return parser


def _add_watch_plot(sub) -> None:
    watch = sub.add_parser("watch", help="play a trained run's agent; print scores or write a video")
    watch.add_argument("run_dir", metavar="RUN_DIR")
    watch.add_argument("--episodes", type=int, default=1, help="games to play (default 1)")
    watch.add_argument("--epsilon", type=float, default=None,
                       help="exploration while playing (default: the run's eval_epsilon)")
    watch.add_argument("--video", default=None, metavar="FILE.mp4|.gif",
                       help="write the games to this video: screen, Q-values, score")
    watch.add_argument("--seed-index", type=int, default=0,
                       help="which of the run's side-by-side seeds to play (default 0)")
    watch.add_argument("--step", type=int, default=None,
                       help="the checkpoint's step, checked against the run (default: latest)")
    watch.add_argument("--env-seed", type=int, default=0, help="seed of the games (default 0)")
    watch.add_argument("--scale", type=float, default=1.0,
                       help="resize the game screen in the video by this factor (default 1; "
                            "Atari's is drawn at 2x its native 210x160)")
    plot = sub.add_parser("plot", help="learning curves of one or several runs")
    plot.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    plot.add_argument("--out", default=None, metavar="FILE.png|.svg|.pdf",
                      help="where to write the figure, format by extension (default: "
                           "RUN_DIR/curves.png of the first run)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = fields_by_name()
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def _prepare_train(args: argparse.Namespace) -> tuple[Config, str, bool]:
    """Resolve and check everything; raise ConfigError before anything is written."""
    if args.exact_resume and not args.resume:
        raise ConfigError("--exact-resume applies only with --resume RUN_DIR")
    config, run_dir = _resumed_config(args) if args.resume else _new_config(args)
    config.validate()
    if config.wandb_project:  # the optional extra: missing, say so before any work
        from purejaxdqn.run.wandb_log import require_wandb

        require_wandb()
    from purejaxdqn.engines import resolve_engine, slower_engine_warning
    from purejaxdqn.envs.players import no_player

    problem = no_player(config.env_id)  # first: an unknown env is one line naming close ones
    resolve_engine(config)  # an env with no such engine: one line naming those it has
    warning = slower_engine_warning(config)
    if warning:
        print(f"purejaxdqn: warning: {warning}", file=sys.stderr)
    if config.record_video_every and problem:
        raise ConfigError(f"--record-video-every: {problem}")
    check_memory(config)
    return config, run_dir, bool(args.resume)


def _new_config(args: argparse.Namespace) -> tuple[Config, str]:
    """A new run's config (the preset on the env, --quick, the flags) and directory."""
    if args.run_dir is not None and not args.run_dir.strip():
        raise ConfigError("--run-dir is empty: name a folder, or leave the flag out for "
                          "runs/<env>-<seeds>-<time>")
    preset = args.preset or "nature"
    config, combined = preset_for_env(preset, args.env_id or get_preset(preset).env_id)
    if combined:
        print(f"purejaxdqn: {combined}")
    config = config.replace(**{**(QUICK if args.quick else {}), **_overrides(args)})
    run_dir = args.run_dir or os.path.join(
        "runs", f"{config.env_id}-{_seeds_name(config)}-{time.strftime('%Y%m%d-%H%M%S')}")
    check_new_run_dir(run_dir, args.overwrite)
    return config, run_dir


def _resumed_config(args: argparse.Namespace) -> tuple[Config, str]:
    """The config in RUN_DIR/config.json (checked unedited and unfinished), with the
    flags a resume may change; and RUN_DIR."""
    for given, name in ((args.preset, "--preset"), (args.run_dir, "--run-dir"),
                        (args.overwrite or None, "--overwrite"), (args.quick or None, "--quick")):
        if given is not None:
            raise ConfigError(f"{name} cannot be used with --resume: the run continues "
                              "in RUN_DIR with the config in its config.json")
    run_dir = args.resume
    config_path = os.path.join(run_dir, "config.json")
    problem = run_dir_problem(run_dir)
    if problem:
        raise ConfigError(f"--resume: {problem}")
    if not os.path.exists(config_path):
        raise ConfigError(f"{run_dir} has no config.json: not a purejaxdqn run directory")
    from purejaxdqn.run import checkpoint
    if not checkpoint.exists(run_dir):
        raise ConfigError(f"{run_dir} has no checkpoint to resume from")
    with open(config_path) as f:
        try:
            config = Config.from_dict(json.load(f))
        except json.JSONDecodeError as error:
            raise ConfigError(f"{config_path} is not valid JSON ({error.msg})") from None
    check_unedited(run_dir, config)
    saved = checkpoint.read_host(run_dir)
    _check_unfinished(run_dir, config_path, config, saved)
    if args.exact_resume and not saved.get("has_replay"):
        raise ConfigError(f"--exact-resume needs the replay, which the checkpoint in "
                          f"{run_dir} does not hold (checkpoint_replay off, or finished)")
    check_writable(run_dir)
    return config.replace(**check_resume_flags(config, _overrides(args))), run_dir


def _seeds_name(config: Config) -> str:
    """'seed3' for one seed, 'seeds0-1-2' for side-by-side seeds (run directory names)."""
    seeds = config.all_seeds
    return f"seed{seeds[0]}" if len(seeds) == 1 else "seeds" + "-".join(map(str, seeds))


def _check_unfinished(run_dir: str, config_path: str, config: Config, host: dict) -> None:
    """A finished run has nothing to resume (and its last checkpoint keeps no replay):
    say so, and how to train longer, instead of failing on what the checkpoint lacks.
    A run stopped during its final evaluation is not finished: a resume evaluates it."""
    steps = host.get("steps")
    evaluations = host.get("evaluations") or [{}]
    if isinstance(steps, int) and steps >= config.total_steps and \
            evaluations[-1].get("step") == steps:
        raise ConfigError(
            f"the run in {run_dir} is finished ({steps:,} of {config.total_steps:,} steps): "
            f"nothing to resume; to train longer, start a new run with its settings "
            f"({config_path}) and a larger --total-steps")


def _print_presets() -> None:
    try:
        for name, preset in PRESETS.items():
            changed = {k: v for k, v in preset.to_dict().items()
                       if v != getattr(Config(), k)}
            print(f"{name}: {json.dumps(changed) if changed else '(Nature DQN defaults)'}")
        print("\nchoices (components' registered names, and declared choices):")
        for name, choices in FIELD_CHOICES.items():
            print(f"  --{name.replace('_', '-')}: {', '.join(choices)}")
        sys.stdout.flush()
    except BrokenPipeError:  # `purejaxdqn presets | head`: the reader left, stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "presets":
        _print_presets()
        return 0
    if args.command == "watch":
        return _watch(args)
    if args.command == "plot":
        return _plot(args)
    if args.command != "train":
        parser.print_help()
        return 2
    from purejaxdqn.run.stopping import RunStopped, StopFlag

    try:
        with StopFlag(urgent=True) as flag:  # until train() takes over, nothing is at stake
            return _train(args, flag)
    except RunStopped as stopped:
        print(stop_message({"stopped_by": stopped.signal_name, "phase": "start-up"}, ""))
        return EXIT_CODES[stopped.signal_name]


def _train(args: argparse.Namespace, flag) -> int:
    """`purejaxdqn train`: check everything, train, say how it ended; the exit code."""
    from purejaxdqn.run import compile_cache
    from purejaxdqn.run.checkpoint import CheckpointError

    compile_cache.enable()  # before anything compiles: JAX sets its cache up once
    try:
        config, run_dir, resume = _prepare_train(args)
    except (ConfigError, CheckpointError) as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return 2

    from purejaxdqn.run.train import train

    if args.overwrite:
        clear_run_dir(run_dir)
    run_dir = os.path.abspath(run_dir)
    print(f"run directory: {run_dir}\n(stop with Ctrl-C; continue with: "
          f"purejaxdqn train --resume {run_dir})", flush=True)
    from purejaxdqn.run import disk

    try:
        summary = train(config, run_dir, resume=resume, exact_resume=args.exact_resume,
                        progress=not args.no_progress, stop_at_score=args.stop_at_score)
    except CheckpointError as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return 2
    except disk.WriteFailed as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return disk.EXIT_CODE
    flag.urgent = False  # the work is on disk: a late signal must not say otherwise
    if summary["stopped_by"] == "diverged":
        print(f"purejaxdqn: error: {stop_message(summary, '')}", file=sys.stderr)
        return EXIT_CODES["diverged"]
    if summary["stopped_by"]:
        print(stop_message(summary, f"purejaxdqn train --resume {run_dir}"))
        return EXIT_CODES.get(summary["stopped_by"], 0)
    means = ", ".join(f"{m:.1f}" for m in summary["final_eval"]["score_mean"])
    print(f"done: {summary['steps']:,} steps, final eval mean score {means} "
          f"(seeds {', '.join(map(str, summary['seeds']))}); run in {run_dir}")
    return 0


def stop_message(summary: dict, resume_command: str) -> str:
    """One line for a run train() returned stopped: where it stopped, what is saved."""
    name, saved = summary["stopped_by"], summary.get("checkpoint_steps")
    if name == "diverged":
        return summary["divergence"]
    if summary.get("phase") == "start-up":
        kept = "" if saved is None else \
            f"; the checkpoint ({saved:,} steps) is as it was. Continue with: {resume_command}"
        return f"stopped by {name} during start-up, before any training; nothing was written{kept}"
    if name == "stop_at_score":
        best = ", ".join(f"{m:.1f}" for m in summary["best_eval_mean"])
        return (f"every seed reached the score to stop at by {summary['steps']:,} steps (best "
                f"eval means {best}); checkpoint saved. Continue with: {resume_command}")
    return (f"stopped by {name} at {summary['steps']:,} steps; checkpoint saved "
            f"({saved:,} steps). Continue with: {resume_command}")


def _watch(args: argparse.Namespace) -> int:
    from purejaxdqn.run.watch import WatchError, check_run, check_video_path, watch

    try:
        if args.episodes < 1:
            raise WatchError(f"--episodes must be at least 1, got {args.episodes}")
        if args.epsilon is not None and not 0.0 <= args.epsilon <= 1.0:
            raise WatchError(f"--epsilon must be in [0, 1], got {args.epsilon}")
        if not 0.05 <= args.scale <= 4.0:
            raise WatchError(f"--scale must be in [0.05, 4], got {args.scale}")
        check_video_path(args.video)
        run = check_run(args.run_dir, args.seed_index, args.step)
    except WatchError as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return 2
    from purejaxdqn.run.checkpoint import CheckpointError

    def report(episode: int, score: float, length: int) -> None:
        print(f"game {episode + 1}: score {score:g}, {length} steps", flush=True)

    try:
        result = watch(run, episodes=args.episodes, epsilon=args.epsilon, video=args.video,
                       env_seed=args.env_seed, on_episode=report, scale=args.scale)
    except (CheckpointError, WatchError) as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return 2
    scores = result["scores"]
    print(f"mean score {sum(scores) / len(scores):g} over {len(scores)} game(s) "
          f"(seed index {run.seed_index}, step {run.step:,}, epsilon {result['epsilon']:g})")
    if args.video:
        print(f"wrote {args.video} ({result['frames']} frames)")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from purejaxdqn.tools.plot import FORMATS, PlotError, check_runs, plot_runs

    out = args.out or os.path.join(args.run_dirs[0], "curves.png")
    try:
        runs = check_runs(args.run_dirs)  # first: the default --out lies in the first run
        if not out.lower().endswith(FORMATS):
            raise PlotError(f"--out must name a {', '.join(FORMATS)} file, got {out}")
        if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
            raise PlotError(f"cannot write {out}: its folder does not exist")
        check_writable(os.path.dirname(os.path.abspath(out)))
    except (PlotError, ConfigError) as error:
        print(f"purejaxdqn: error: {error}", file=sys.stderr)
        return 2
    plot_runs(runs).savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
