# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""results.val_curve on logs in mmengine's format: every validation with
its iteration and per-class IoU, a resumed run's logs together."""
from mmseg_aicsd.utils import results

TABLE = """{t} - mmengine - INFO - per class results:
{t} - mmengine - INFO - 
+-------+-------+-------+
| Class |  IoU  |  Acc  |
+-------+-------+-------+
|  sky  | {sky} |  99.5 |
|  pole |  {pole} |  1.97 |
+-------+-------+-------+
{t} - mmengine - INFO - Iter(val) [101/101]  aAcc: 78.5  mIoU: {miou}
"""  # noqa: W291
TRAIN = ('{t} - mmengine - INFO - Iter(train) [{it:>4}/1600]  lr: 5.3e-03  '
         'loss: 1.3434\n')


def write_log(work_dir, stamp, text):
    folder = work_dir / stamp
    folder.mkdir(parents=True)
    (folder / f'{stamp}.log').write_text(text)


def test_validations_of_a_resumed_run(tmp_path):
    t = '12/08 03:34:46'
    write_log(
        tmp_path, '20261208_030000',
        TRAIN.format(t=t, it=790) + TRAIN.format(t=t, it=800) +
        TABLE.format(t=t, sky=85.89, pole=1.63, miou=42.85) +
        TRAIN.format(t=t, it=810))
    # resumed from iteration 800 (its validation done again), then 1600
    write_log(
        tmp_path, '20261208_040000',
        TRAIN.format(t=t, it=800) +
        TABLE.format(t=t, sky=85.00, pole=1.50, miou=42.00) +
        TRAIN.format(t=t, it=1600) +
        TABLE.format(t=t, sky=90.12, pole=6.25, miou=50.5))
    assert results.val_curve(str(tmp_path)) == [
        {
            'iter': 800,
            'mIoU': 42.0,
            'IoU.sky': 85.0,
            'IoU.pole': 1.5
        },
        {
            'iter': 1600,
            'mIoU': 50.5,
            'IoU.sky': 90.12,
            'IoU.pole': 6.25
        },
    ]


def test_no_table_no_validation(tmp_path):
    t = '12/08 03:34:46'
    write_log(
        tmp_path, '20261208_030000',
        TRAIN.format(t=t, it=10) +
        f'{t} - mmengine - INFO - Iter(val) [1/1]  aAcc: 1.0  mIoU: 3.25\n')
    assert results.val_curve(str(tmp_path)) == [{'iter': 10, 'mIoU': 3.25}]
    assert results.val_curve(str(tmp_path / 'none')) == []
