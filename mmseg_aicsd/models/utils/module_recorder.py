# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Record the outputs of named submodules with forward hooks."""
import difflib
from contextlib import contextmanager
from typing import Dict, Iterator, Sequence

import torch.nn as nn
from torch import Tensor


class ModuleOutputRecorder:
    """Keep the outputs of named submodules of a model during a forward.

    A forward hook on each named module (``model.named_modules()`` names,
    e.g. ``'backbone.layer4'``, ``'decode_head.sep_bottleneck'``) stores
    its output, but only inside :meth:`recording`, so validation and
    inference forwards keep no tensors alive. The forward that already
    runs is observed; nothing runs twice. A module called several times in
    one forward keeps its last output.

    This is the small part of mmrazor's ``ModuleOutputsRecorder`` that
    distillation of a segmentor needs.

    Args:
        model (nn.Module): The model whose submodules are recorded.
        names (Sequence[str]): Names of the submodules to record.
        role (str): Who the model is (``'student'``, ``'teacher'``), for
            error messages.
        exclude (Sequence[str]): Name prefixes that are not part of it
            (the teacher inside a distillation segmentor, say).

    Raises:
        KeyError: If a name is not a submodule of ``model``; the message
            lists the closest existing names.
    """

    def __init__(self,
                 model: nn.Module,
                 names: Sequence[str],
                 role: str = 'model',
                 exclude: Sequence[str] = ()):
        self.role = role
        self.outputs: Dict[str, Tensor] = {}
        self._recording = False
        modules = {
            name: module
            for name, module in model.named_modules()
            if not name.startswith(tuple(exclude))
        }
        for name in dict.fromkeys(names):  # unique, in order
            if name not in modules:
                close = difflib.get_close_matches(
                    name, [n for n in modules if n], n=5, cutoff=0.5)
                raise KeyError(
                    f'the {role} has no module named {name!r}; closest '
                    f'names: {close or "none"}. Names are those of '
                    f"{role}.named_modules(), e.g. 'backbone.layer4'.")
            modules[name].register_forward_hook(self._hook(name))

    def _hook(self, name: str):

        def hook(module: nn.Module, inputs, output) -> None:
            if self._recording:
                self.outputs[name] = output

        return hook

    @contextmanager
    def recording(self) -> Iterator['ModuleOutputRecorder']:
        """Record inside the ``with`` block; earlier outputs are dropped."""
        self.outputs = {}
        self._recording = True
        try:
            yield self
        finally:
            self._recording = False

    def get(self, name: str) -> Tensor:
        """The recorded output of ``name``, a tensor.

        Raises:
            RuntimeError: If the module did not run in the recorded forward
                (e.g. an auxiliary head the forward does not call).
            TypeError: If its output is not a tensor (a tuple of stages,
                say): record a submodule that outputs one tensor.
        """
        if name not in self.outputs:
            raise RuntimeError(
                f'the {self.role} module {name!r} did not run in the '
                f'{self.role} forward, so it has no output to distil. Pick '
                'a module on the path from the input to the decode head\'s '
                'logits (mmseg calls decode_head.forward() directly, which '
                'fires no hooks: name a submodule such as '
                '"decode_head.conv_seg").')
        output = self.outputs[name]
        if not isinstance(output, Tensor):
            raise TypeError(
                f'the {self.role} module {name!r} outputs a '
                f'{type(output).__name__}, not a tensor; record one of its '
                'submodules instead (e.g. "backbone.layer4" rather than '
                '"backbone")')
        return output
