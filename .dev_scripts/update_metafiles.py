# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Write ``configs/<method>/metafile.yaml`` from the configs and the study.

One metafile per method folder, in mmseg's schema: a Collection (name,
paper, README, code) and one Model per config of the folder (name, config,
training data, batch size, architecture, teacher). CamVid models that the
seeded CamVid study trained get ``Results`` with the mean val mIoU over the
seeds of their committed run summaries (``runs/<row>_seed<n>.json``), and
the student-alone (baseline) and teacher mIoU over the same seeds. No other
model has ``Results``: the Cityscapes and VOC configs were not trained here
(the published numbers are in each folder's README, marked so).

    python .dev_scripts/update_metafiles.py           # write the metafiles
    python .dev_scripts/update_metafiles.py --check   # exit 1 if one differs

``tests/test_metafiles.py`` runs the check.
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
import sys

import yaml
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# the CamVid study's run summaries (<row>_seed<n>.json)
SUMMARY_DIR = 'studies/camvid/runs'

CODE = 'mmseg_aicsd/models/losses/'
COLLECTIONS = {
    'aicsd':
    dict(
        Name='AICSD',
        Title='AICSD: Adaptive Inter-Class Similarity Distillation for '
        'Semantic Segmentation',
        URL='https://arxiv.org/abs/2308.04243',
        Code=CODE + 'icsd_loss.py'),
    'kd':
    dict(
        Name='KD',
        Title='Distilling the Knowledge in a Neural Network',
        URL='https://arxiv.org/abs/1503.02531',
        Code=CODE + 'pixel_kd_loss.py'),
    'at':
    dict(
        Name='AT',
        Title='Paying More Attention to Attention: Improving the Performance '
        'of Convolutional Neural Networks via Attention Transfer',
        URL='https://arxiv.org/abs/1612.03928',
        Code=CODE + 'at_loss.py'),
    'sp':
    dict(
        Name='SP',
        Title='Similarity-Preserving Knowledge Distillation',
        URL='https://arxiv.org/abs/1907.09682',
        Code=CODE + 'sp_loss.py'),
    'ickd':
    dict(
        Name='ICKD',
        Title='Exploring Inter-Channel Correlation for Diversity-preserved '
        'Knowledge Distillation',
        URL='https://arxiv.org/abs/2202.03680',
        Code=CODE + 'ickd_loss.py'),
    'cwd':
    dict(
        Name='CWD',
        Title='Channel-wise Knowledge Distillation for Dense Prediction',
        URL='https://arxiv.org/abs/2011.13256',
        Code=CODE + 'cwd_loss.py'),
    'i2ckd':
    dict(
        Name='I2CKD',
        Title='I2CKD: Intra- and Inter-Class Knowledge Distillation for '
        'Semantic Segmentation',
        URL='https://arxiv.org/abs/2403.18490',
        Code=CODE + 'i2ckd_loss.py'),
    'idd':
    dict(
        Name='IDD',
        Title='Distilling Inter-Class Distance for Semantic Segmentation',
        URL='https://arxiv.org/abs/2205.03650',
        Code=CODE + 'idd_loss.py'),
    'fitnet':
    dict(
        Name='FitNet',
        Title='FitNets: Hints for Thin Deep Nets',
        URL='https://arxiv.org/abs/1412.6550',
        Code=CODE + 'fitnet_loss.py'),
    'ifvd':
    dict(
        Name='IFVD',
        Title='Intra-class Feature Variation Distillation for Semantic '
        'Segmentation',
        # ECCV 2020; no arXiv version
        URL='https://www.ecva.net/papers/eccv_2020/papers_ECCV/papers/'
        '123520341.pdf',
        Code=CODE + 'ifvd_loss.py'),
    'cirkd':
    dict(
        Name='CIRKD',
        Title='Cross-Image Relational Knowledge Distillation for Semantic '
        'Segmentation',
        URL='https://arxiv.org/abs/2204.06986',
        Code=CODE + 'cirkd_loss.py'),
    'dist_kd':
    dict(
        Name='DIST',
        Title='Knowledge Distillation from A Stronger Teacher',
        URL='https://arxiv.org/abs/2205.10536',
        Code=CODE + 'dist_loss.py'),
}

DATASETS = {
    'cityscapes': 'Cityscapes',
    'voc12aug': 'Pascal VOC 2012 + Aug',
    'camvid': 'CamVid',
}
STUDENTS = {
    'deeplabv3plus_r18-d8': ['R-18-D8', 'DeepLabV3+'],
    'mobilenet-v2-d8_deeplabv3plus': ['M-V2-D8', 'DeepLabV3+'],
    # the CIRKD protocol's students, and mmrazor's CWD one
    'deeplabv3_r18-d8': ['R-18-D8', 'DeepLabV3'],
    'mobilenet-v2-d8_deeplabv3': ['M-V2-D8', 'DeepLabV3'],
    'pspnet_r18-d8': ['R-18-D8', 'PSPNet'],
}
NAME = re.compile(r'^(?P<method>[a-z0-9.-]+?)_(?P<student>' +
                  '|'.join(map(re.escape, STUDENTS)) +
                  r')_(?P<gpus>\d+)xb(?P<batch>\d+)-(?P<schedule>[0-9ke]+)_'
                  r'(?P<dataset>[a-z0-9]+)-(?P<crop>\d+x\d+)$')


def _config_path(ref: str, cfg: str, repo: str) -> str:
    """``ref`` (a ``_base_`` or ``teacher`` value in the config file ``cfg``)
    as a repository path (``configs/...``) or an ``mmseg::`` path."""
    if '::' in ref:
        return ref
    ref = ref.replace('{{fileDirname}}/', '')
    return osp.relpath(osp.normpath(osp.join(osp.dirname(cfg), ref)), repo)


def first_base(cfg: str, repo: str = REPO) -> str:
    """The first ``_base_`` entry of the config file ``cfg`` as written:
    the distillation base, a sibling config or the student's config (a
    second entry is a loss block, ``configs/_base_/distill/losses``)."""
    return Config._get_base_files(osp.join(repo, cfg))[0]


def distill_base(cfg: str, repo: str = REPO) -> str:
    """The ``configs/_base_/distill/`` file that ``cfg`` inherits from,
    following ``_base_`` through sibling configs."""
    while '/_base_/distill/' not in cfg:
        cfg = _config_path(first_base(cfg, repo), cfg, repo)
    return cfg


def student_and_teacher(cfg: str, repo: str = REPO) -> tuple:
    """The student's own config (``_base_`` of the distillation base) and
    the teacher's config of ``cfg``, as written in the distillation base."""
    base = distill_base(cfg, repo)
    teacher = Config.fromfile(osp.join(repo, base)).model.teacher
    if '::' not in teacher:
        teacher = osp.relpath(osp.normpath(teacher), repo)
    return _config_path(first_base(base, repo), base, repo), teacher


def summary_dir(repo: str = REPO) -> str:
    """The folder of the study's run summaries.

    Raises:
        FileNotFoundError: If it holds none.
    """
    folder = osp.join(repo, SUMMARY_DIR)
    if not glob.glob(osp.join(folder, '*.json')):
        raise FileNotFoundError(f'no run summaries in {folder}')
    return folder


def load_summaries(repo: str = REPO) -> dict:
    """``{config name: {seed: summary}}`` of every committed run summary."""
    runs: dict = {}
    for path in sorted(glob.glob(osp.join(summary_dir(repo), '*.json'))):
        with open(path) as f:
            s = json.load(f)
        runs.setdefault(s['config'], {})[s['seed']] = s
    return runs


def method_configs(folder: str, repo: str = REPO) -> list:
    """Config names of a method folder that its metafile lists."""
    names = [
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(repo, 'configs', folder, '*.py'))
    ]
    return sorted(names)


