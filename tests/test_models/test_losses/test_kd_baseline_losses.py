# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The baseline distillation losses (AT, SP, SKD pair-wise, ICKD, CWD) and
the ignore mask and reductions of pixel-wise KD, against naive float64
loops and hand-worked cases."""
import math
import warnings

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import (ATLoss, CWDLoss, ICKDLoss, PixelKDLoss,
                                       SKDPairwiseLoss, SPLoss, at_loss,
                                       cwd_loss, ickd_loss, pixel_kd_loss,
                                       skd_pairwise_loss, sp_loss)
from mmseg_aicsd.models.losses.utils import (divide_by_abs_max, match_logits,
                                             normalize_nonzero)

# (student shape, teacher shape): C = 1, H or W = 1, other widths, and
# students at twice and half the teacher's resolution (the loss resizes
# them to the teacher's)
PAIRS = [
    ((1, 1, 1, 1), (1, 1, 1, 1)),
    ((2, 3, 4, 5), (2, 3, 4, 5)),
    ((2, 1, 1, 6), (2, 4, 1, 6)),
    ((3, 2, 7, 1), (3, 5, 7, 1)),
    ((2, 4, 8, 10), (2, 3, 4, 5)),
    ((1, 2, 3, 4), (1, 3, 6, 8)),
    ((1, 6, 5, 3), (1, 2, 5, 3)),
]
# the same with equal channel counts, for ICKD and CWD
SAME_C_PAIRS = [((s[0], t[1]) + s[2:], t) for s, t in PAIRS]


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def resized64(student, teacher):
    """The student map at the teacher's size, float64, as the losses do."""
    student = student.double()
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student,
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    return student, teacher.double()


def unit(vector):
    """L2-normalised list of floats (zero stays zero)."""
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm if norm > 0 else 0.0 for v in vector]


# ---------------------------------------------------------------- naive


def naive_at(student, teacher, p=2.0):
    s, t = resized64(student, teacher)
    B, _, H, W = t.shape
    total = 0.0
    for b in range(B):
        maps = []
        for x in (s[b], t[b]):
            C = x.shape[0]
            maps.append(
                unit([
                    sum(abs(x[c, h, w].item())**p for c in range(C)) / C
                    for h in range(H) for w in range(W)
                ]))
        total += sum((a_s - a_t)**2 for a_s, a_t in zip(*maps))
    return total / (B * H * W)


def naive_sp(student, teacher):
    B = student.shape[0]
    total = 0.0
    grams = []
    for x in (student.double().reshape(B, -1), teacher.double().reshape(B,
                                                                        -1)):
        grams.append([
            unit([(x[i] * x[j]).sum().item() for j in range(B)])
            for i in range(B)
        ])
    for i in range(B):
        for j in range(B):
            total += (grams[1][i][j] - grams[0][i][j])**2
    return total / B**2


def pooled_nodes(x, kernel):
    """Max-pooled node vectors of a (C, H, W) map, windows of ``kernel``
    with a partial last window, row-major."""
    (kh, kw), (H, W) = kernel, x.shape[1:]
    return [
        x[:, r:r + kh, c:c + kw].amax(dim=(1, 2)).tolist()
        for r in range(0, H, kh) for c in range(0, W, kw)
    ]


def naive_skd(student, teacher, scale=0.5, kernel_size=None):
    s, t = resized64(student, teacher)
    B, _, H, W = t.shape
    if kernel_size is None:
        kernel = (max(1, int(scale * H)), max(1, int(scale * W)))
    else:
        kernel = (kernel_size, ) * 2
    total, count = 0.0, 0
    for b in range(B):
        sims = []
        for x in (s[b], t[b]):
            nodes = [unit(f) for f in pooled_nodes(x, kernel)]
            sims.append(
                [[sum(u * v for u, v in zip(f_i, f_j)) for f_j in nodes]
                 for f_i in nodes])
        N = len(sims[0])
        for i in range(N):
            for j in range(N):
                total += (sims[0][i][j] - sims[1][i][j])**2
                count += 1
    return total / count


def naive_ickd(student, teacher, grid=(1, 1)):
    s, t = resized64(student, teacher)
    B, C, H, W = t.shape
    m, n = grid
    # cells as torch.tensor_split splits the row and column ranges
    row_cells = torch.tensor_split(torch.arange(H), m)
    col_cells = torch.tensor_split(torch.arange(W), n)
    total = 0.0
    for b in range(B):
        for rows in row_cells:
            for cols in col_cells:
                grams = []
                for x in (s[b], t[b]):
                    cell = x[:, rows][:, :, cols].reshape(C, -1)
                    grams.append([
                        unit([(cell[i] * cell[j]).sum().item()
                              for j in range(C)]) for i in range(C)
                    ])
                total += sum((grams[0][i][j] - grams[1][i][j])**2
                             for i in range(C) for j in range(C))
    return total / (C * B * m * n)


