# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""CIRKD: the mini-batch pixel-to-pixel loss and the memory contrast
against naive float64 loops over images, pixels and memory entries; the
memory bank's writes, growth and state; gradients and bad inputs."""
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import (CIRKDLoss, CIRKDMemoryLoss, cirkd_loss,
                                       memory_contrast_loss)

IGNORE = 255


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def rand_labels(shape, num_classes, seed, void=0.2):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, shape, generator=gen)
    labels[torch.rand(shape, generator=gen) < void] = IGNORE
    return labels


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else list(v)


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def kl_of_softmaxes(t_logits, s_logits):
    """KL(softmax(t) || softmax(s)) of two lists."""

    def log_softmax(z):
        top = max(z)
        log_sum = top + math.log(sum(math.exp(v - top) for v in z))
        return [v - log_sum for v in z]

    lt, ls = log_softmax(t_logits), log_softmax(s_logits)
    return sum(math.exp(a) * (a - b) for a, b in zip(lt, ls))


def resized(student, teacher):
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student.double(),
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    return student.double()


def naive_pool(feats, k):
    """k x k average pooling, stride k, windows past the border averaging
    the pixels inside."""
    B, C, H, W = feats.shape
    Ho, Wo = -(-H // k), -(-W // k)
    out = torch.zeros(B, C, Ho, Wo, dtype=torch.float64)
    for b in range(B):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    vals = [
                        feats[b, c, h, w].item()
                        for h in range(i * k, min(i * k + k, H))
                        for w in range(j * k, min(j * k + k, W))
                    ]
                    out[b, c, i, j] = sum(vals) / len(vals)
    return out


def embeddings(feats):
    """[[unit embedding of each pixel] for each image]."""
    B, C, H, W = feats.shape
    return [[
        unit([feats[b, c, h, w].item() for c in range(C)]) for h in range(H)
        for w in range(W)
    ] for b in range(B)]


def naive_cirkd(student, teacher, tau=0.1, pool_size=1):
    student = resized(student, teacher)
    teacher = teacher.double()
    if pool_size > 1:
        student = naive_pool(student, pool_size)
        teacher = naive_pool(teacher, pool_size)
    s, t = embeddings(student), embeddings(teacher)
    B, N = len(s), len(s[0])
    total = 0.0
    for b in range(B):
        for b2 in range(B):
            for i in range(N):
                s_row = [dot(s[b][i], s[b2][j]) / tau for j in range(N)]
                t_row = [dot(t[b][i], t[b2][j]) / tau for j in range(N)]
                total += kl_of_softmaxes(t_row, s_row)
    return total / (B * B * N)


def naive_memory(student, teacher, labels, memory, tau=0.1, kd_tau=1.0):
    student = resized(student, teacher)
    s, t = embeddings(student), embeddings(teacher.double())
    memory = memory.double().tolist()
    flat = labels.flatten(1)
    terms = []
    for b in range(len(s)):
        for i in range(len(s[b])):
            if int(flat[b, i]) == IGNORE:
                continue
            s_row = [dot(s[b][i], m) / (tau * kd_tau) for m in memory]
            t_row = [dot(t[b][i], m) / (tau * kd_tau) for m in memory]
            terms.append(kl_of_softmaxes(t_row, s_row))
    return kd_tau**2 * sum(terms) / len(terms) if terms else 0.0


def unit_memory(rows, channels, seed):
    return F.normalize(randn((rows, channels), seed), dim=1)


DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def extreme_map(base, scale, pattern, dtype):
    if dtype == torch.float16:  # its range: 6e-8 to 65504
        scale = {1e-20: 1e-2, 1e20: 1e3}.get(scale, scale)
    x = base * scale
    x = x.clamp_min(0) if pattern == 'relu' else (
        x * 0 if pattern == 'zeros' else x)
    return x.to(dtype)


# ------------------------------------------------------- mini-batch loss


@pytest.mark.parametrize('kwargs', [dict(), dict(tau=0.5)], ids=str)
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 3, 4), (2, 3, 3, 4)),
        ((3, 2, 6, 8), (3, 5, 3, 4)),  # other width, twice the size
    ])