def _mean(values: list) -> float:
    return round(statistics.mean(values), 2)


def camvid_results(name: str, runs: dict):
    """``(Results, seeds, student-alone mIoU, teacher mIoU)`` of a CamVid
    config from its run summaries, or ``None`` if the study did not run it.
    The student alone and the teacher are averaged over the same seeds."""
    if name not in runs:
        return None
    seeds = sorted(runs[name])
    alone = runs.get(name.split('_', 1)[1], {})
    missing = [s for s in seeds if s not in alone]
    if missing:
        raise ValueError(f'{name}: no student-alone run for seeds {missing}')
    results = dict(
        Task='Semantic Segmentation',
        Dataset='CamVid',
        Metrics=dict(mIoU=_mean([runs[name][s]['mIoU'] for s in seeds])))
    return (results, seeds, _mean([alone[s]['mIoU'] for s in seeds]),
            _mean([runs[name][s]['teacher/mIoU'] for s in seeds]))


def model_entry(folder: str, name: str, runs: dict, repo: str = REPO) -> dict:
    """The metafile's Model entry of ``configs/<folder>/<name>.py``."""
    config = f'configs/{folder}/{name}.py'
    # a short name (configs/aicsd/deeplabv3plus_r18_cityscapes.py) is a
    # config that only inherits a long-named one: read the set-up from that
    alias_of = None
    m = NAME.match(name)
    if m is None:
        alias_of = _config_path(first_base(config, repo), config, repo)
        m = NAME.match(osp.splitext(osp.basename(alias_of))[0])
    if m is None:
        raise ValueError(f'cannot read the set-up from the name {name!r}')
    student, teacher = student_and_teacher(config, repo)
    metadata = {
        'Training Data': DATASETS[m['dataset']],
        'Batch Size': int(m['gpus']) * int(m['batch']),
        'Architecture': list(STUDENTS[m['student']]),
        'Crop Size': m['crop'],
        'Student': {
            'Config': student
        },
        'Teacher': {
            'Config': teacher
        },
    }
    entry = {
        'Name': name,
        'In Collection': COLLECTIONS[folder]['Name'],
        'Config': config,
        'Metadata': metadata,
    }
    if alias_of is not None:
        metadata['Alias Of'] = alias_of
    got = camvid_results(name, runs) if m['dataset'] == 'camvid' else None
    if got is not None:
        results, seeds, alone, teacher_miou = got
        metadata['Seeds'] = seeds
        metadata['Student']['Metrics'] = dict(mIoU=alone)
        # the study's teacher: the config's teacher model trained for 1600
        # iterations instead of 600, by the study (studies/camvid/)
        metadata['Teacher'] = {
            'Name': 'deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240',
            'Trained In': 'studies/camvid/README.md',
            'Metrics': dict(mIoU=teacher_miou),
        }
        entry['Results'] = results
    return entry


