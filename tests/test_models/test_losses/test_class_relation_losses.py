# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""I2CKD and IDD (class prototypes / centres under the ground truth)
against naive float64 loops over pixels and classes, hand-worked cases,
and extreme inputs."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import I2CKDLoss, IDDLoss, i2ckd_loss, idd_loss
from mmseg_aicsd.models.losses.class_centres import class_centres

IGNORE = 255


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def rand_labels(shape, num_classes, seed, void=0.2):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, shape, generator=gen)
    labels[torch.rand(shape, generator=gen) < void] = IGNORE
    return labels


# ---------------------------------------------------------------- naive


def naive_centres(feats, labels, scope='image'):
    """{image: {class: centre as a list of floats}} by explicit loops."""
    feats = feats.double()
    B, C, H, W = feats.shape
    groups = [[b] for b in range(B)] if scope == 'image' else [range(B)]
    out = []
    for images in groups:
        sums, counts = {}, {}
        for b in images:
            for h in range(H):
                for w in range(W):
                    k = int(labels[b, h, w])
                    if k == IGNORE:
                        continue
                    vec = [feats[b, c, h, w].item() for c in range(C)]
                    old = sums.get(k, [0.0] * C)
                    sums[k] = [x + y for x, y in zip(old, vec)]
                    counts[k] = counts.get(k, 0) + 1
        out.append({k: [x / counts[k] for x in sums[k]] for k in sums})
    return out


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else list(v)


def dist(a, b, distance):
    if distance == 'cosine':
        a, b = unit(a), unit(b)
        return 1 - sum(x * y for x, y in zip(a, b))
    sq = sum((x - y)**2 for x, y in zip(a, b))
    return sq if distance == 'squared_euclidean' else math.sqrt(sq)


def resized(student, teacher):
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student.double(),
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    return student


def naive_i2ckd(student,
                teacher,
                labels,
                margin=1.0,
                distance='euclidean',
                normalize=True,
                negatives='all',
                scope='image'):
    student = resized(student, teacher)
    terms = []
    for s, t in zip(
            naive_centres(student, labels, scope),
            naive_centres(teacher, labels, scope)):
        if normalize:
            s = {k: unit(v) for k, v in s.items()}
            t = {k: unit(v) for k, v in t.items()}
        for c in s:
            pos = dist(s[c], t[c], distance)
            negs = [dist(s[c], t[k], distance) for k in t if k != c]
            if not negs:
                continue
            if negatives == 'hardest':
                negs = [min(negs)]
            terms += [max(0.0, pos - n + margin) for n in negs]
    return sum(terms) / len(terms) if terms else 0.0


def naive_idd(student,
              teacher,
              labels,
              distance='euclidean',
              normalize_centres=False,
              normalize_distances='mean',
              criterion='mse',
              scope='image'):
    student = resized(student, teacher)
    per_image = []
    for s, t in zip(
            naive_centres(student, labels, scope),
            naive_centres(teacher, labels, scope)):
        pairs = list(itertools.combinations(sorted(s), 2))
        if not pairs:
            continue
        mats = []
        for centres in (s, t):
            if normalize_centres:
                centres = {k: unit(v) for k, v in centres.items()}
            d = [dist(centres[j], centres[k], distance) for j, k in pairs]
            if normalize_distances == 'mean':
                mean = sum(d) / len(d)
                d = [x / mean for x in d] if mean > 0 else d
            mats.append(d)
        diffs = [a - b for a, b in zip(*mats)]
        if criterion == 'mse':
            terms = [x * x for x in diffs]
        else:
            terms = [
                0.5 * x * x if abs(x) < 1 else abs(x) - 0.5 for x in diffs
            ]
        per_image.append(sum(terms) / len(terms))
    return sum(per_image) / len(per_image) if per_image else 0.0


# ---------------------------------------------------------------- centres


