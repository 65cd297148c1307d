# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""CIRKD: cross-image relational knowledge distillation.

Reference: C. Yang, H. Zhou, Z. An, X. Jiang, Y. Xu, Q. Zhang,
"Cross-Image Relational Knowledge Distillation for Semantic
Segmentation", CVPR 2022 (official code winycg/CIRKD).

Two losses: :class:`CIRKDLoss`, the mini-batch pixel-to-pixel
distillation (no state), and :class:`CIRKDMemoryLoss`, the pixel-to-pixel
and pixel-to-region distillation against a memory bank of teacher
embeddings kept across iterations.
"""
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .class_centres import check_labels, zero_loss
from .utils import (check_same_channels, divide_by_abs_max, finite_log_softmax,
                    match_logits, normalize_nonzero)


def _check_tau(**taus: float) -> None:
    for name, tau in taus.items():
        if not tau > 0:  # also catches NaN
            raise ValueError(f'{name} must be positive, got {tau}')


def _unit(feats: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, H, W) unit embeddings along C; each sample
    divided by its largest |entry| first (see
    :func:`.utils.divide_by_abs_max`), so that norms of maps from 1e-20 to
    1e20 neither underflow nor overflow."""
    return normalize_nonzero(divide_by_abs_max(feats), dim=1)