def naive_cwd(student, teacher, tau=1.0):
    s, t = resized64(student, teacher)
    B, C = t.shape[:2]
    total = 0.0
    for b in range(B):
        for c in range(C):
            p_t = torch.softmax(t[b, c].flatten() / tau, 0)
            p_s = torch.softmax(s[b, c].flatten() / tau, 0)
            total += (p_t * (p_t.log() - p_s.log())).sum().item()
    return tau**2 * total / (B * C)


def naive_kd(student,
             teacher,
             tau=1.0,
             labels=None,
             ignore_index=None,
             reduction='mean'):
    """Per-pixel KL summed over the valid pixels, then the reduction."""
    s, t = resized64(student, teacher)
    B, C, H, W = t.shape
    total, valid = 0.0, 0
    for b in range(B):
        for h in range(H):
            for w in range(W):
                if labels is not None and labels[b, h, w] == ignore_index:
                    continue
                p_t = torch.softmax(t[b, :, h, w] / tau, 0)
                p_s = torch.softmax(s[b, :, h, w] / tau, 0)
                total += (p_t * (p_t.log() - p_s.log())).sum().item()
                valid += 1
    total *= tau**2
    if reduction == 'mean':
        return total / max(valid, 1)
    if reduction == 'elementwise_mean':
        return total / max(valid * C, 1)
    if reduction == 'batchmean':
        return total / B
    return total


# ------------------------------------------------- against naive loops


