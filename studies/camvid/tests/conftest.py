# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The fixtures and marks of tests/ (run_utils is importable: setup.cfg)."""
import pytest
from run_utils import camvid_root  # noqa: F401  (a fixture)
from run_utils import group_modules, mark_real_data_tests


# before pytest-xdist reads the groups
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    mark_real_data_tests(items)
    group_modules(items)
