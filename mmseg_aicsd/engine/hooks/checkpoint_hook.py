# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""A checkpoint hook that writes the new checkpoint before deleting the
outdated one."""
from collections import deque

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class WriteFirstCheckpointHook(CheckpointHook):
    """mmengine's :class:`~mmengine.hooks.CheckpointHook`, with outdated
    checkpoints deleted only once the new one and ``last_checkpoint`` are
    written.

    With ``max_keep_ckpts=N``, mmengine 0.10 deletes the oldest kept
    checkpoint *before* it writes the next: with N = 1, a process killed
    during that write leaves a truncated file and nothing to resume from.
    Here there are N + 1 files for the time of the write, and a kill leaves
    ``last_checkpoint`` on the previous, complete one. Otherwise the same
    hook, with the same arguments; ``tools/train.py`` uses it in place of
    ``CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save the checkpoint of ``step``, then delete the outdated one."""
        keep = self.max_keep_ckpts
        ids = list(getattr(self, 'keep_ckpt_ids', ()))
        if keep <= 0 or (ids and ids[-1] == step) or len(ids) < keep:
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        # leave the parent one free place: it then deletes nothing
        outdated, kept = ids[:len(ids) - keep + 1], ids[len(ids) - keep + 1:]
        self.keep_ckpt_ids = deque(kept, keep)
        super()._save_checkpoint_with_step(runner, step, meta)
        if not is_main_process():
            return
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed's are folders
                self.file_backend.rmtree(path)
