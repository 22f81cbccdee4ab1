"""Running an experiment: the training loop (`train`), evaluation, checkpoints and
their array files, logs (`runlog`, `wandb_log`), the checks before any work
(`preflight`), the progress line and human-normalised scores."""