def test_cirkd_matches_loops(kwargs, s_shape, t_shape):
    student, teacher = randn(s_shape, 0), randn(t_shape, 1)
    loss = cirkd_loss(student, teacher, **kwargs)
    expected = naive_cirkd(student, teacher, **kwargs)
    assert expected > 0
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize('shape', [(2, 3, 4, 6), (2, 3, 5, 7)])
def test_cirkd_pooled_matches_loops(shape):
    student, teacher = randn(shape, 2), randn(shape, 3)
    loss = cirkd_loss(student, teacher, pool_size=2)
    expected = naive_cirkd(student, teacher, pool_size=2)
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_cirkd_hand_worked():
    """Equal embeddings: 0 (whatever the scale and width). One image of
    two pixels with orthogonal teacher embeddings and equal student ones:
    each teacher row is softmax(1/tau, 0), each student row uniform, so
    the loss is KL((q, 1 - q) || (1/2, 1/2)) = log 2 - H(q)."""
    feats = randn((2, 3, 2, 2), 4)
    assert cirkd_loss(feats * 5, feats).item() == pytest.approx(0, abs=1e-6)
    teacher = torch.tensor([[[[1., 0.]], [[0., 1.]]]])  # e1, e2
    student = torch.tensor([[[[1., 1.]], [[1., 1.]]]])
    tau = 0.5
    q = math.exp(1 / tau) / (math.exp(1 / tau) + 1)
    expected = math.log(2) + q * math.log(q) + (1 - q) * math.log(1 - q)
    assert cirkd_loss(
        student, teacher, tau=tau).item() == pytest.approx(
            expected, rel=1e-5)


def test_cirkd_gradient_to_student_only():
    student = randn((2, 3, 3, 3), 5).requires_grad_()
    teacher = randn((2, 4, 3, 3), 6).requires_grad_()
    loss = CIRKDLoss(loss_weight=2.0)(student, teacher)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(
        2 * naive_cirkd(student.detach(), teacher.detach()), rel=1e-4)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_cirkd_low_precision_inputs_give_float32(dtype):
    student, teacher = randn((2, 4, 3, 3), 7), randn((2, 4, 3, 3), 8)
    low = cirkd_loss(student.to(dtype), teacher.to(dtype))
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(
        naive_cirkd(student.to(dtype).float(),
                    teacher.to(dtype).float()),
        rel=1e-4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        auto = cirkd_loss(student, teacher)
    assert auto.dtype == torch.float32
    assert auto.item() == pytest.approx(
        naive_cirkd(student, teacher), rel=1e-4)


def test_cirkd_zero_features_finite():
    student = torch.zeros(2, 3, 3, 3, requires_grad=True)
    loss = cirkd_loss(student, randn((2, 3, 3, 3), 9))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(student.grad).all()


def test_cirkd_bad_inputs():
    feats = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match='batch size'):
        cirkd_loss(feats, torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match='aspect ratios'):
        cirkd_loss(torch.zeros(2, 3, 4, 16), feats)
    for kwargs, match in [(dict(tau=0), 'tau'),
                          (dict(pool_size=0), 'pool_size'),
                          (dict(pool_size=1.5), 'pool_size')]:
        with pytest.raises(ValueError, match=match):
            CIRKDLoss(**kwargs)
        with pytest.raises(ValueError, match=match):
            cirkd_loss(feats, feats, **kwargs)


# ------------------------------------------------------- memory contrast


@pytest.mark.parametrize(
    'kwargs', [dict(), dict(tau=0.5, kd_tau=2.0)], ids=str)
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 3, 4), (2, 3, 3, 4)),
        ((2, 3, 6, 8), (2, 3, 3, 4)),  # student at twice the size
    ])
def test_memory_contrast_matches_loops(kwargs, s_shape, t_shape):
    student, teacher = randn(s_shape, 10), randn(t_shape, 11)
    labels = rand_labels((t_shape[0], ) + t_shape[2:], 3, 12)
    memory = unit_memory(7, 3, 13)
    loss = memory_contrast_loss(student, teacher, labels, memory, **kwargs)
    expected = naive_memory(student, teacher, labels, memory, **kwargs)
    assert expected > 0
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_memory_contrast_errors():
    feats, labels = torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4).long()
    with pytest.raises(ValueError, match='connector'):
        memory_contrast_loss(
            torch.zeros(1, 2, 4, 4), feats, labels, unit_memory(4, 3, 0))
    with pytest.raises(ValueError, match=r'memory must be an \(M, C\)'):
        memory_contrast_loss(feats, feats, labels, unit_memory(4, 2, 0))
    with pytest.raises(ValueError, match='labels must be'):
        memory_contrast_loss(feats, feats,
                             torch.zeros(1, 8, 8).long(), unit_memory(4, 3, 0))
    with pytest.raises(ValueError, match='kd_tau'):
        memory_contrast_loss(
            feats, feats, labels, unit_memory(4, 3, 0), kd_tau=0)


