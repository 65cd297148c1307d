# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""What a new ``tools/train.py`` run may do to a work dir that holds an
earlier run: never overwrite its checkpoints, and say when ``--resume``
continues them with another method."""
import glob
import logging
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from ..utils import DISTILL_TYPES


def checkpoints(work_dir: str) -> List[str]:
    """The checkpoint files (``*.pth``) directly in ``work_dir``, by name."""
    return sorted(
        osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))


def check_fresh_run(work_dir: str, resume: bool) -> None:
    """Refuse a run without ``--resume`` in a work dir with checkpoints.

    Such a run starts at iteration 1 with a fresh schedule and writes
    ``iter_N.pth`` files of the same names as the earlier run's, over
    them (``load_from`` included: it loads the weights, not the progress).

    Raises:
        FileExistsError: If ``resume`` is False and ``work_dir`` holds
            ``*.pth`` files; the message names them and the two fixes.
    """
    found = checkpoints(work_dir)
    if resume or not found:
        return
    shown = ', '.join(found[:3]) + (', ...' if len(found) > 3 else '')
    raise FileExistsError(
        f'work dir {work_dir!r} holds checkpoints of an earlier run '
        f'({shown}); a run without --resume would start again at iteration '
        '1 and overwrite them. To continue it: --resume (from '
        'last_checkpoint), or --resume --cfg-options load_from=PATH (from '
        'a given checkpoint). To start afresh: --work-dir NEW_DIR.')


def method_summary(cfg: Config) -> str:
    """The method of a training config, for comparing two runs: the
    segmentor type, the distillation losses by name and type, and ALW.

    E.g. ``"DistillEncoderDecoder: loss_icsd=ICSDLoss, loss_kd=PixelKDLoss,
    ALWHook"`` or ``"EncoderDecoder"``.
    """
    model = cfg.get('model') or {}
    what = str(model.get('type'))
    if what in DISTILL_TYPES:
        losses = model.get('distill_losses') or {}
        what += ': ' + ', '.join(f'{name}={loss.get("type")}'
                                 for name, loss in sorted(losses.items()))
    if any(h.get('type') == 'ALWHook' for h in cfg.get('custom_hooks') or []):
        what += ', ALWHook'
    return what


def earlier_config(work_dir: str) -> Optional[str]:
    """The newest config dumped directly in ``work_dir`` (mmengine writes
    ``<config name>.py`` there), or None."""
    configs = glob.glob(osp.join(work_dir, '*.py'))
    return max(configs, key=osp.getmtime) if configs else None


def warn_other_method(work_dir: str, cfg: Config) -> None:
    """Warn once if ``--resume`` continues a run of another method.

    A warning, not an error: continuing a student with other losses may
    be intended (e.g. KD first, then AICSD); a changed ``max_iters`` or
    learning rate is not another method and passes silently.

    Args:
        work_dir (str): The work dir of the resumed run.
        cfg (Config): This run's config.
    """
    path = earlier_config(work_dir)
    if path is None or not checkpoints(work_dir):
        return
    try:
        earlier = method_summary(
            Config.fromfile(path, import_custom_modules=False))
    except Exception:  # not a config we can read: nothing to compare
        return
    now = method_summary(cfg)
    if earlier != now:
        print_log(
            f'--resume continues the checkpoints in {work_dir!r}, trained '
            f'as {earlier} ({osp.basename(path)}), with another method: '
            f'{now}. If that is not intended, give this config its own '
            '--work-dir.',
            logger='current',
            level=logging.WARNING)