def metafile(folder: str, runs: dict, repo: str = REPO) -> dict:
    """The content of ``configs/<folder>/metafile.yaml``."""
    c = COLLECTIONS[folder]
    models = [
        model_entry(folder, n, runs, repo)
        for n in method_configs(folder, repo)
    ]
    data = []
    for m in models:
        if m['Metadata']['Training Data'] not in data:
            data.append(m['Metadata']['Training Data'])
    return {
        'Collections': [{
            'Name': c['Name'],
            'License': 'Apache License 2.0',
            'Metadata': {
                'Training Data': data
            },
            'Paper': {
                'Title': c['Title'],
                'URL': c['URL']
            },
            'README': f'configs/{folder}/README.md',
            'Code': {
                'URL': c['Code'],
                'Version': _version(repo)
            },
            'Frameworks': ['PyTorch'],
        }],
        'Models':
        models,
    }


def _version(repo: str) -> str:
    namespace: dict = {}
    with open(osp.join(repo, 'mmseg_aicsd', 'version.py')) as f:
        exec(f.read(), namespace)
    return 'v' + namespace['__version__']


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=79)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='write nothing; exit 1 if a committed metafile differs')
    args = parser.parse_args(argv)
    runs = load_summaries()
    stale = []
    for folder in COLLECTIONS:
        path = osp.join(REPO, 'configs', folder, 'metafile.yaml')
        text = dump(metafile(folder, runs))
        old = open(path).read() if osp.exists(path) else None
        if old == text:
            continue
        stale.append(osp.relpath(path, REPO))
        if not args.check:
            with open(path, 'w') as f:
                f.write(text)
    verb = 'differ from the configs and summaries' if args.check else 'written'
    for p in stale:
        print(f'{p}: {verb}')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