def small_memory_loss(**kwargs):
    cfg = dict(
        pixel_memory_size=5,
        region_memory_size=3,
        pixel_contrast_size=1000,
        region_contrast_size=1000)
    cfg.update(kwargs)
    return CIRKDMemoryLoss(**cfg)


def test_memory_writes_and_ring_positions():
    """One image: class 0 at 3 pixels, class 1 at 2, one void pixel.
    Each forward writes every pixel of a class (16 per update allowed)
    and one centre per class, at the ring positions."""
    labels = torch.tensor([[[0, 0, 0], [1, 1, IGNORE]]])
    teacher = randn((1, 4, 2, 3), 14)
    unit_t = F.normalize(teacher, dim=1).flatten(2)[0].t()  # (6, 4)
    loss = small_memory_loss()
    loss(teacher, teacher, labels)
    assert loss.pixel_memory.shape == (2, 5, 4)
    assert loss.region_memory.shape == (2, 3, 4)
    assert loss.pixel_ptr.tolist() == [3, 2]
    assert loss.region_ptr.tolist() == [1, 1]

    def rows(t):
        return sorted(tuple(round(v, 5) for v in r) for r in t.tolist())

    assert rows(loss.pixel_memory[0, :3]) == rows(unit_t[:3])
    assert rows(loss.pixel_memory[1, :2]) == rows(unit_t[3:5])
    for k, pixels in ((0, unit_t[:3]), (1, unit_t[3:5])):
        torch.testing.assert_close(loss.region_memory[k, 0],
                                   F.normalize(pixels.mean(0), dim=0))
    # the unwritten slots still hold unit vectors
    torch.testing.assert_close(
        loss.pixel_memory.norm(dim=2), torch.ones(2, 5), rtol=0, atol=1e-5)
    # second forward: class 0 wraps (slots 3, 4, 0), class 1 fills 2, 3
    teacher2 = randn((1, 4, 2, 3), 15)
    unit_t2 = F.normalize(teacher2, dim=1).flatten(2)[0].t()
    loss(teacher2, teacher2, labels)
    assert loss.pixel_ptr.tolist() == [1, 4]
    assert loss.region_ptr.tolist() == [2, 2]
    assert rows(loss.pixel_memory[0, [3, 4, 0]]) == rows(unit_t2[:3])
    assert set(rows(loss.pixel_memory[0, 1:3])) <= set(rows(unit_t[:3]))
    assert rows(loss.pixel_memory[1, 2:4]) == rows(unit_t2[3:5])
    # at most pixels_per_update pixels per image and class
    few = small_memory_loss(pixels_per_update=2)
    few(teacher, teacher, labels)
    assert few.pixel_ptr.tolist() == [2, 2]


def test_memory_forward_matches_loops():
    """With contrast sizes above the memory, every slot is contrasted:
    the loss is the weighted sum of the two terms over the whole (just
    updated) memory."""
    student, teacher = randn((2, 3, 3, 4), 16), randn((2, 3, 3, 4), 17)
    labels = rand_labels((2, 3, 4), 3, 18)
    loss_fn = small_memory_loss(
        pixel_weight=0.3, region_weight=0.7, loss_weight=2.0)
    loss = loss_fn(student, teacher, labels)
    pixel = naive_memory(student, teacher, labels,
                         loss_fn.pixel_memory.reshape(-1, 3))
    region = naive_memory(student, teacher, labels,
                          loss_fn.region_memory.reshape(-1, 3))
    assert loss.item() == pytest.approx(
        2.0 * (0.3 * pixel + 0.7 * region), rel=1e-5)


