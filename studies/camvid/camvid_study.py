# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Run the seeded CamVid study, or the part of it that is missing.

Does AICSD help a DeepLabV3+ R18-D8 student on real CamVid, and with which
ALW settings? Every row trains the same student config (600 iterations,
batch 4, 180x240 crops) with ``tools/train.py``, from one teacher, for seeds
0, 1, 2 (``randomness.seed``):

1. The teacher: DeepLabV3+ R101-D16-MG124, 1600 iterations, seed 0, in
   ``WORK_ROOT/teacher`` (trained here if its last checkpoint is missing,
   resumed if it stopped part-way). Its summary: ``OUT/teacher.json``; a
   teacher trained again (its work dir lost) that ends elsewhere moves the
   earlier summary to ``OUT/teacher.1.json`` (then ``.2``...), and the
   tables count both.
2. Stage 1: every row of ``ROWS`` with seed 0, but those of later stages.
3. Stage 2: seeds 1 and 2 of ``STAGE2_ROWS`` and of the AICSD variant
   (``AICSD_VARIANTS``) with the best seed-0 val mIoU, once all of them have
   a seed-0 run.
4. ``LATE_ROWS`` (methods beside the paper's comparison) with seed 0;
   seeds 1 and 2 of those of ``METHOD_ROWS`` whose seed-0 val mIoU beats
   KD's.
5. ``RELEASED_ROWS`` (the released code's ICS term and its controls), seed
   0 of each, then seed 1, then seed 2.
6. ``CACHE_ROWS`` (KD from the offline teacher), seeds 0, 1, 2. The
   teacher's logits are cached once, by ``tools/misc/build_teacher_cache.py``,
   in ``WORK_ROOT/teacher_cache``; its build time is in each summary
   (``teacher_cache_build_s``).

``--teacher-only`` does step 1 alone.

``--regime class-balanced`` is the study's second regime
(:class:`ClassBalancedStudy`, summaries in ``studies/camvid/class_balanced``):
class-weighted CE in every row, its own teacher (``CB_TEACHER``, summary
``teacher_v2.json`` with the SHA-256 of its checkpoint), and first the
student's budget: the student alone at 600, 1200 and 2400 iterations
(seed 0), from which the study budget B is taken (the smallest at which
doubling it adds less than 1.5 val mIoU, else 2400).

``--teacher-ckpt`` replaces step 1 with a given checkpoint of the teacher
whose summary is ``OUT/teacher.json`` (the same training's weights kept
elsewhere); every summary names it and its SHA-256.

A finished run leaves ``OUT/runs/<row>_seed<seed>.json``: the row
``tools/analysis_tools/results_table.py`` reads from the work dir (its last
validation: the last checkpoint counts, never the best), plus the study row,
the teacher checkpoint and its val metrics (``teacher/mIoU``...), the wall
time of the ``tools/train.py`` calls (``wall_time_s``), the options and the
software versions. A run with a summary is never trained again; a work dir
that finished without one is only summarized; one that stopped is resumed
(``--resume``). After each run, ``results_table.py``'s tables (mean +- std
over seeds, per-class IoU) are written into ``OUT/README.md`` between its
marker lines, with the runs still missing, and ``per_class_iou.py``'s bars
of the teacher and the main rows into ``OUT/per_class_iou.png``.

Examples::

    # everything missing, in order (on 2 CPU cores: 3.3 h for the teacher;
    # per student run 47 min (baseline) to 80 min (with the teacher), two
    # runs side by side with OMP_NUM_THREADS=1 each)
    python studies/camvid/camvid_study.py --work-root /data/camvid_study
    # what is done and what would run, without running it
    python studies/camvid/camvid_study.py --work-root /data/camvid_study \\
        --dry-run
    # the class-balanced regime's teacher alone (2 threads: 65 min)
    OMP_NUM_THREADS=2 python studies/camvid/camvid_study.py \\
        --regime class-balanced --work-root /data/camvid_cb --teacher-only
    # at most two runs now, of the baseline and KD rows only
    python studies/camvid/camvid_study.py --work-root /data/camvid_study \\
        --rows baseline kd --max-runs 2

Checkpoints stay in ``WORK_ROOT`` (keep it outside the repository); only
the small summaries in ``OUT`` are meant to be committed.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import mmcv
import mmengine
import torch
from mmengine.config import Config, DictAction

import mmseg
from mmseg_aicsd.utils import is_distill_config
from mmseg_aicsd.utils import results as RT

# the repository root: the runner is studies/camvid/camvid_study.py
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STUDENT = 'deeplabv3plus_r18-d8_1xb4-600_camvid-180x240'
TEACHER = ('studies/camvid/configs/'
           'deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240.py')
# study row -> config, in the order of the tables and of stage 1
ROWS = {
    'baseline': f'configs/deeplabv3plus/{STUDENT}.py',
    'kd': f'configs/kd/kd_{STUDENT}.py',
    'kd-icsd': f'configs/aicsd/kd-icsd_{STUDENT}.py',  # Eq. 5, no ALW
    # ICSD weight calibrated over training (README, "Loss weights")
    'kd-icsd-lambda0.05':
    f'studies/camvid/configs/kd-icsd-lambda0.05_{STUDENT}.py',
    'aicsd-ne50':
    f'studies/camvid/configs/aicsd-ne50_{STUDENT}.py',  # N_e = 50
    'aicsd-ne50-lambda0.05':
    f'studies/camvid/configs/aicsd-ne50-lambda0.05_{STUDENT}.py',
    'aicsd': f'configs/aicsd/aicsd_{STUDENT}.py',  # one-pass ALW epochs
    'icsd': f'configs/aicsd/icsd_{STUDENT}.py',
    'aicsd-exp-ne50': f'studies/camvid/configs/aicsd-exp-ne50_{STUDENT}.py',
    'cwd': f'configs/cwd/cwd_{STUDENT}.py',
    'i2ckd': f'configs/i2ckd/i2ckd_{STUDENT}.py',
    'idd': f'configs/idd/idd_{STUDENT}.py',
    # the released code's ICS term (ReleasedCodeICSDLoss) at its weights
    'kd-released-icsd': f'configs/aicsd/kd-released-icsd_{STUDENT}.py',
    'aicsd-released': f'configs/aicsd/aicsd-released_{STUDENT}.py',
    'kd-released-weight':
    f'studies/camvid/configs/kd-released-weight_{STUDENT}.py',
    'icsd-released': f'studies/camvid/configs/icsd-released_{STUDENT}.py',
    'kd-icsd-normalize': f'configs/aicsd/kd-icsd-normalize_{STUDENT}.py',
    # as many iterations as fit in a KD run's wall time
    'baseline-time-matched':
    'studies/camvid/configs/deeplabv3plus_r18-d8_1xb4-876_camvid-180x240.py',
    'fitnet': f'configs/fitnet/fitnet_{STUDENT}.py',
    'ifvd': f'configs/ifvd/ifvd_{STUDENT}.py',
    'cirkd': f'configs/cirkd/cirkd_{STUDENT}.py',
    'dist': f'configs/dist_kd/dist_{STUDENT}.py',
    # KD from the cached teacher logits
    'kd-cache': f'configs/kd/kd-cache_{STUDENT}.py',
}
SEEDS = (0, 1, 2)
# the class-balanced regime: teacher v2 and the student's budget curve
CB_TEACHER = (
    'studies/camvid/configs/'
    'deeplabv3plus_r101-d16-mg124_mfb-sqrt_1xb4-1600_camvid-180x240.py')
BUDGETS = (600, 1200, 2400)
CB_ROWS = {
    f'baseline-{n}':
    ('studies/camvid/configs/'
     f'deeplabv3plus_r18-d8_mfb-sqrt_1xb4-{n}_camvid-180x240.py')
    for n in BUDGETS
}
MIN_GAIN = 1.5  # val mIoU a doubling of the budget must add to be taken
STAGE2_ROWS = ('baseline', 'kd', 'kd-icsd', 'kd-icsd-lambda0.05')
AICSD_VARIANTS = ('aicsd-ne50', 'aicsd-ne50-lambda0.05', 'aicsd',
                  'aicsd-exp-ne50')
# the methods papers compare with: seed 0, then seeds 1 and 2 of those
# that beat KD on seed 0
METHOD_ROWS = ('fitnet', 'ifvd', 'cirkd', 'dist')
# not rows of the paper's comparison: seed 0 after stage 2
LATE_ROWS = ('i2ckd', 'idd') + METHOD_ROWS
# stage 3: the released code's ICS term and the controls it needs, seeds
# 0, 1, 2 (seed by seed)
RELEASED_ROWS = ('kd-released-icsd', 'aicsd-released', 'kd-released-weight',
                 'icsd-released', 'baseline-time-matched', 'kd-icsd-normalize')
# stage 4: KD from the offline teacher (its cache built once), seeds 0, 1, 2
CACHE_ROWS = ('kd-cache', )

# the rows of the per-class figure, after the teacher (and the stage-2
# AICSD variant before 'aicsd', the shipped config, once it is chosen)
FIGURE_ROWS = ('baseline', 'kd', 'kd-icsd', 'kd-icsd-lambda0.05', 'aicsd')


def parse_args(argv=None) -> argparse.Namespace:
    """Work root, output folder, row and seed selection."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--work-root',
        default='work_dirs/camvid_study',
        help='work dirs of the teacher and the runs (checkpoints: keep it '
        'outside the repository)')
    parser.add_argument(
        '--out',
        help='where the summaries (runs/*.json, teacher.json) and '
        'README.md are written (default: studies/camvid, the class-'
        'balanced regime\'s studies/camvid/class_balanced)')
    parser.add_argument(
        '--regime',
        choices=list(REGIMES),
        default='first',
        help='the study\'s first regime (600 iterations, plain CE) or the '
        'class-balanced one (teacher v2, the student\'s budget)')
    parser.add_argument(
        '--rows',
        nargs='+',
        choices=sorted({r
                        for study in REGIMES.values()
                        for r in study.rows}),
        help='run only these rows (default: all)')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        choices=SEEDS,
        help='run only these seeds (default: all)')
    parser.add_argument(
        '--max-runs', type=int, help='stop after this many student runs')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print what is done and what would run')
    parser.add_argument(
        '--teacher-config',
        help='config of the teacher (default: the regime\'s)')
    parser.add_argument(
        '--teacher-ckpt',
        help='use this checkpoint of the teacher of OUT/teacher.json '
        'instead of training the teacher in WORK_ROOT/teacher')
    parser.add_argument(
        '--teacher-summary',
        help='file name of the teacher\'s summary in OUT (default: '
        'teacher.json; the class-balanced regime\'s: teacher_v2.json)')
    parser.add_argument(
        '--teacher-only',
        action='store_true',
        help='train (or resume) the teacher, write its summary, and stop')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='passed to every tools/train.py call, teacher included, and '
        'recorded in the summaries (the study itself uses none)')
    return parser.parse_args(argv)


def sha256(path: str) -> str:
    """SHA-256 of a file (hex)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


class Busy(RuntimeError):
    """A work dir that another live study process is training."""


def boot_id() -> str:
    """This boot of this machine (Linux), to tell a live lock holder from
    a stale one; '' where unknown."""
    try:
        with open('/proc/sys/kernel/random/boot_id') as f:
            return f.read().strip()
    except OSError:
        return ''


class Study:
    """The study's files: which runs are done, what runs next, and the
    runs themselves.

    Args:
        work_root: Folder of the work dirs (``teacher``, ``<row>_seed<n>``).
        out: Folder of ``teacher.json``, ``runs/*.json`` and ``README.md``.
        teacher_config: Path of the teacher's config, relative to the
            repository or absolute.
        cfg_options: ``KEY=VALUE`` strings for every ``tools/train.py``.
        teacher_ckpt: A checkpoint of the teacher of ``OUT/teacher.json``
            to use instead of training it (None: train it).
        teacher_summary: File name of the teacher's summary in ``OUT``.
    """

    rows = ROWS  # row -> config, in table order
    cache_rows = CACHE_ROWS  # rows that read the teacher's logit cache
    figure_rows = FIGURE_ROWS
    against = ('baseline', 'kd')  # the rows of the paired gaps
    teacher_default = TEACHER
    out_default = osp.join(REPO, 'studies', 'camvid')
    teacher_summary_default = 'teacher.json'

    def __init__(self,
                 work_root: str,
                 out: str,
                 teacher_config: str = None,
                 cfg_options=(),
                 teacher_ckpt=None,
                 teacher_summary: str = None):
        self.work_root = osp.abspath(work_root)
        self.out = osp.abspath(out)
        self.teacher_config = osp.join(REPO, teacher_config
                                       or self.teacher_default)
        self.cfg_options = list(cfg_options)
        self.teacher_ckpt = teacher_ckpt and osp.abspath(teacher_ckpt)
        self._teacher_sha256 = None
        self.teacher_summary = (
            teacher_summary or self.teacher_summary_default)

    # ---- files -------------------------------------------------------
    def summary_path(self, row: str, seed: int) -> str:
        return osp.join(self.out, 'runs', f'{row}_seed{seed}.json')

    def work_dir(self, row: str, seed: int) -> str:
        return osp.join(self.work_root, f'{row}_seed{seed}')

    def teachers(self) -> list:
        """The teacher's summary paths: ``teacher.json`` (the checkpoint
        in the work root; ``teacher_summary``) after those of earlier
        trainings of it, ``teacher.1.json``, ``teacher.2.json``..."""
        stem = osp.splitext(self.teacher_summary)[0]
        earlier = {}
        for path in glob.glob(osp.join(self.out, f'{stem}.*.json')):
            k = osp.basename(path)[len(stem) + 1:].split('.')[0]
            if k.isdigit():
                earlier[int(k)] = path
        earlier = [earlier[k] for k in sorted(earlier)]
        current = osp.join(self.out, self.teacher_summary)
        return earlier + ([current] if osp.isfile(current) else [])

    def summary(self, row: str, seed: int):
        """The run's summary dict, or None if it has none yet."""
        path = self.summary_path(row, seed)
        return RT.read_summary(path) if osp.isfile(path) else None

    # ---- plan --------------------------------------------------------
    def best_aicsd(self):
        """The AICSD variant with the best seed-0 val mIoU (ties: the
        first in ``AICSD_VARIANTS``), or None while one lacks a seed-0
        run."""
        scores = {}
        for row in AICSD_VARIANTS:
            summary = self.summary(row, 0)
            if summary is None:
                return None
            scores[row] = summary['mIoU']
        return max(AICSD_VARIANTS, key=lambda row: scores[row])

    def beats_kd(self, row: str) -> bool:
        """Whether the row's seed-0 val mIoU is above KD's seed-0 one
        (False while either has no seed-0 run)."""
        mine, kd = self.summary(row, 0), self.summary('kd', 0)
        return bool(mine and kd and mine['mIoU'] > kd['mIoU'])

    def plan(self, rows=None, seeds=None):
        """All study runs in order, as ``(row, seed)``, and a note on the
        stage-2 AICSD variant.

        Args:
            rows: Only these rows (None: all).
            seeds: Only these seeds (None: all).

        Returns:
            ``(runs, note)``: stage 1 (every row but ``LATE_ROWS``,
            ``RELEASED_ROWS`` and ``CACHE_ROWS``, seed 0), then stage 2
            (seeds 1, 2 of ``STAGE2_ROWS`` and of :meth:`best_aicsd`, if
            known), then ``LATE_ROWS`` (seed 0; seeds 1, 2 of
            :meth:`beats_kd` ones), then ``RELEASED_ROWS`` and
            ``CACHE_ROWS`` (seeds 0, 1, 2);
            ``note`` says which variant stage 2 takes and why.
        """
        best = self.best_aicsd()
        stage2 = list(STAGE2_ROWS) + ([best] if best else [])
        runs = [(row, 0) for row in ROWS
                if row not in LATE_ROWS + RELEASED_ROWS + CACHE_ROWS]
        runs += [(row, seed) for seed in SEEDS[1:] for row in stage2]
        runs += [(row, 0) for row in LATE_ROWS]
        runs += [(row, seed) for seed in SEEDS[1:] for row in METHOD_ROWS
                 if self.beats_kd(row)]
        runs += [(row, seed) for seed in SEEDS for row in RELEASED_ROWS]
        runs += [(row, seed) for seed in SEEDS for row in CACHE_ROWS]
        runs = [
            (r, s) for r, s in runs
            if (rows is None or r in rows) and (seeds is None or s in seeds)
        ]
        if best:
            mious = {r: self.summary(r, 0)['mIoU'] for r in AICSD_VARIANTS}
            note = (f'stage 2 AICSD variant: {best} (seed-0 val mIoU ' +
                    ', '.join(f'{r} {m:.2f}' for r, m in mious.items()) + ')')
        else:
            note = ('stage 2 AICSD variant: chosen once '
                    f'{", ".join(AICSD_VARIANTS)} have seed-0 runs')
        return runs, note

    # ---- training ----------------------------------------------------
    @classmethod
    def distills(cls, row: str) -> bool:
        """Whether the row's config is a distillation (needs the
        teacher)."""
        cfg = Config.fromfile(osp.join(REPO, cls.rows[row]))
        return is_distill_config(cfg)

    def max_iters(self, config: str) -> int:
        """``train_cfg.max_iters`` of a config with the study's options."""
        cfg = Config.fromfile(config)
        options = argparse.ArgumentParser()
        options.add_argument('--o', nargs='+', action=DictAction, default={})
        cfg.merge_from_dict(
            options.parse_args(['--o', *self.cfg_options]).o if self.
            cfg_options else {})
        return cfg.train_cfg.max_iters

    def holder(self, work_dir: str):
        """``'pid N'`` of the live process that holds ``<work_dir>.lock``,
        else None (a lock of a dead process, or of an earlier boot, is
        stale and removed)."""
        lock = f'{work_dir}.lock'
        try:
            with open(lock) as f:
                pid, boot = f.read().split()[:2]
        except (OSError, ValueError):
            return None
        if boot == boot_id() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                return f'pid {pid}'
            except ProcessLookupError:
                pass
            except PermissionError:  # alive, another user's
                return f'pid {pid}'
        if int(pid) != os.getpid():
            os.remove(lock)
        return None

    def train(self, config: str, work_dir: str, options) -> None:
        """Run ``tools/train.py`` (``--resume`` if the work dir holds a
        checkpoint), its output in ``<work_dir>.log``; add its wall time to
        ``<work_dir>/wall_time.json``. ``<work_dir>.lock`` (pid, boot id)
        keeps other study processes off the run meanwhile.

        Raises:
            Busy: If another live study process holds the work dir.
            RuntimeError: If it fails; names the log. What the run wrote
                (checkpoints, wall time) is kept for a resume.
        """
        holder = self.holder(work_dir)
        if holder is not None:
            raise Busy(f'{work_dir} is being trained by {holder}')
        os.makedirs(self.work_root, exist_ok=True)
        try:
            fd = os.open(f'{work_dir}.lock',
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError as e:
            raise Busy(f'{work_dir} is being trained by another study '
                       'process') from e
        with os.fdopen(fd, 'w') as f:
            f.write(f'{os.getpid()} {boot_id()}\n')
        try:
            self._train(config, work_dir, options)
        finally:
            os.remove(f'{work_dir}.lock')

    def _train(self, config: str, work_dir: str, options) -> None:
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir
        ]
        if RT.last_checkpoint(work_dir) is not None:
            cmd.append('--resume')
        cmd += ['--cfg-options', *options, *self.cfg_options]
        log = f'{work_dir}.log'
        os.makedirs(work_dir, exist_ok=True)
        print('camvid_study: ' + ' '.join(cmd) + f' > {log}', flush=True)
        start = time.monotonic()
        try:  # an interrupted call (Ctrl-C, SIGTERM) counts its time too
            with open(log, 'a') as f:
                proc = subprocess.run(
                    cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
        finally:
            times_path = osp.join(work_dir, 'wall_time.json')
            times = []
            if osp.isfile(times_path):
                with open(times_path) as f:
                    times = json.load(f)
            with open(times_path, 'w') as f:
                json.dump(times + [time.monotonic() - start], f)
        if proc.returncode != 0:
            raise RuntimeError(
                f'tools/train.py failed (exit {proc.returncode}) for '
                f'{config}; see {log}. Run this script again to resume.')

    def finished_row(self, config: str, work_dir: str):
        """results_table's row of a work dir whose last validation is at
        its last iteration, else None."""
        try:
            row = RT.read_run(work_dir)
        except RT.RunError:
            return None
        return row if row['iter'] == self.max_iters(config) else None

    def describe(self, row: dict, work_dir: str) -> dict:
        """A results_table row plus wall time, options and versions."""
        times_path = osp.join(work_dir, 'wall_time.json')
        wall = None
        if osp.isfile(times_path):
            with open(times_path) as f:
                wall = sum(json.load(f))
        row = dict(row, work_dir=osp.relpath(work_dir, self.work_root))
        row.update(
            wall_time_s=wall,
            cfg_options=' '.join(self.cfg_options),
            torch=torch.__version__,
            mmcv=mmcv.__version__,
            mmseg=mmseg.__version__,
            mmengine=mmengine.__version__,
            cpus=os.cpu_count(),
            omp_num_threads=os.environ.get('OMP_NUM_THREADS'))
        return row

    def write_json(self, path: str, data: dict) -> None:
        os.makedirs(osp.dirname(path), exist_ok=True)
        tmp = f'{path}.tmp'
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=1)
            f.write('\n')
        os.replace(tmp, path)  # a summary is whole or absent

    def teacher(self, dry_run: bool = False):
        """The teacher's checkpoint and summary, training it if needed.

        Returns:
            ``(checkpoint path, summary dict)``; ``(None, None)`` in a dry
            run that would train it.

        Raises:
            RuntimeError: If ``teacher_ckpt`` is given but it or
                ``OUT/teacher.json`` is missing.
        """
        if self.teacher_ckpt is not None:
            path = osp.join(self.out, self.teacher_summary)
            for f in (self.teacher_ckpt, path):
                if not osp.isfile(f):
                    raise RuntimeError(
                        f'--teacher-ckpt: {f} does not exist; it needs the '
                        'checkpoint and the summary of its training')
            return self.teacher_ckpt, RT.read_summary(path)
        work_dir = osp.join(self.work_root, 'teacher')
        row = self.finished_row(self.teacher_config, work_dir)
        if row is None:
            if dry_run:
                print(f'camvid_study: would train the teacher in {work_dir}')
                return None, None
            self.train(self.teacher_config, work_dir, ['randomness.seed=0'])
            row = self.finished_row(self.teacher_config, work_dir)
            if row is None:
                raise RuntimeError(f'the teacher in {work_dir} did not '
                                   'finish its last validation')
        path = osp.join(self.out, self.teacher_summary)
        if osp.isfile(path):
            old = RT.read_summary(path)
            if abs(old['mIoU'] - row['mIoU']) <= 1e-6:
                # the same teacher: keep the summary written when it
                # finished (threads and options of the process that ran it)
                return RT.last_checkpoint(work_dir), old
            # a retrained teacher (its work dir was lost): runs that used
            # the earlier one keep their summary beside the new one's
            stem = osp.splitext(self.teacher_summary)[0]
            kept = osp.join(self.out, f'{stem}.{len(self.teachers())}.json')
            os.replace(path, kept)
            print(
                f'camvid_study: the teacher in {work_dir} has val mIoU '
                f'{row["mIoU"]:.2f}, the summary {path} '
                f'{old["mIoU"]:.2f} (a retrained teacher); that summary is '
                f'kept as {kept}',
                file=sys.stderr)
        summary = self.describe(row, work_dir)
        ckpt = RT.last_checkpoint(work_dir)
        summary.update(
            config_path=osp.relpath(self.teacher_config, REPO),
            checkpoint=osp.basename(ckpt),
            checkpoint_sha256=sha256(ckpt),
            val_curve=RT.val_curve(work_dir))
        if not dry_run:
            self.write_json(path, summary)
        return ckpt, summary

    def run(self, row: str, seed: int, teacher_ckpt: str,
            teacher: dict) -> dict:
        """Train (or resume, or only summarize) one run and write its
        summary; returns it."""
        config = osp.join(REPO, self.rows[row])
        work_dir = self.work_dir(row, seed)
        done = self.finished_row(config, work_dir)
        if done is None:
            options = [f'randomness.seed={seed}']
            if self.distills(row):
                options += [
                    f'model.teacher={self.teacher_config}',
                    f'model.teacher_ckpt={teacher_ckpt}'
                ]
            if row in self.cache_rows:
                cache = self.teacher_cache(config, teacher_ckpt)
                options.append(f'model.teacher_cache={cache}')
            self.train(config, work_dir, options)
            done = self.finished_row(config, work_dir)
            if done is None:
                raise RuntimeError(f'{work_dir}: finished without a '
                                   'validation at its last iteration')
        if done['seed'] != seed:
            raise RuntimeError(f'{work_dir}: logged seed {done["seed"]}, '
                               f'expected {seed}')
        summary = self.describe(done, work_dir)
        summary['row'] = row
        if done['distill'] and self.teacher_ckpt is not None:
            summary['teacher_ckpt'] = osp.basename(teacher_ckpt)
            summary['teacher_sha256'] = self.teacher_sha256()
        elif done['distill']:
            summary['teacher_ckpt'] = osp.relpath(teacher_ckpt, self.work_root)
        if done['distill']:
            for m in RT.METRICS:  # same checkpoint, same val images
                summary.setdefault(f'teacher/{m}', teacher[m])
        if row in self.cache_rows:
            with open(osp.join(self.cache_dir, 'build_time.json')) as f:
                summary['teacher_cache_build_s'] = json.load(f)
        self.write_json(self.summary_path(row, seed), summary)
        return summary

    @property
    def cache_dir(self) -> str:
        return osp.join(self.work_root, 'teacher_cache')

    def teacher_cache(self, config: str, teacher_ckpt: str) -> str:
        """The folder of the teacher's cached logits for ``config``'s train
        pipeline, built by ``tools/misc/build_teacher_cache.py`` (its
        output in ``<folder>.log``, its wall time in
        ``<folder>/build_time.json``) unless it holds a manifest.

        Raises:
            RuntimeError: If the build fails; names the log. A cache whose
                build stopped has no manifest and is built again.
        """
        out = self.cache_dir
        if osp.isfile(osp.join(out, 'manifest.json')):
            return out
        if osp.isdir(out):  # a build that stopped part-way
            import shutil
            shutil.rmtree(out)
        os.makedirs(self.work_root, exist_ok=True)
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools', 'misc',
                     'build_teacher_cache.py'), config, '--out', out,
            '--cfg-options', f'model.teacher={self.teacher_config}',
            f'model.teacher_ckpt={teacher_ckpt}', *self.cfg_options
        ]
        print('camvid_study: ' + ' '.join(cmd) + f' > {out}.log', flush=True)
        start = time.monotonic()
        with open(f'{out}.log', 'w') as f:
            proc = subprocess.run(
                cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise RuntimeError(
                f'build_teacher_cache.py failed (exit {proc.returncode}) '
                f'for {config}; see {out}.log')
        with open(osp.join(out, 'build_time.json'), 'w') as f:
            json.dump(time.monotonic() - start, f)
        return out

    def teacher_sha256(self) -> str:
        """SHA-256 of ``teacher_ckpt`` (hex), computed once."""
        if self._teacher_sha256 is None:
            self._teacher_sha256 = sha256(self.teacher_ckpt)
        return self._teacher_sha256

    # ---- table -------------------------------------------------------
    def write_readme(self) -> str:
        """results_table's tables of every summary (the teacher's first,
        then rows in ``ROWS`` order, baseline first) and the missing runs,
        into ``OUT/README.md``; returns the text."""
        paths = [
            self.summary_path(r, s) for r in self.rows for s in SEEDS
            if osp.isfile(self.summary_path(r, s))
        ]
        if not paths:
            return ''
        teachers = self.teachers()  # their per-class IoU beside the students'
        paths = teachers + paths
        import pandas as pd
        runs = pd.DataFrame([RT.read_summary(p) for p in paths])
        baseline = self.summary(self.against[0], 0) or {}
        table = RT.aggregate(runs, baseline.get('config'))
        text = RT.tables_markdown(
            runs,
            table,
            per_class=True,
            class_title='Per-class IoU, mean over runs (first row: the '
            'teacher)' if teachers else None)
        text += '\n\n' + self.seed_markdown(runs.iloc[len(teachers):])
        missing, note = self.plan()
        missing = [
            f'{r} (seed {s})' for r, s in missing
            if not osp.isfile(self.summary_path(r, s))
        ]
        text += ('\n\nStill to run: ' + (', '.join(missing) or 'none') +
                 f'; {note}.')
        RT.update_markdown(osp.join(self.out, 'README.md'), text + '\n')
        return text

    def seed_markdown(self, runs) -> str:
        """The students' mIoU per seed, with paired gaps to the baseline
        and to KD (those that have a summary), as results_table's
        ``--per-seed`` prints it."""
        against = [
            s['config'] for s in (self.summary(r, 0) for r in self.against)
            if s
        ]
        table = RT.aggregate(runs, against[0] if against else None)
        return (f'Val {RT.SEED_TITLE}:\n\n' +
                RT.seed_markdown(RT.seed_table(runs, table, against)))

    def figure_runs(self) -> tuple:
        """The summaries of the per-class figure and a label per row: the
        teacher's, then those of ``FIGURE_ROWS`` with the stage-2 AICSD
        variant (once chosen) before ``'aicsd'``, rows without a summary
        left out.

        Returns:
            tuple[list[str], list[str]]: Summary paths (seeds of a row
            together) and row labels, in figure order.
        """
        rows = list(self.figure_rows)
        best = self.best_aicsd()
        if best is not None and best not in rows and 'aicsd' in rows:
            rows.insert(rows.index('aicsd'), best)
        paths, labels = [], []
        if self.teachers():
            paths, labels = self.teachers(), ['teacher']
        for row in rows:
            runs = [
                self.summary_path(row, s) for s in SEEDS
                if osp.isfile(self.summary_path(row, s))
            ]
            if runs:
                paths += runs
                labels.append(row)
        return paths, labels

    def write_figure(self, dpi: int = 70):
        """``OUT/per_class_iou.png``: ``per_class_iou.py``'s bars (mean over
        seeds, +-1 std) of :meth:`figure_runs`; its path, or None while no
        student row of the figure has a summary or when a summary has no
        per-class IoU (said on stdout; the study goes on)."""
        paths, labels = self.figure_runs()
        if labels in ([], ['teacher']):
            return None
        out = osp.join(self.out, 'per_class_iou.png')
        # the tool's command line, as the runs are tools/train.py's
        proc = subprocess.run([
            sys.executable,
            osp.join(REPO, 'tools', 'analysis_tools', 'per_class_iou.py'),
            *paths, '--labels', *labels, '--out', out, '--dpi',
            str(dpi)
        ],
                              cwd=REPO,
                              capture_output=True,
                              text=True)
        if proc.returncode:  # a picture is no reason to stop the study
            why = proc.stderr.strip().splitlines()[-1:] or ['failed']
            why = why[0].split('per_class_iou: ', 1)[-1]
            print(f'camvid_study: no per-class figure: {why}')
            return None
        return out


class ClassBalancedStudy(Study):
    """The class-balanced regime: class-weighted CE in every row, the
    class-balanced teacher (``teacher_v2.json``), and first the student's
    budget: the student alone at each of ``BUDGETS`` iterations (seed 0),
    from which :meth:`budget` takes the study budget B."""
    rows = CB_ROWS
    cache_rows = ()
    figure_rows = tuple(CB_ROWS)
    against = (f'baseline-{BUDGETS[0]}', )
    teacher_default = CB_TEACHER
    out_default = osp.join(REPO, 'studies', 'camvid', 'class_balanced')
    teacher_summary_default = 'teacher_v2.json'

    def budget(self):
        """The study budget B: the smallest of ``BUDGETS`` at which
        doubling it adds less than ``MIN_GAIN`` val mIoU, else the largest.

        Returns:
            ``(B, note)``; ``(None, note)`` while a budget run is missing.
        """
        mious = {}
        for n in BUDGETS:
            summary = self.summary(f'baseline-{n}', 0)
            if summary is None:
                return None, ('budget B: chosen once baseline-' +
                              ', baseline-'.join(map(str, BUDGETS)) +
                              ' have seed-0 runs')
            mious[n] = summary['mIoU']
        curve = ', '.join(f'{n}: {m:.2f}' for n, m in mious.items())
        for n, doubled in zip(BUDGETS, BUDGETS[1:]):
            if mious[doubled] - mious[n] < MIN_GAIN:
                return n, (f'budget B = {n} (val mIoU {curve}: doubling adds '
                           f'{mious[doubled] - mious[n]:+.2f} < {MIN_GAIN})')
        return BUDGETS[-1], (f'budget B = {BUDGETS[-1]} (val mIoU {curve}: '
                             f'each doubling adds >= {MIN_GAIN})')

    def plan(self, rows=None, seeds=None):
        """The budget runs (seed 0 of each of ``CB_ROWS``) and a note on
        B; the rows at B come with their configs once B is known."""
        runs = [(row, 0) for row in self.rows]
        runs = [
            (r, s) for r, s in runs
            if (rows is None or r in rows) and (seeds is None or s in seeds)
        ]
        return runs, self.budget()[1]


REGIMES = {'first': Study, 'class-balanced': ClassBalancedStudy}


def main(argv=None) -> None:
    """Train the teacher if needed, then every missing run in order."""
    args = parse_args(argv)
    # SIGTERM as Ctrl-C: tools/train.py is stopped, its wall time recorded
    sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    regime = REGIMES[args.regime]
    study = regime(args.work_root, args.out or regime.out_default,
                   args.teacher_config, args.cfg_options, args.teacher_ckpt,
                   args.teacher_summary)
    try:
        if args.teacher_only:
            _, teacher = study.teacher(args.dry_run)
            if teacher is not None:
                print(f'camvid_study: the teacher: val mIoU '
                      f'{teacher["mIoU"]:.2f}, summary '
                      f'{osp.join(study.out, study.teacher_summary)}')
            return
        runs, _ = study.plan(args.rows, args.seeds)
        teacher_ckpt = teacher = None  # first, if any run needs it
        if any(study.distills(r) for r, _ in runs):
            try:
                teacher_ckpt, teacher = study.teacher(args.dry_run)
            except Busy as e:
                raise Busy(f'the teacher: {e}; meanwhile, rows that need '
                           'no teacher can run (--rows baseline)') from e
        done = 0
        while True:  # re-plan after each run: stage 2 may have grown
            runs, note = study.plan(args.rows, args.seeds)
            todo = [(r, s) for r, s in runs if study.summary(r, s) is None]
            busy = [(r, s) for r, s in todo
                    if study.holder(study.work_dir(r, s)) is not None]
            for row, seed in busy:
                print(f'camvid_study: {row} seed {seed}: being trained by '
                      f'{study.holder(study.work_dir(row, seed))}; skipped')
            todo = [run for run in todo if run not in busy]
            if done == 0 or not todo:
                finished = len(runs) - len(todo) - len(busy)
                print(f'camvid_study: {finished} of {len(runs)} runs done; '
                      f'{note}')
            if args.dry_run:
                for row, seed in todo:
                    print(f'camvid_study: to run: {row} seed {seed}, '
                          f'{study.rows[row]} in {study.work_dir(row, seed)}')
                break
            if not todo:
                break
            if args.max_runs is not None and done >= args.max_runs:
                print(f'camvid_study: --max-runs {args.max_runs} reached')
                break
            row, seed = todo[0]
            try:
                summary = study.run(row, seed, teacher_ckpt, teacher)
            except Busy as e:  # claimed by another process since the plan
                print(f'camvid_study: {e}; skipped')
                continue
            done += 1
            print(
                f'camvid_study: {row} seed {seed}: val mIoU '
                f'{summary["mIoU"]:.2f}',
                flush=True)
            study.write_readme()
            study.write_figure()
        if not args.dry_run:
            print(study.write_readme())
            study.write_figure()
    except (RuntimeError, RT.RunError) as e:
        sys.exit(f'camvid_study: {e}')
    except KeyboardInterrupt:
        sys.exit('camvid_study: interrupted; run it again to resume')
    finally:
        signal.signal(signal.SIGTERM, sigterm)


if __name__ == '__main__':
    main()
