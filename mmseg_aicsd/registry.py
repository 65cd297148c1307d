# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Registries of the scope ``mmseg_aicsd``: empty children of mmseg's.

The plugin registers its modules in mmseg's registries (scope ``mmseg``).
A config that inherits one of ours by an ``mmseg_aicsd::`` path, though,
has ``_scope_='mmseg_aicsd'`` on the dicts that our files define (mmengine
marks every dict of an external base config with the scope of its path),
and mmengine builds such a dict from the registry of that scope, which it
looks up as ``mmseg_aicsd.registry``. Each registry here has no modules of
its own: a lookup falls through to its parent, mmseg's registry of the same
name, which holds mmseg's modules and ours (a lookup first imports the
modules mmseg's registry would import itself).
"""
from mmengine.registry import Registry

from mmseg import registry as mmseg
from .mim import SCOPE


def _child(parent: Registry) -> Registry:
    # the parent's locations too: a lookup here imports what mmseg would
    # (e.g. mmseg.evaluation for IoUMetric) before it falls through
    return Registry(
        parent.name,
        parent=parent,
        scope=SCOPE,
        locations=['mmseg_aicsd'] + list(parent._locations))


RUNNERS = _child(mmseg.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmseg.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmseg.LOOPS)
HOOKS = _child(mmseg.HOOKS)
DATASETS = _child(mmseg.DATASETS)
DATA_SAMPLERS = _child(mmseg.DATA_SAMPLERS)
TRANSFORMS = _child(mmseg.TRANSFORMS)
MODELS = _child(mmseg.MODELS)
MODEL_WRAPPERS = _child(mmseg.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmseg.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmseg.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmseg.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmseg.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmseg.PARAM_SCHEDULERS)
METRICS = _child(mmseg.METRICS)
EVALUATOR = _child(mmseg.EVALUATOR)
TASK_UTILS = _child(mmseg.TASK_UTILS)
VISUALIZERS = _child(mmseg.VISUALIZERS)
VISBACKENDS = _child(mmseg.VISBACKENDS)
LOG_PROCESSORS = _child(mmseg.LOG_PROCESSORS)
INFERENCERS = _child(mmseg.INFERENCERS)