def test_memory_samples_the_same_slots_of_every_class():
    loss_fn = small_memory_loss(pixel_contrast_size=4)  # 4 // 2 + 1 = 3
    labels = torch.tensor([[[0, 1]]])
    loss_fn(randn((1, 3, 1, 2), 19), randn((1, 3, 1, 2), 20), labels)
    torch.manual_seed(0)
    sample = loss_fn._sample(loss_fn.pixel_memory, 4)
    assert sample.shape == (6, 3)
    torch.manual_seed(0)
    slots = torch.randperm(5)[:3]
    torch.testing.assert_close(sample[:3], loss_fn.pixel_memory[0, slots])
    torch.testing.assert_close(sample[3:], loss_fn.pixel_memory[1, slots])


def test_memory_grows_with_the_labels():
    loss_fn = small_memory_loss()
    loss_fn(
        randn((1, 3, 2, 2), 21), randn((1, 3, 2, 2), 22),
        torch.tensor([[[0, 1], [1, 0]]]))
    kept = loss_fn.pixel_memory.clone()
    assert kept.shape[0] == 2
    loss_fn(
        randn((1, 3, 2, 2), 23), randn((1, 3, 2, 2), 24),
        torch.tensor([[[3, 3], [3, IGNORE]]]))
    assert loss_fn.pixel_memory.shape == (4, 5, 3)
    assert loss_fn.pixel_ptr.tolist() == [2, 2, 0, 3]
    torch.testing.assert_close(loss_fn.pixel_memory[:2], kept)
    # a fixed class count: allocated at once, larger labels refused
    fixed = small_memory_loss(num_classes=5)
    fixed(
        randn((1, 3, 2, 2), 21), randn((1, 3, 2, 2), 22),
        torch.tensor([[[0, 1], [1, 0]]]))
    assert fixed.pixel_memory.shape == (5, 5, 3)
    with pytest.raises(ValueError, match='num_classes=5'):
        fixed(
            randn((1, 3, 2, 2), 21), randn((1, 3, 2, 2), 22),
            torch.tensor([[[0, 5], [1, 0]]]))


def test_memory_state_stays_out_of_checkpoints():
    loss_fn = small_memory_loss()
    loss_fn(
        randn((1, 3, 2, 2), 25), randn((1, 3, 2, 2), 26),
        torch.tensor([[[0, 1], [1, 0]]]))
    assert dict(loss_fn.state_dict()) == {}
    names = {name for name, _ in loss_fn.named_buffers()}
    assert names == {
        'pixel_memory', 'region_memory', 'pixel_ptr', 'region_ptr'
    }


def test_memory_all_void_gives_zero_and_gradient_to_student_only():
    student = randn((2, 3, 2, 2), 27).requires_grad_()
    loss = small_memory_loss()(student, randn((2, 3, 2, 2), 28),
                               torch.full((2, 2, 2), IGNORE))
    loss.backward()
    assert loss.item() == 0 and (student.grad == 0).all()
    student = randn((2, 3, 2, 2), 29).requires_grad_()
    teacher = randn((2, 3, 2, 2), 30).requires_grad_()
    loss = small_memory_loss()(student, teacher,
                               rand_labels((2, 2, 2), 3, 31, void=0))
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0


def test_memory_errors():
    feats, labels = torch.zeros(1, 3, 2, 2), torch.zeros(1, 2, 2).long()
    with pytest.raises(ValueError, match='connector'):
        small_memory_loss()(torch.zeros(1, 2, 2, 2), feats, labels)
    loss_fn = small_memory_loss()
    loss_fn(feats, feats, labels)
    with pytest.raises(ValueError, match='one pair of maps'):
        loss_fn(torch.zeros(1, 4, 2, 2), torch.zeros(1, 4, 2, 2), labels)
    for kwargs, match in [(dict(pixel_memory_size=0), 'pixel_memory_size'),
                          (dict(num_classes=0), 'num_classes'),
                          (dict(pixels_per_update=2.0), 'pixels_per_update'),
                          (dict(tau=-1), 'tau')]:
        with pytest.raises(ValueError, match=match):
            CIRKDMemoryLoss(**kwargs)


