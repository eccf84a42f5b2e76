# Tests of checkpoints and plots.
