# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The fixtures and marks of tests/ (run_utils is importable: setup.cfg)."""
from run_utils import camvid_root, mark_real_data_tests  # noqa: F401

pytest_collection_modifyitems = mark_real_data_tests
