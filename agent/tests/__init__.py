"""Tests of the build agent's parts, run for real: processes, files, git, threads."""