@pytest.mark.parametrize('scope', ['image', 'batch'])
def test_class_centres_match_loops(scope):
    feats = randn((3, 4, 5, 6), 0)
    labels = rand_labels((3, 5, 6), 5, 1)
    labels[2] = IGNORE  # an all-void image
    centres, present = class_centres(feats, labels, IGNORE, scope)
    expected = naive_centres(feats, labels, scope)
    assert present.shape == centres.shape[:2]
    assert centres.shape[2] == 4
    for b, image in enumerate(expected):
        assert set(present[b].nonzero().flatten().tolist()) == set(image)
        for k, v in image.items():
            torch.testing.assert_close(
                centres[b, k].double(),
                torch.tensor(v, dtype=torch.float64),
                rtol=1e-5,
                atol=1e-6)
        absent = ~present[b]
        assert (centres[b][absent] == 0).all()


def test_class_centres_errors():
    feats = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r'labels must be \(B, H, W\)'):
        class_centres(feats, torch.zeros(2, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match='>= 0 or ignore_index'):
        class_centres(feats, torch.full((2, 4, 4), -1))
    with pytest.raises(ValueError, match='scope'):
        class_centres(
            feats, torch.zeros(2, 4, 4, dtype=torch.long), scope='dataset')


# ---------------------------------------------------------------- I2CKD

I2CKD_CASES = [
    dict(),
    dict(normalize=False, margin=3.0),
    dict(distance='squared_euclidean', margin=0.5),
    dict(distance='cosine', margin=0.2),
    dict(negatives='hardest'),
    dict(normalize=False, negatives='hardest', margin=5.0),
    dict(scope='batch'),
]


@pytest.mark.parametrize('kwargs', I2CKD_CASES, ids=str)
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 6, 5), (2, 3, 6, 5)),
        ((3, 4, 8, 10), (3, 4, 4, 5)),  # student at twice the size
    ])
def test_i2ckd_matches_loops(kwargs, s_shape, t_shape):
    student, teacher = randn(s_shape, 2), randn(t_shape, 3)
    labels = rand_labels((t_shape[0], ) + t_shape[2:], 4, 4)
    loss = i2ckd_loss(student, teacher, labels, **kwargs)
    expected = naive_i2ckd(student, teacher, labels, **kwargs)
    assert expected > 0  # the case tests something
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_i2ckd_hand_worked():
    """Two classes, one pixel each, 2-D features, no normalisation:
    aligned prototypes give max(0, 0 - sqrt(2) + m), swapped ones
    max(0, sqrt(2) - 0 + m)."""
    labels = torch.tensor([[[0, 1]]])
    teacher = torch.tensor([[[[1., 0.]], [[0., 1.]]]])  # t0 = e1, t1 = e2
    swapped = teacher.flip(-1)  # s0 = e2, s1 = e1
    kw = dict(normalize=False)
    assert i2ckd_loss(teacher, teacher, labels, **kw).item() == 0
    assert i2ckd_loss(
        teacher, teacher, labels, margin=2.0,
        **kw).item() == pytest.approx(2 - math.sqrt(2))
    assert i2ckd_loss(swapped, teacher, labels,
                      **kw).item() == pytest.approx(math.sqrt(2) + 1)
    # scaled features: the same with normalize=True
    assert i2ckd_loss(swapped * 7, teacher * 0.1,
                      labels).item() == pytest.approx(math.sqrt(2) + 1)


def test_i2ckd_gradient_to_student_only():
    student = randn((2, 3, 4, 4), 5).requires_grad_()
    teacher = randn((2, 3, 4, 4), 6).requires_grad_()
    labels = rand_labels((2, 4, 4), 3, 7)
    loss = I2CKDLoss(loss_weight=2.0)(student, teacher, labels)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(
        2 * naive_i2ckd(student.detach(), teacher.detach(), labels), rel=1e-5)


def test_i2ckd_needs_a_connector_for_other_widths():
    with pytest.raises(ValueError, match='connector'):
        i2ckd_loss(
            torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4),
            torch.zeros(1, 4, 4, dtype=torch.long))