@pytest.mark.parametrize('shapes', PAIRS)
@pytest.mark.parametrize('p', [2.0, 1.0, 3.5])
def test_at_matches_naive(shapes, p):
    student, teacher = randn(shapes[0], 0), randn(shapes[1], 1)
    loss = at_loss(student, teacher, p=p)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(
        naive_at(student, teacher, p), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('shapes', PAIRS + [((3, 2, 3, 3), (3, 1, 9, 9))])
def test_sp_matches_naive(shapes):
    # SP only compares samples: any channel count and spatial size
    student, teacher = randn(shapes[0], 2), randn(shapes[1], 3)
    loss = sp_loss(student, teacher)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(
        naive_sp(student, teacher), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('shapes', PAIRS + [((2, 3, 9, 7), (2, 2, 9, 7))])
@pytest.mark.parametrize('pool', [
    dict(scale=0.5),
    dict(scale=0.3),
    dict(scale=1.0),
    dict(scale=None, kernel_size=2),
    dict(scale=None, kernel_size=1),
])
def test_skd_pairwise_matches_naive(shapes, pool):
    student, teacher = randn(shapes[0], 4), randn(shapes[1], 5)
    for detach_norm in (True, False):  # same value, other gradient
        loss = skd_pairwise_loss(
            student, teacher, detach_norm=detach_norm, **pool)
        assert loss.dtype == torch.float32 and loss.dim() == 0
        assert loss.item() == pytest.approx(
            naive_skd(student, teacher, **pool), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('shapes', SAME_C_PAIRS)
@pytest.mark.parametrize('grid', [(1, 1), (2, 1), (1, 3), 1])
def test_ickd_matches_naive(shapes, grid):
    student, teacher = randn(shapes[0], 6), randn(shapes[1], 7)
    H, W = shapes[1][2:]
    grid = (grid, grid) if isinstance(grid, int) else grid
    grid = (min(grid[0], H), min(grid[1], W))
    loss = ickd_loss(student, teacher, grid=grid)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(
        naive_ickd(student, teacher, grid), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('grid', [(2, 2), (3, 4), (5, 7), (4, 3)])
def test_ickd_grid_uneven_cells_match_naive(grid):
    # 5 x 7 maps: the cells differ in size (zero-padded internally)
    student, teacher = randn((2, 3, 5, 7), 8), randn((2, 3, 5, 7), 9)
    assert ickd_loss(
        student, teacher, grid=grid).item() == pytest.approx(
            naive_ickd(student, teacher, grid), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('shapes', SAME_C_PAIRS)
@pytest.mark.parametrize('tau', [1.0, 4.0, 0.5])
def test_cwd_matches_naive(shapes, tau):
    student, teacher = randn(shapes[0], 10), randn(shapes[1], 11)
    loss = cwd_loss(student, teacher, tau=tau)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(
        naive_cwd(student, teacher, tau), rel=1e-4, abs=1e-7)


# ---------------------------------------------------- hand-worked cases


def test_at_hand_worked():
    # teacher: 2 channels, both [[1, 0], [0, 0]] -> mean_c F^2 = [1, 0, 0, 0]
    # -> a_T = [1, 0, 0, 0]. Student: 1 channel of 3s -> mean = [9, 9, 9, 9]
    # -> a_S = [1/2, 1/2, 1/2, 1/2]. Squared differences 1/4 each, mean over
    # the 4 positions: 1/4. (Channel counts differ: 1 vs 2.)
    teacher = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).expand(1, 2, 2, 2)
    student = torch.full((1, 1, 2, 2), 3.0)
    assert at_loss(student, teacher).item() == pytest.approx(0.25, rel=1e-6)
    # p = 1 with negative entries: |F| = the same maps -> the same value
    assert at_loss(
        -student, -teacher, p=1).item() == pytest.approx(
            0.25, rel=1e-6)


def test_sp_hand_worked():
    # teacher rows Q_T = [1, 0], [0, 1]: G_T = I, rows already unit.
    # student rows Q_S = [1, 0], [1, 0]: G_S = [[1, 1], [1, 1]], rows
    # normalised to 1/sqrt2. ||G_T - G_S||^2 = 2 (1 - 1/sqrt2)^2 + 2 (1/2)
    # = 4 - 2 sqrt2, divided by B^2 = 4: 1 - sqrt2 / 2 = 0.292893
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(2, 2, 1, 1)
    student = torch.tensor([[1.0, 0.0], [1.0, 0.0]]).view(2, 1, 1, 2)
    assert sp_loss(student, teacher).item() == pytest.approx(
        1 - math.sqrt(2) / 2, rel=1e-6)


def test_skd_pairwise_hand_worked():
    # 4 x 4 maps, 2 channels; default scale 0.5 -> 2 x 2 max-pool windows
    # -> 4 nodes. Teacher: channel 0 = 1, channel 1 = 0 everywhere: every
    # node is [1, 0], all cosine similarities 1. Student windows (row-major)
    # pool to [1, 0], [0, 1], [0, 1], [1, 0] (the -5 / -3 entries show it is
    # a max, not a mean): similarity 1 between nodes of one kind, 0
    # otherwise. Squared differences: 1 for the 8 of the 16 (i, j) pairs
    # of different kinds, so the mean is 8 / 16 = 0.5.
    teacher = torch.zeros(1, 2, 4, 4)
    teacher[:, 0] = 1.0
    kinds = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    student = kinds.permute(2, 0, 1).repeat_interleave(2, 1)\
        .repeat_interleave(2, 2).unsqueeze(0).clone()
    student[0, 0, 1, 1] = -5.0  # window 0: channel 0 still pools to 1
    student[0, 1, 1, 0] = -3.0  # window 0: channel 1 still pools to 0
    assert skd_pairwise_loss(student, teacher).item() == pytest.approx(
        0.5, rel=1e-6)
    # kernel_size 4: one node each, similarity 1 on both sides -> 0
    assert skd_pairwise_loss(
        student, teacher, scale=None, kernel_size=4).item() == pytest.approx(
            0.0, abs=1e-6)


def test_ickd_hand_worked():
    # 1 image, 2 channels over 2 x 2 positions (flattened row-major).
    # Teacher: ch0 = [1, 0, 0, 0], ch1 = [0, 1, 0, 0] -> G_T = I.
    # Student: ch0 = ch1 = [1, 0, 0, 0] -> G_S = [[1, 1], [1, 1]], rows
    # normalised to 1/sqrt2. Sum of squares of G_T - G_S: 4 - 2 sqrt2 (as
    # in the SP case), divided by C * B = 2: 2 - sqrt2 = 0.585786.
    teacher = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]).view(1, 2, 2, 2)
    student = torch.tensor([[1.0, 0, 0, 0], [1.0, 0, 0, 0]]).view(1, 2, 2, 2)
    assert ickd_loss(student, teacher).item() == pytest.approx(
        2 - math.sqrt(2), rel=1e-6)
    # grid 2 x 2, one position per cell, G = f f^T per cell:
    # cell 0: teacher f = [1, 0] -> [[1, 0], [0, 0]]; student f = [1, 1] ->
    #   rows 1/sqrt2: squares (1 - 1/sqrt2)^2 + 3 * 1/2 = 3 - sqrt2
    # cell 1: teacher f = [0, 1] -> [[0, 0], [0, 1]]; student 0 -> 1
    # cells 2, 3: both zero -> 0
    # total 4 - sqrt2, divided by C * B * cells = 8: 0.323223
    assert ickd_loss(
        student, teacher, grid=2).item() == pytest.approx(
            (4 - math.sqrt(2)) / 8, rel=1e-6)


def test_cwd_hand_worked():
    # 1 image, 2 channels over 2 positions. Teacher ch0 = [0, ln 3] ->
    # softmax [1/4, 3/4]; ch1 = [0, 0] -> uniform. Student uniform in both.
    # KL ch0 = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812, ch1: 0.
    # Loss = tau^2 / (N * C) * sum = 0.130812 / 2 = 0.065406.
    teacher = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]).view(1, 2, 1, 2)
    student = torch.zeros_like(teacher)
    kl = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert cwd_loss(student, teacher).item() == pytest.approx(kl / 2, rel=1e-6)
    # tau = 2: teacher ch0 = softmax([0, ln3 / 2]) = [1, sqrt3] / (1 + sqrt3)
    # KL against uniform = sum p ln(2 p); times tau^2 = 4, over N * C = 2
    p = [1 / (1 + math.sqrt(3)), math.sqrt(3) / (1 + math.sqrt(3))]
    kl_tau2 = sum(q * math.log(2 * q) for q in p)
    assert cwd_loss(
        student, teacher, tau=2.0).item() == pytest.approx(
            4 * kl_tau2 / 2, rel=1e-6)