@pytest.mark.parametrize('dtype', DTYPES, ids=str)
@pytest.mark.parametrize('scale', [1e-20, 1.0, 1e20])
@pytest.mark.parametrize('pattern', ['random', 'relu', 'zeros'])
def test_finite_and_scale_free_for_extreme_maps(dtype, scale, pattern):
    """Both losses on maps from 1e-20 to 1e20 (1e-2 to 1e3 in float16),
    ReLU-sparse and zero: finite float32 values and gradients, and in
    float32 the value at scale 1."""
    labels = rand_labels((2, 3, 3), 3, 52)
    memory = unit_memory(6, 4, 53)
    losses = [
        cirkd_loss, lambda s, t: memory_contrast_loss(s, t, labels, memory)
    ]
    base_s, base_t = randn((2, 4, 3, 3), 50), randn((2, 4, 3, 3), 51)
    for loss_fn in losses:
        student = extreme_map(base_s, scale, pattern, dtype).requires_grad_()
        teacher = extreme_map(base_t, scale, pattern, dtype)
        loss = loss_fn(student, teacher)
        (grad, ) = torch.autograd.grad(loss, student)
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        assert loss >= 0
        assert grad.dtype == dtype and torch.isfinite(grad).all()
        if dtype == torch.float32:
            at_one = loss_fn(
                extreme_map(base_s, 1.0, pattern, dtype),
                extreme_map(base_t, 1.0, pattern, dtype))
            assert loss.item() == pytest.approx(at_one.item(), rel=1e-4)


def test_memory_loss_under_autocast_gives_float32():
    student, teacher = randn((2, 3, 3, 4), 54), randn((2, 3, 3, 4), 55)
    labels = rand_labels((2, 3, 4), 3, 56)
    loss_fn = small_memory_loss()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = loss_fn(student, teacher, labels)
    assert loss.dtype == torch.float32
    assert loss_fn.pixel_memory.dtype == torch.float32
    pixel = naive_memory(student, teacher, labels,
                         loss_fn.pixel_memory.reshape(-1, 3))
    region = naive_memory(student, teacher, labels,
                          loss_fn.region_memory.reshape(-1, 3))
    assert loss.item() == pytest.approx(0.1 * pixel + 0.1 * region, rel=1e-5)


DDP_LABELS = torch.tensor([[[0, 0, 1], [1, 2, IGNORE]]])


def ddp_teacher(rank):
    return randn((1, 3, 2, 3), 40 + rank)


def _ddp_worker(rank, world_size, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    torch.manual_seed(rank)  # other random draws on each process
    loss_fn = small_memory_loss()
    teacher = ddp_teacher(rank)
    loss = loss_fn(teacher, teacher, DDP_LABELS)
    torch.save(
        dict(
            loss=loss,
            pixel=loss_fn.pixel_memory,
            region=loss_fn.region_memory,
            pixel_ptr=loss_fn.pixel_ptr,
            region_ptr=loss_fn.region_ptr), os.path.join(out, f'{rank}.pt'))
    dist.destroy_process_group()


def test_memory_gathers_the_batches_of_all_processes(tmp_path):
    """Two gloo processes, one image each: each process's memory receives
    both images, in rank order (the centres) and as the same set of unit
    embeddings (the pixels)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2)
    got = [torch.load(tmp_path / f'{r}.pt') for r in range(2)]
    units = [
        F.normalize(ddp_teacher(r), dim=1).flatten(2)[0].t() for r in range(2)
    ]
    flat = DDP_LABELS.flatten()
    for g in got:
        assert g['pixel_ptr'].tolist() == [4, 4, 2]
        assert g['region_ptr'].tolist() == [2, 2, 2]
        for k in range(3):
            pixels = [u[flat == k] for u in units]
            for r in range(2):  # rank r's image in slot r
                torch.testing.assert_close(
                    g['region'][k, r], F.normalize(pixels[r].mean(0), dim=0))
            n = len(pixels[0]) * 2
            written = sorted(
                tuple(round(v, 5) for v in row)
                for row in g['pixel'][k, :n].tolist())
            expected = sorted(
                tuple(round(v, 5) for v in row)
                for row in torch.cat(pixels).tolist())
            assert written == expected
        assert torch.isfinite(g['loss'])


def test_cirkd_registered_and_built_from_config():
    loss = MODELS.build(dict(type='CIRKDLoss', pool_size=2))
    assert (loss.loss_name, loss.tau, loss.pool_size) == ('loss_cirkd', 0.1, 2)
    memory = MODELS.build(dict(type='CIRKDMemoryLoss'))
    assert (memory.loss_name, memory.pixel_memory_size,
            memory.region_memory_size, memory.pixel_weight,
            memory.region_weight) == ('loss_cirkd_memory', 20000, 2000, 0.1,
                                      0.1)