def test_i2ckd_argument_errors():
    for kwargs, match in [(dict(margin=-1), 'margin'),
                          (dict(distance='l1'), 'distance'),
                          (dict(negatives='semi-hard'), 'negatives'),
                          (dict(scope='all'), 'scope')]:
        with pytest.raises(ValueError, match=match):
            I2CKDLoss(**kwargs)


# ---------------------------------------------------------------- IDD

IDD_CASES = [
    dict(),
    dict(normalize_distances='none'),
    dict(normalize_centres=True),
    dict(distance='squared_euclidean'),
    dict(distance='cosine'),
    dict(criterion='smooth_l1', normalize_distances='none'),
    dict(scope='batch'),
]


@pytest.mark.parametrize('kwargs', IDD_CASES, ids=str)
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 6, 5), (2, 3, 6, 5)),
        ((3, 2, 8, 10), (3, 5, 4, 5)),  # other width, twice the size
    ])
def test_idd_matches_loops(kwargs, s_shape, t_shape):
    student, teacher = randn(s_shape, 8), randn(t_shape, 9)
    labels = rand_labels((t_shape[0], ) + t_shape[2:], 4, 10)
    loss = idd_loss(student, teacher, labels, **kwargs)
    expected = naive_idd(student, teacher, labels, **kwargs)
    assert expected > 0
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_idd_hand_worked():
    """1-D centres 0, 1, 3 (teacher) and 0, 2, 4 (student): distances
    (1, 3, 2) and (2, 4, 2); mean-normalised (0.5, 1.5, 1) and
    (0.75, 1.5, 0.75), so the loss is (0.25^2 + 0 + 0.25^2) / 3; without
    normalisation (1 + 1 + 0) / 3."""
    labels = torch.tensor([[[0, 1, 2, 255]]])
    teacher = torch.tensor([[[[0., 1., 3., 99.]]]])
    student = torch.tensor([[[[0., 2., 4., -99.]]]])
    assert idd_loss(student, teacher,
                    labels).item() == pytest.approx(0.125 / 3)
    assert idd_loss(
        student, teacher, labels,
        normalize_distances='none').item() == pytest.approx(2 / 3)
    # the feature scale drops out with 'mean' normalisation
    assert idd_loss(student * 50, teacher,
                    labels).item() == pytest.approx(0.125 / 3)


def test_idd_gradient_to_student_only():
    student = randn((2, 3, 4, 4), 11).requires_grad_()
    teacher = randn((2, 6, 4, 4), 12).requires_grad_()
    labels = rand_labels((2, 4, 4), 3, 13)
    loss = IDDLoss(loss_weight=3.0)(student, teacher, labels)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(
        3 * naive_idd(student.detach(), teacher.detach(), labels), rel=1e-5)


def test_idd_argument_errors():
    for kwargs in [
            dict(distance='l1'),
            dict(normalize_distances='max'),
            dict(criterion='l1'),
            dict(scope='all')
    ]:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            IDDLoss(**kwargs)


# ---------------------------------------------------------------- both

BOTH = [pytest.param(i2ckd_loss, id='i2ckd'), pytest.param(idd_loss, id='idd')]


@pytest.mark.parametrize('loss_fn', BOTH)
@pytest.mark.parametrize(
    'labels',
    [
        torch.full((2, 3, 3), IGNORE),  # all void
        torch.zeros(2, 3, 3, dtype=torch.long),  # one class per image
        torch.tensor([[[0] * 3] * 3, [[2] * 3] * 3]),  # one class each, two in
    ])  # the batch
def test_fewer_than_two_classes_give_zero(loss_fn, labels):
    student = randn((2, 3, 3, 3), 14).requires_grad_()
    loss = loss_fn(student, randn((2, 3, 3, 3), 15), labels)
    loss.backward()
    assert loss.item() == 0 and loss.dtype == torch.float32
    assert student.grad is not None and (student.grad == 0).all()