def test_cwd_not_negative_for_near_equal_maps():
    # Maps 1e-3 apart over N = 96 * 96 positions: each channel's true KL is
    # about 3e-8 (float64), below the float32 rounding of the log-normaliser
    # (log N = 9.2, one ulp = 9.5e-7). The float32 sum per channel is then
    # off by up to a few 1e-7 either way; which channels come out negative
    # depends on the platform's summation order, so 64 channels are used and
    # at least one of them shows it. A KL is >= 0: the loss clamps each
    # channel's KL at 0. (Found by the property test in
    # test_loss_properties.py under one thread.)
    g = torch.Generator().manual_seed(1)
    teacher = torch.randn(1, 64, 96, 96, generator=g) * 1e-3
    student = teacher + torch.randn(1, 64, 96, 96, generator=g) * 1e-3
    log_p_s = F.log_softmax(student.flatten(2) / 4, dim=-1)
    log_p_t = F.log_softmax(teacher.flatten(2) / 4, dim=-1)
    plain = F.kl_div(
        log_p_s, log_p_t, reduction='none', log_target=True).sum(-1)[0]
    assert (plain < 0).any(), plain  # the case still shows the rounding
    lt = F.log_softmax(teacher.double().flatten(2) / 4, dim=-1)
    ls = F.log_softmax(student.double().flatten(2) / 4, dim=-1)
    exact = (lt.exp() * (lt - ls)).sum(-1)[0]
    assert ((exact > 1e-8) & (exact < 1e-7)).all(), exact
    per_channel = torch.stack([
        cwd_loss(student[:, [c]], teacher[:, [c]], tau=4.0) for c in range(64)
    ])
    # 16 = tau**2; the clamped channels are exactly 0, the others within
    # float32 rounding of the exact KL.
    assert (per_channel[plain < 0] == 0).all()
    assert (per_channel >= 0).all()
    torch.testing.assert_close(
        per_channel, 16 * exact.float(), rtol=0, atol=16 * 2e-6)
    assert cwd_loss(
        student, teacher, tau=4.0).item() == pytest.approx(
            per_channel.mean().item(), rel=1e-5)


def test_pixel_kd_ignore_hand_worked():
    # 2 pixels: pixel 0 teacher softmax [1/4, 3/4] vs uniform student,
    # KL = 0.130812; pixel 1 (teacher [0, 10], KL about 0.69) is labelled
    # 255 and left out. mean: 0.130812 / 1 valid pixel; elementwise_mean:
    # / (1 * C = 2); batchmean: / B = 1; sum: itself.
    teacher = torch.tensor([[0.0, 0.0], [math.log(3.0),
                                         10.0]]).view(1, 2, 1, 2)
    student = torch.zeros_like(teacher)
    labels = torch.tensor([[[1, 255]]])
    kl = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    for reduction, expected in [('mean', kl), ('elementwise_mean', kl / 2),
                                ('batchmean', kl), ('sum', kl)]:
        loss = pixel_kd_loss(
            student,
            teacher,
            labels=labels,
            ignore_index=255,
            reduction=reduction)
        assert loss.item() == pytest.approx(expected, rel=1e-6), reduction


