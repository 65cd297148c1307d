# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Benchmarks of the plugin, run from the repository root as modules,
e.g. ``python -m benchmarks.icsd_loss`` (see ``docs/benchmarks.md``)."""