@pytest.mark.parametrize('loss_fn', BOTH)
def test_coinciding_centres_give_finite_gradients(loss_fn):
    """Zero (dead) features: every centre is 0 and every distance 0."""
    student = torch.zeros(1, 3, 4, 4, requires_grad=True)
    labels = rand_labels((1, 4, 4), 3, 16, void=0)
    loss = loss_fn(student, torch.zeros(1, 3, 4, 4), labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(student.grad).all()


@pytest.mark.parametrize('loss_fn', BOTH)
def test_labels_at_another_size_raise(loss_fn):
    with pytest.raises(ValueError, match='labels must be'):
        loss_fn(
            torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 4, 4),
            torch.zeros(1, 8, 8, dtype=torch.long))


@pytest.mark.parametrize('loss_fn', BOTH)
def test_nan_propagates(loss_fn):
    maps = randn((2, 3, 4, 4), 17)
    bad = maps.clone()
    bad[1, 0, 0, 0] = float('nan')
    labels = rand_labels((2, 4, 4), 3, 18, void=0)
    assert torch.isnan(loss_fn(maps, bad, labels))


@pytest.mark.parametrize('loss_fn', BOTH)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_finite_for_extreme_inputs(loss_fn, data):
    """float32 / float16 / bfloat16 maps, scales 1e-20 to 1e20 (1e-2 to
    1e3 in float16), zero and ReLU maps, up to 40 classes."""
    dtype = data.draw(
        st.sampled_from((torch.float32, torch.float16, torch.bfloat16)))
    B, C = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 16))
    H, W = data.draw(st.integers(1, 24)), data.draw(st.integers(1, 24))
    K = data.draw(st.integers(1, 40))
    scales = (1e-2, 1.0, 1e3) if dtype == torch.float16 else (1e-20, 1.0, 1e20)
    seed = data.draw(st.integers(0, 2**31 - 1))
    maps = []
    for i in range(2):
        x = randn((B, C, H, W), seed + i, data.draw(st.sampled_from(scales)))
        pattern = data.draw(st.sampled_from(('random', 'relu', 'zeros')))
        x = x.clamp_min(0) if pattern == 'relu' else (
            x * 0 if pattern == 'zeros' else x)
        maps.append(x.to(dtype))
    labels = rand_labels((B, H, W), K, seed)
    student = maps[0].requires_grad_()
    loss = loss_fn(student, maps[1], labels)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss) and loss >= 0
    assert student.grad.dtype == dtype
    assert torch.isfinite(student.grad).all()
    # student equals teacher: zero for IDD, at most the margin for I2CKD
    same = loss_fn(maps[1], maps[1], labels).item()
    assert same <= (1.0 + 1e-5 if loss_fn is i2ckd_loss else 1e-5), same


def test_low_precision_close_to_float32():
    student, teacher = randn((2, 8, 6, 6), 19), randn((2, 8, 6, 6), 20)
    labels = rand_labels((2, 6, 6), 4, 21)
    for loss_fn in (i2ckd_loss, idd_loss):
        ref = loss_fn(student, teacher, labels).item()
        for dtype in (torch.float16, torch.bfloat16):
            low = loss_fn(student.to(dtype), teacher.to(dtype), labels)
            assert low.item() == pytest.approx(ref, rel=0.05, abs=1e-3)


def test_registered_and_built_from_config():
    i2ckd = MODELS.build(dict(type='I2CKDLoss', margin=0.5, loss_weight=2.))
    idd = MODELS.build(dict(type='IDDLoss', criterion='smooth_l1'))
    assert (i2ckd.loss_name, i2ckd.margin, i2ckd.loss_weight) == ('loss_i2ckd',
                                                                  0.5, 2.0)
    assert (idd.loss_name, idd.criterion) == ('loss_idd', 'smooth_l1')