# ------------------------------------------- pixel KD: mask, reductions

REDUCTIONS = ['mean', 'elementwise_mean', 'batchmean', 'sum']


@pytest.mark.parametrize('shapes', SAME_C_PAIRS)
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('masked', [False, True])
def test_pixel_kd_mask_and_reduction_match_naive(shapes, reduction, masked):
    student, teacher = randn(shapes[0], 12), randn(shapes[1], 13)
    B, _, H, W = shapes[1]
    labels = torch.randint(
        0, 4, (B, H, W), generator=torch.Generator().manual_seed(14))
    labels[labels == 3] = 255  # about a quarter ignored
    kwargs = dict(labels=labels, ignore_index=255) if masked else {}
    loss = pixel_kd_loss(
        student, teacher, tau=2.0, reduction=reduction, **kwargs)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(
        naive_kd(student, teacher, 2.0, reduction=reduction, **kwargs),
        rel=1e-4,
        abs=1e-7)


def test_pixel_kd_all_ignored_is_zero():
    student = torch.randn(2, 4, 3, 5, requires_grad=True)
    teacher = torch.randn(2, 4, 3, 5)
    labels = torch.full((2, 3, 5), 255)
    for reduction in REDUCTIONS:
        loss = PixelKDLoss(
            ignore_index=255, reduction=reduction)(
                student, teacher, labels=labels)
        assert loss.item() == 0 and not torch.isnan(loss)
        student.grad = None
        loss.backward()
        assert (student.grad == 0).all()


def test_pixel_kd_labels_without_ignore_index_change_nothing():
    student, teacher = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    labels = torch.full((2, 4, 4), 255)
    assert PixelKDLoss()(student, teacher, labels=labels).item() == \
        pixel_kd_loss(student, teacher).item()
    # default reduction without a mask: bit-identical to the old Eq. 1
    assert pixel_kd_loss(student, teacher, reduction='mean').item() == \
        pixel_kd_loss(student, teacher).item()


def test_pixel_kd_reductions_match_torch():
    torch.manual_seed(15)
    s, t = torch.randn(2, 5, 6, 7) * 3, torch.randn(2, 5, 6, 7) * 3
    log_p_s, p_t = F.log_softmax(s, dim=1), F.softmax(t, dim=1)
    # the AICSD code's nn.KLDivLoss() (reduction 'mean': over B*C*H*W)
    with warnings.catch_warnings():  # torch's note on reduction='mean'
        warnings.simplefilter('ignore', UserWarning)
        kl_div_loss = torch.nn.KLDivLoss(reduction='mean')(log_p_s, p_t)
    torch.testing.assert_close(
        pixel_kd_loss(s, t, reduction='elementwise_mean'), kl_div_loss)
    # mmrazor's KLDivergence: tau^2 * kl_div(..., 'batchmean'), / B only
    tau = 2.0
    torch.testing.assert_close(
        pixel_kd_loss(s, t, tau=tau, reduction='batchmean'), tau**2 * F.kl_div(
            F.log_softmax(s / tau, 1),
            F.softmax(t / tau, 1),
            reduction='batchmean'))
    torch.testing.assert_close(
        pixel_kd_loss(s, t, reduction='sum'),
        F.kl_div(log_p_s, p_t, reduction='sum'))
    # 'mean' is C times 'elementwise_mean'
    torch.testing.assert_close(
        pixel_kd_loss(s, t),
        5 * pixel_kd_loss(s, t, reduction='elementwise_mean'))


# ------------------------------------------------------------ behaviour

ALL = [
    pytest.param(at_loss, ATLoss, {}, False, id='at'),
    pytest.param(sp_loss, SPLoss, {}, False, id='sp'),
    pytest.param(
        skd_pairwise_loss, SKDPairwiseLoss, {}, False, id='skd-official'),
    pytest.param(
        skd_pairwise_loss,
        SKDPairwiseLoss,
        dict(scale=None, kernel_size=2, detach_norm=False),
        False,
        id='skd-cirkd'),
    pytest.param(ickd_loss, ICKDLoss, {}, True, id='ickd'),
    pytest.param(ickd_loss, ICKDLoss, dict(grid=(2, 3)), True, id='ickd-grid'),
    pytest.param(cwd_loss, CWDLoss, dict(tau=4.0), True, id='cwd'),
    pytest.param(
        pixel_kd_loss,
        PixelKDLoss,
        dict(reduction='elementwise_mean'),
        True,
        id='kd-elementwise-mean'),
]


