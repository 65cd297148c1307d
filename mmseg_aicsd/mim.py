# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""``mmseg_aicsd::`` config paths, as ``mmseg::`` ones.

mmengine resolves ``scope::relative/path.py`` (in ``_base_``, in
``Config.fromfile`` and in ``mmengine.hub.get_config``) only for the scopes
of its table ``mmengine.config.utils.MODULE2PACKAGE``, and reads the file
from ``<package directory>/.mim/configs/``. Importing ``mmseg_aicsd`` adds
the scope ``mmseg_aicsd`` to that table.

The table's value is the name mmengine hands to ``get_installed_path``. It
is this module's name, not the distribution's: for a name that is no
distribution, mmengine takes the directory of ``importlib.util.find_spec``,
which is this package's directory for a wheel install, an editable install
and a source tree on ``PYTHONPATH`` alike. For the distribution name it would
take ``<site-packages>/mmseg_aicsd``, which an editable install does not
have.

The configs are in ``.mim/configs``: copies in a wheel or an sdist; in the
source tree a symlink to the repository's ``configs/`` (see ``setup.py``).
"""
from mmengine.config.utils import MODULE2PACKAGE

SCOPE = 'mmseg_aicsd'


def register_config_scope() -> None:
    """Let mmengine resolve ``mmseg_aicsd::`` config paths (idempotent)."""
    MODULE2PACKAGE.setdefault(SCOPE, __name__)


register_config_scope()
