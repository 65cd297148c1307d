# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""mmengine's Runner, which keeps an earlier run's dumped config until
this run has written a checkpoint."""
import logging
import os.path as osp

from mmengine.dist import master_only
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmseg.registry import RUNNERS


@RUNNERS.register_module()
class KeepConfigRunner(Runner):
    """A :class:`mmengine.runner.Runner` that never loses the config of a
    work dir's checkpoints.

    mmengine's Runner writes its config to ``work_dir/<config name>.py``
    when it is built, so a run that fails at its first iteration in the
    work dir of a finished run replaces that run's config with the failing
    one. This one writes it at once only if the work dir has none; else
    after this run's first checkpoint, so that the file is always the
    config of the newest checkpoint. Every run's config is also kept in
    its own ``<timestamp>/vis_data/config.py`` (mmengine's visualizer).
    ``tools/train.py`` builds this runner (a config's ``runner_type``
    still wins).
    """

    def _config_path(self) -> str:
        """Where :meth:`mmengine.runner.Runner.dump_config` writes."""
        name = (
            osp.basename(self.cfg.filename)
            if self.cfg.filename is not None else f'{self.timestamp}.py')
        return osp.join(self.work_dir, name)

    @master_only
    def dump_config(self) -> None:
        """Dump the config, unless an earlier run's is there: then wait
        for this run's first checkpoint (see :meth:`save_checkpoint`)."""
        if not osp.isfile(self._config_path()):
            super().dump_config()
            return
        self._config_pending = True
        print_log(
            f'kept the earlier run\'s {self._config_path()}: this run '
            'writes its config there after its first checkpoint',
            logger='current',
            level=logging.INFO)

    def save_checkpoint(self, *args, **kwargs) -> None:
        """mmengine's ``save_checkpoint``, then the pending config dump."""
        super().save_checkpoint(*args, **kwargs)
        if getattr(self, '_config_pending', False):
            self._config_pending = False
            super().dump_config()