def student_teacher(same_channels, seed=16):
    """Student (2, 3 or 5, 12, 14) at twice the teacher's (6, 7) size."""
    student = randn((2, 5 if same_channels else 3, 12, 14), seed)
    teacher = randn((2, 5, 6, 7), seed + 1)
    return student, teacher


@pytest.mark.parametrize('loss_fn,loss_cls,kwargs,same_c', ALL)
def test_gradients_reach_student_only(loss_fn, loss_cls, kwargs, same_c):
    student, teacher = student_teacher(same_c)
    student.requires_grad_()
    teacher.requires_grad_()
    loss = loss_cls(**kwargs)(student, teacher)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0


@pytest.mark.parametrize('loss_fn,loss_cls,kwargs,same_c', ALL)
def test_zero_when_student_equals_teacher(loss_fn, loss_cls, kwargs, same_c):
    teacher = randn((2, 5, 6, 7), 17, scale=5.0)
    loss = loss_fn(teacher.clone(), teacher, **kwargs)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    'loss_fn,loss_cls,kwargs,same_c',
    [p for p in ALL if p.id != 'sp'])  # SP compares samples: no resize
def test_student_resized_to_teacher(loss_fn, loss_cls, kwargs, same_c):
    student, teacher = student_teacher(same_c, seed=18)
    resized = F.interpolate(
        student, size=(6, 7), mode='bilinear', align_corners=False)
    torch.testing.assert_close(
        loss_fn(student, teacher, **kwargs), loss_fn(resized, teacher,
                                                     **kwargs))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss_fn,loss_cls,kwargs,same_c', ALL)
def test_low_precision_inputs_and_autocast(dtype, loss_fn, loss_cls, kwargs,
                                           same_c):
    student, teacher = student_teacher(same_c, seed=19)
    student, teacher = student.to(dtype), teacher.to(dtype)
    reference = loss_fn(student.float(), teacher.float(), **kwargs)
    student.requires_grad_()
    loss = loss_fn(student, teacher, **kwargs)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, reference)
    loss.backward()
    assert student.grad.dtype == dtype
    assert torch.isfinite(student.grad.float()).all()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = loss_fn(student.float(), teacher.float(), **kwargs)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, reference)


@pytest.mark.parametrize('loss_fn,kwargs,per_sample', [
    (at_loss, {}, True),
    (sp_loss, {}, False),
    (skd_pairwise_loss, {}, True),
    (skd_pairwise_loss, dict(scale=None, kernel_size=1,
                             detach_norm=False), True),
    (ickd_loss, dict(grid=2), True),
])
def test_scale_invariant_losses(loss_fn, kwargs, per_sample):
    """Values independent of the maps' scale, also far outside float32
    range for their squares (computed on x / max|x|)."""
    student, teacher = randn((3, 4, 6, 6), 20), randn((3, 4, 6, 6), 21)
    expected = loss_fn(student, teacher, **kwargs)
    factors = torch.tensor([1e-30, 1e3, 1e30]).view(3, 1, 1, 1)
    if not per_sample:
        factors = factors[1:2]
    for s_factor, t_factor in [(factors, 1.0), (1.0, factors), (1e-25, 1e25)]:
        torch.testing.assert_close(
            loss_fn(student * s_factor, teacher * t_factor, **kwargs),
            expected,
            rtol=1e-4,
            atol=1e-7)


@pytest.mark.parametrize('detach_norm', [True, False])
def test_skd_pairwise_gradient_matches_float64(detach_norm):
    """detach_norm: the official code's ``L2(feat).detach()`` vs CIRKD's
    ``F.normalize``, checked against float64 autograd of each formula
    (and the division by max|x| changes no gradient)."""
    student, teacher = randn((2, 3, 8, 6), 22), randn((2, 4, 8, 6), 23)

    def similarity(x):
        nodes = F.max_pool2d(x, 2, 2, ceil_mode=True).flatten(2)
        norm = nodes.norm(dim=1, keepdim=True)
        norm = norm.detach() if detach_norm else norm
        nodes = nodes / norm
        return torch.einsum('bcm,bcn->bmn', nodes, nodes)

    s64 = student.double().requires_grad_()
    ((similarity(s64) - similarity(teacher.double()))**2).mean().backward()
    s32 = (student * 7.0).requires_grad_()
    skd_pairwise_loss(
        s32, teacher, scale=None, kernel_size=2,
        detach_norm=detach_norm).backward()
    # d loss / d (7 x) = (d loss / d x) / 7
    torch.testing.assert_close(
        s32.grad.double() * 7, s64.grad, rtol=1e-4, atol=1e-8)