def _kl_rows(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """``KL(softmax(t_r) || softmax(s_r))`` of each row r, (..., N) ->
    (...), clamped at 0 (float32 rounding of near-equal rows)."""
    return F.kl_div(
        finite_log_softmax(student_logits, dim=-1),
        finite_log_softmax(teacher_logits, dim=-1),
        reduction='none',
        log_target=True).sum(-1).clamp_min(0)


def cirkd_loss(student: Tensor,
               teacher: Tensor,
               tau: float = 0.1,
               pool_size: int = 1) -> Tensor:
    """CIRKD mini-batch pixel-to-pixel distillation loss.

    With ``f_bi`` the L2-normalised embedding (over channels) of pixel i
    of image b, the similarity of pixel i of image b to the N = H * W
    pixels of image b' is ``s_bb'i = softmax_j(f_bi . f_b'j / tau)``, and
    ``L = 1 / B^2 sum_{b,b'} 1 / N sum_i KL(s^T_bb'i || s^S_bb'i)``: every
    pair of images of the batch (an image with itself included), every
    pixel of the first against all pixels of the second. The N x N
    similarity maps do not depend on the channel counts, so student and
    teacher may differ in width: no connector is needed.

    Cost: B^2 maps of N^2 entries, kept for the backward pass; e.g. N =
    64 x 128 (1/8 of a 512 x 1024 crop) and B = 2 hold 4 x 8192^2 floats
    (1 GiB) per map kind. ``pool_size`` averages both maps over
    ``pool_size`` x ``pool_size`` windows first (the official code's
    ``pooling`` option, 2), dividing N by ``pool_size^2``. Void pixels take
    part (the loss takes no labels). The pairs are those of the
    per-process batch, not gathered across processes. Computed in float32
    whatever the input dtype, also under autocast, on unit embeddings that
    do not depend on the scale of the maps (from 1e-20 to 1e20); a zero
    embedding has similarity 0 to every pixel.

    Args:
        student (Tensor): Student features, (B, C_s, H_s, W_s); resized
            bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher features, (B, C_t, H, W); the loss does
            not backpropagate into them.
        tau (float): Temperature of the similarity softmax, > 0. Defaults
            to 0.1 (the official code's).
        pool_size (int): Average-pooling window and stride applied to both
            maps (windows past the border average the pixels inside).
            Defaults to 1 (none).

    Returns:
        Tensor: Scalar float32 loss, in nats per pixel, >= 0.

    Raises:
        ValueError: If ``tau`` is not positive, ``pool_size`` is not a
            positive int, the maps are not (B, C, H, W) with equal B, or
            their spatial sizes are empty or of different aspect ratios.
    """
    _check_tau(tau=tau)
    _check_pool_size(pool_size)
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        if pool_size > 1:
            student, teacher = (
                F.avg_pool2d(x, pool_size, stride=pool_size, ceil_mode=True)
                for x in (student, teacher))
        # (B, N, C) unit embeddings of each pixel
        s = _unit(student).flatten(2).transpose(1, 2)
        t = _unit(teacher).flatten(2).transpose(1, 2)
        B, N = s.shape[:2]
        total = s.new_zeros(())
        for b in range(B):
            # pixels of image b against those of every image: (B, N, N)
            kl = _kl_rows(s[b] @ s.transpose(1, 2) / tau,
                          t[b] @ t.transpose(1, 2) / tau)
            total = total + kl.sum()
        return total / (B * B * N)


def _check_pool_size(pool_size: int) -> None:
    if not isinstance(pool_size, int) or pool_size < 1:
        raise ValueError(
            f'pool_size must be a positive int, got {pool_size!r}')


def memory_contrast_loss(student: Tensor,
                         teacher: Tensor,
                         labels: Tensor,
                         memory: Tensor,
                         tau: float = 0.1,
                         kd_tau: float = 1.0,
                         ignore_index: int = 255) -> Tensor:
    """CIRKD distillation of pixel-to-memory similarities.

    With ``f_i`` the L2-normalised embedding of labelled pixel i and
    ``m_1 ... m_M`` the memory's unit embeddings (teacher pixels for the
    pixel-to-pixel term, teacher class centres of past images for the
    pixel-to-region term), ``z_i = (f_i . m_1, ..., f_i . m_M) / tau``
    and ``L = kd_tau^2 / |P| sum_{i in P} KL(softmax(z^T_i / kd_tau) ||
    softmax(z^S_i / kd_tau))`` over the labelled pixels P of the batch.
    Student and teacher embeddings are compared
    with the same (teacher) memory, so the student's must have the
    teacher's width: a connector maps it.

    Computed in float32 whatever the input dtype, also under autocast. No
    labelled pixel gives 0 (never NaN), with zero gradients.

    Args:
        student (Tensor): Student embeddings through the connector,
            (B, C, H_s, W_s); resized bilinearly to the teacher's (H, W)
            if they differ.
        teacher (Tensor): Teacher embeddings, (B, C, H, W); no gradient.
        labels (Tensor): Ground truth at the teacher's size, (B, H, W),
            int64, ``ignore_index`` for void.
        memory (Tensor): Memory embeddings, (M, C), rows of unit norm.
        tau (float): Temperature of the similarities, > 0. Defaults to
            0.1.
        kd_tau (float): Temperature of the distillation, > 0. Defaults to
            1.0.
        ignore_index (int): Label of void pixels. Defaults to 255.

    Returns:
        Tensor: Scalar float32 loss, in nats per pixel (times kd_tau^2).

    Raises:
        ValueError: If a temperature is not positive, the maps are not
            (B, C, H, W) with equal B and C (the message names the
            connector), ``memory`` is not (M, C), or ``labels`` is not
            (B, H, W) at the teacher's size.
    """
    _check_tau(tau=tau, kd_tau=kd_tau)
    check_same_channels(
        student, teacher,
        "CIRKD's memory contrast compares student and teacher embeddings "
        'with the same teacher memory')
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        check_labels(teacher, labels)
        C = teacher.shape[1]
        if memory.dim() != 2 or memory.shape[1] != C or not len(memory):
            raise ValueError(
                f'memory must be an (M, C) tensor with M > 0 and C = {C} '
                f'(the teacher map\'s channels), got {tuple(memory.shape)}')
        valid = (labels != ignore_index).flatten()
        if not bool(valid.any()):
            return zero_loss(student)
        memory = memory.detach().float()
        s = _unit(student).movedim(1, -1).reshape(-1, C)
        t = _unit(teacher).movedim(1, -1).reshape(-1, C)
        kl = _kl_rows(s[valid] @ memory.t() / (tau * kd_tau),
                      t[valid] @ memory.t() / (tau * kd_tau))
        return kl.mean() * kd_tau**2


def _gather(x: Tensor) -> Tensor:
    """``x`` of every process concatenated along dim 0 (no gradient); ``x``
    itself outside distributed training."""
    if not (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1):
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


@MODELS.register_module()
class CIRKDLoss(nn.Module):
    """CIRKD mini-batch pixel-to-pixel distillation (Yang et al., CVPR
    2022), without the memory bank.

    Called as ``loss(student, teacher)`` on a pair of named feature maps
    of any widths; see :func:`cirkd_loss` for the formula, shapes and
    cost. The full method adds :class:`CIRKDMemoryLoss` and pixel-wise KD
    on the logits.

    Args:
        tau (float): Temperature of the similarity softmax, > 0. Defaults
            to 0.1.
        pool_size (int): Average-pooling window applied to both maps
            first. Defaults to 1 (none).
        loss_weight (float): Weight of the loss. Defaults to 1.0 (the
            official recipe).
        loss_name (str): Name of the loss item. Defaults to 'loss_cirkd'.

    Raises:
        ValueError: If ``tau`` is not positive or ``pool_size`` is not a
            positive int.
    """

    def __init__(self,
                 tau: float = 0.1,
                 pool_size: int = 1,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cirkd'):
        super().__init__()
        _check_tau(tau=tau)
        _check_pool_size(pool_size)
        self.tau = tau
        self.pool_size = pool_size
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted CIRKD loss; shapes as in :func:`cirkd_loss`."""
        return self.loss_weight * cirkd_loss(
            student, teacher, tau=self.tau, pool_size=self.pool_size)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name


@MODELS.register_module()
class CIRKDMemoryLoss(nn.Module):
    """CIRKD memory-based pixel-to-pixel and pixel-to-region distillation
    (Yang et al., CVPR 2022).

    Called by :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
    as ``loss(student, teacher, labels=...)`` on a pair of named feature
    maps, the student's through a connector to the teacher's width, with
    the ground truth resized (nearest) to the teacher map. Returns
    ``loss_weight * (pixel_weight * L_pixel + region_weight * L_region)``,
    each term :func:`memory_contrast_loss` against entries sampled from
    its memory.

    The memory: per class k, a ring buffer of ``pixel_memory_size`` unit
    teacher pixel embeddings and one of ``region_memory_size`` unit
    teacher class centres (the normalised mean of the class's unit
    embeddings in one image). Each training forward first adds the batch:
    per image and present class, its centre and up to
    ``pixels_per_update`` of its pixels drawn at random; then draws
    ``pixel_contrast_size // K + 1`` slots (and ``region_contrast_size //
    K + 1``), the same for every class, K the class count, and contrasts
    against those slots of all classes. Never-written slots hold random
    unit vectors (as the official code's initialisation).

    State across iterations: the memories and their write positions are
    buffers of this module, allocated at the first forward (the width is
    the teacher map's; K is ``num_classes``, or if None the largest label
    seen plus one, grown when a larger one appears). They are
    non-persistent: checkpoints do not hold them (they are large: 19 x
    20000 x 512 floats is 742 MiB), so ``--resume`` starts from a fresh
    random memory, refilled as training goes on. Under DDP, each process
    adds the teacher embeddings and labels of all processes (an
    all-gather, so every process's batch must have the same shape, as
    training crops do): the memories receive the same images everywhere,
    and the random draws may differ between processes. The buffers need
    no broadcast; where DDP broadcasts buffers (``broadcast_buffers=
    True``), rank 0's memory replaces the others' before each forward,
    which is equally valid.

    Args:
        num_classes (int, optional): Number of classes K. Defaults to None
            (from the labels).
        pixel_memory_size (int): Pixel slots per class. Defaults to 20000.
        region_memory_size (int): Region slots per class. Defaults to
            2000.
        pixel_contrast_size (int): Pixel slots contrasted per forward, over
            all classes. Defaults to 4096.
        region_contrast_size (int): Region slots contrasted per forward.
            Defaults to 1024.
        pixels_per_update (int): Pixels added per image and class.
            Defaults to 16.
        tau (float): Temperature of the similarities, > 0. Defaults to
            0.1.
        kd_tau (float): Temperature of the distillation, > 0. Defaults to
            1.0.
        pixel_weight (float): Weight of the pixel-to-pixel term. Defaults
            to 0.1.
        region_weight (float): Weight of the pixel-to-region term.
            Defaults to 0.1.
        ignore_index (int): Label of void pixels. Defaults to 255.
        loss_weight (float): Weight of the sum. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to
            'loss_cirkd_memory'.

    Raises:
        ValueError: If a size or count is not a positive int, or a
            temperature is not positive; in the forward as
            :func:`memory_contrast_loss`, if a label is >=
            ``num_classes``, or if the teacher map's width changes once the
            memory is allocated.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 pixel_memory_size: int = 20000,
                 region_memory_size: int = 2000,
                 pixel_contrast_size: int = 4096,
                 region_contrast_size: int = 1024,
                 pixels_per_update: int = 16,
                 tau: float = 0.1,
                 kd_tau: float = 1.0,
                 pixel_weight: float = 0.1,
                 region_weight: float = 0.1,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cirkd_memory'):
        super().__init__()
        sizes = dict(
            pixel_memory_size=pixel_memory_size,
            region_memory_size=region_memory_size,
            pixel_contrast_size=pixel_contrast_size,
            region_contrast_size=region_contrast_size,
            pixels_per_update=pixels_per_update)
        if num_classes is not None:
            sizes['num_classes'] = num_classes
        for name, value in sizes.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'{name} must be a positive int, got {value!r}')
        _check_tau(tau=tau, kd_tau=kd_tau)
        self.num_classes = num_classes
        self.pixel_memory_size = pixel_memory_size
        self.region_memory_size = region_memory_size
        self.pixel_contrast_size = pixel_contrast_size
        self.region_contrast_size = region_contrast_size
        self.pixels_per_update = pixels_per_update
        self.tau = tau
        self.kd_tau = kd_tau
        self.pixel_weight = pixel_weight
        self.region_weight = region_weight
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        for name in ('pixel_memory', 'region_memory'):
            self.register_buffer(name, torch.zeros(0, 0, 0), persistent=False)
        for name in ('pixel_ptr', 'region_ptr'):
            self.register_buffer(
                name, torch.zeros(0, dtype=torch.long), persistent=False)

    def _grow(self, num_classes: int, channels: int,
              device: torch.device) -> None:
        """Allocate the memories for ``num_classes`` classes of
        ``channels``-wide embeddings, keeping the classes already there."""
        have = self.pixel_memory.shape[0]
        if have and self.pixel_memory.shape[2] != channels:
            raise ValueError(
                f'the teacher map has {channels} channels, the memory '
                f'{self.pixel_memory.shape[2]}: one CIRKDMemoryLoss serves '
                'one pair of maps')
        if num_classes <= have:
            return
        new = num_classes - have
        for name, size in (('pixel', self.pixel_memory_size),
                           ('region', self.region_memory_size)):
            fresh = F.normalize(
                torch.randn(new, size, channels, device=device), dim=2)
            memory = getattr(self, f'{name}_memory').to(device)
            ptr = getattr(self, f'{name}_ptr').to(device)
            setattr(self, f'{name}_memory',
                    torch.cat([memory.reshape(have, size, channels), fresh]))
            setattr(self, f'{name}_ptr', torch.cat([ptr, ptr.new_zeros(new)]))

    @torch.no_grad()
    def enqueue(self, teacher: Tensor, labels: Tensor) -> None:
        """Add a batch of teacher embeddings to the memories.

        Args:
            teacher (Tensor): Teacher embeddings, (B, C, H, W), float32.
            labels (Tensor): Ground truth, (B, H, W), int64.

        Raises:
            ValueError: If a label is >= ``num_classes``.
        """
        keys = _gather(_unit(teacher))
        labels = _gather(labels)
        valid = labels != self.ignore_index
        if not bool(valid.any()):
            self._grow(self.num_classes or 0, keys.shape[1], keys.device)
            return
        top = int(labels[valid].max()) + 1
        if self.num_classes is not None and top > self.num_classes:
            raise ValueError(
                f'labels must be < num_classes={self.num_classes} or '
                f'ignore_index={self.ignore_index}; got {top - 1}')
        self._grow(self.num_classes or top, keys.shape[1], keys.device)
        P, R = self.pixel_memory_size, self.region_memory_size
        for b in range(keys.shape[0]):
            feats, image_labels = keys[b].flatten(1), labels[b].flatten()
            for k in image_labels[valid[b].flatten()].unique().tolist():
                where = (image_labels == k).nonzero().flatten()
                centre = normalize_nonzero(feats[:, where].mean(1), dim=0)
                self.region_memory[k, self.region_ptr[k]] = centre
                self.region_ptr[k] = (self.region_ptr[k] + 1) % R
                n = min(len(where), self.pixels_per_update, P)
                chosen = where[torch.randperm(len(where),
                                              device=where.device)[:n]]
                slots = (self.pixel_ptr[k] +
                         torch.arange(n, device=where.device)) % P
                self.pixel_memory[k, slots] = feats[:, chosen].t()
                self.pixel_ptr[k] = (self.pixel_ptr[k] + n) % P

    def _sample(self, memory: Tensor, contrast_size: int) -> Tensor:
        """(K, S, C) memory -> (K * n, C): the same n random slots of every
        class, n = ``contrast_size // K + 1`` (at most S)."""
        K, S, C = memory.shape
        n = min(contrast_size // K + 1, S)
        slots = torch.randperm(S, device=memory.device)[:n]
        return memory[:, slots].reshape(-1, C)

    def forward(self, student: Tensor, teacher: Tensor,
                labels: Tensor) -> Tensor:
        """Add the batch to the memories, then the weighted loss; shapes as
        in :func:`memory_contrast_loss`."""
        kwargs = dict(
            tau=self.tau, kd_tau=self.kd_tau, ignore_index=self.ignore_index)
        # the argument checks before the memories change
        check_same_channels(
            student, teacher,
            "CIRKD's memory contrast compares student and teacher embeddings "
            'with the same teacher memory')
        with torch.autocast(device_type=student.device.type, enabled=False):
            student, teacher = match_logits(
                student.float(),
                teacher.detach().float(),
                match_channels=False)
        check_labels(teacher, labels)
        self.enqueue(teacher, labels)
        if not len(self.pixel_memory):  # no labelled pixel seen yet
            return zero_loss(student)
        pixel = memory_contrast_loss(
            student, teacher, labels,
            self._sample(self.pixel_memory, self.pixel_contrast_size),
            **kwargs)
        region = memory_contrast_loss(
            student, teacher, labels,
            self._sample(self.region_memory, self.region_contrast_size),
            **kwargs)
        return self.loss_weight * (
            self.pixel_weight * pixel + self.region_weight * region)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