def test_registry_builds_every_loss():
    student, teacher = student_teacher(True, seed=24)
    for type_, fn, kwargs, name in [
        ('ATLoss', at_loss, dict(p=2.0), 'loss_at'),
        ('SPLoss', sp_loss, {}, 'loss_sp'),
        ('SKDPairwiseLoss', skd_pairwise_loss, dict(scale=None, kernel_size=2),
         'loss_skd_pairwise'),
        ('ICKDLoss', ickd_loss, dict(grid=(2, 2)), 'loss_ickd'),
        ('CWDLoss', cwd_loss, dict(tau=4.0), 'loss_cwd'),
        ('PixelKDLoss', pixel_kd_loss, dict(reduction='sum'), 'loss_kd'),
    ]:
        loss = MODELS.build(dict(type=type_, loss_weight=3.0, **kwargs))
        assert loss.loss_name == name
        assert loss(student, teacher).item() == pytest.approx(
            3.0 * fn(student, teacher, **kwargs).item(), rel=1e-6)
        renamed = MODELS.build(dict(type=type_, loss_name='loss_other'))
        assert renamed.loss_name == 'loss_other'


def test_pixel_kd_loss_takes_labels_in_forward():
    """The segmentor passes ``labels=`` to losses whose forward names it."""
    student = torch.randn(1, 3, 2, 2, requires_grad=True)
    teacher = torch.randn(1, 3, 2, 2, requires_grad=True)
    labels = torch.tensor([[[0, 255], [255, 255]]])
    kd = MODELS.build(dict(type='PixelKDLoss', ignore_index=255))
    loss = kd(student, teacher, labels=labels)
    torch.testing.assert_close(
        loss, pixel_kd_loss(student[..., :1, :1], teacher[..., :1, :1]))
    loss.backward()
    assert teacher.grad is None
    assert (student.grad[..., 1:, :] == 0).all()  # void pixels
    assert (student.grad[..., 0, 1] == 0).all()
    assert student.grad[..., 0, 0].abs().sum() > 0
    with pytest.raises(ValueError, match='ignore_index=255 needs the labels'):
        kd(student, teacher)


# --------------------------------------------------------------- errors


def test_constructor_errors():
    with pytest.raises(ValueError, match='p must be >= 1'):
        ATLoss(p=0.5)
    with pytest.raises(ValueError, match='tau must be positive'):
        CWDLoss(tau=0)
    with pytest.raises(ValueError, match='tau must be positive'):
        CWDLoss(tau=float('nan'))
    with pytest.raises(ValueError, match='tau must be positive'):
        PixelKDLoss(tau=-1.0)
    with pytest.raises(ValueError, match="reduction must be one of.*'none'"):
        PixelKDLoss(reduction='none')
    for grid in (0, (2, 0), (1, 2, 3), (1.5, 2), 2.0):
        with pytest.raises(ValueError, match='grid must be a positive int'):
            ICKDLoss(grid=grid)
    with pytest.raises(ValueError, match='exactly one of scale and kernel'):
        SKDPairwiseLoss(kernel_size=2)  # scale=0.5 by default
    with pytest.raises(ValueError, match='exactly one of scale and kernel'):
        SKDPairwiseLoss(scale=None)
    for scale in (0, 1.5, -0.5):
        with pytest.raises(ValueError, match=r'scale must be in \(0, 1\]'):
            SKDPairwiseLoss(scale=scale)
    for kernel_size in (0, (2, ), (2, -1), 2.0):
        with pytest.raises(ValueError, match='kernel_size must be a pos'):
            SKDPairwiseLoss(scale=None, kernel_size=kernel_size)


@pytest.mark.parametrize('loss_fn', [cwd_loss, ickd_loss])
def test_channel_mismatch_names_both_counts(loss_fn):
    with pytest.raises(
            ValueError,
            match=r'same number of channels; got 128 \(student\) '
            r'and 512 \(teacher\).*connector'):
        loss_fn(torch.randn(1, 128, 4, 4), torch.randn(1, 512, 4, 4))


@pytest.mark.parametrize('loss_fn',
                         [at_loss, skd_pairwise_loss, ickd_loss, cwd_loss])
def test_map_shape_errors(loss_fn):
    with pytest.raises(ValueError, match=r'maps must be \(B, C, H, W\)'):
        loss_fn(torch.randn(4, 5, 5), torch.randn(4, 5, 5))
    with pytest.raises(ValueError, match='maps must have the same batch size'):
        loss_fn(torch.randn(2, 3, 4, 4), torch.randn(3, 3, 4, 4))
    with pytest.raises(ValueError, match=r'maps cannot be resized.*\(4, 8\)'):
        loss_fn(torch.randn(1, 3, 4, 8), torch.randn(1, 3, 8, 8))


def test_sp_shape_errors():
    with pytest.raises(ValueError, match='at least 2 dims'):
        sp_loss(torch.randn(4), torch.randn(4, 3))
    with pytest.raises(ValueError, match='same batch size'):
        sp_loss(torch.randn(2, 3, 4, 4), torch.randn(3, 3, 4, 4))


def test_ickd_grid_finer_than_map():
    with pytest.raises(ValueError, match=r'grid \(4, 2\).*3x5 teacher'):
        ickd_loss(
            torch.randn(1, 2, 6, 10), torch.randn(1, 2, 3, 5), grid=(4, 2))


def test_pixel_kd_labels_shape_error():
    with pytest.raises(
            ValueError,
            match=r'labels must be \(B, H, W\) = '
            r'\(2, 3, 4\).*\(2, 1, 3, 4\)'):
        pixel_kd_loss(
            torch.randn(2, 5, 6, 8),
            torch.randn(2, 5, 3, 4),
            labels=torch.zeros(2, 1, 3, 4, dtype=torch.long),
            ignore_index=255)


def test_match_logits_default_unchanged_and_maps_mode():
    s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 5, 2, 2)
    with pytest.raises(
            ValueError,
            match='logits must have the same batch '
            'size and number of classes'):
        match_logits(s, t)
    resized, same = match_logits(s, t, match_channels=False)
    assert resized.shape == (2, 3, 2, 2) and same is t
    with pytest.raises(ValueError, match=r'logits must be \(B, C, H, W\)'):
        match_logits(s[0], t[0])


def test_divide_by_abs_max():
    x = torch.tensor([[-4.0, 2.0], [0.0, 0.0], [1e-30, -3e-30]])
    torch.testing.assert_close(
        divide_by_abs_max(x),
        torch.tensor([[-1.0, 0.5], [0.0, 0.0], [1 / 3, -1.0]]))
    torch.testing.assert_close(divide_by_abs_max(x, per_sample=False), x / 4)
    x = x.requires_grad_()
    divide_by_abs_max(x).sum().backward()  # the divisor takes no gradient
    torch.testing.assert_close(
        x.grad, torch.tensor([[0.25, 0.25], [1.0, 1.0], [1 / 3e-30] * 2]))


def test_normalize_nonzero():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    y = normalize_nonzero(x, dim=1)
    torch.testing.assert_close(y, torch.tensor([[0.6, 0.8], [0.0, 0.0]]))
    (y * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    # F.normalize's gradient where the norm is nonzero; 0 at the zero row
    # (F.normalize: 1e12 * [3, 4])
    x2 = x.detach().clone()[:1].requires_grad_()
    (F.normalize(x2, dim=1) * torch.tensor([[1.0, 2.0]])).sum().backward()
    torch.testing.assert_close(x.grad[:1], x2.grad)
    assert (x.grad[1] == 0).all()
    # detached norm: the plain quotient's gradient, 1 / ||x||
    x3 = x.detach().clone().requires_grad_()
    normalize_nonzero(x3, dim=1, detach_norm=True).sum().backward()
    torch.testing.assert_close(x3.grad, torch.tensor([[0.2, 0.2], [0, 0]]))


@pytest.mark.parametrize(
    'loss_fn,kwargs,zero',
    [
        (ickd_loss, {}, (slice(None), 0)),  # a dead channel
        (sp_loss, {}, 0),  # an all-zero image
        (skd_pairwise_loss, dict(scale=None, kernel_size=2),
         (slice(None), slice(None), slice(0, 2), slice(0, 2))),  # a zero node
        (skd_pairwise_loss, dict(scale=None, kernel_size=2, detach_norm=False),
         (slice(None), slice(None), slice(0, 2), slice(0, 2))),
    ])
def test_zero_rows_and_nodes_get_no_huge_gradient(loss_fn, kwargs, zero):
    """A zero Gram row or pooled node has no direction; F.normalize's
    epsilon would give it gradients of order 1e12."""
    student, teacher = randn((3, 3, 4, 4), 25), randn((3, 3, 4, 4), 26)
    student[zero] = 0
    student.requires_grad_()
    loss_fn(student, teacher, **kwargs).backward()
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().max() < 1
    if loss_fn is skd_pairwise_loss:  # the node's gradient is 0
        assert (student.grad[zero] == 0).all()
