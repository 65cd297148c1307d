# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import os.path as osp
from setuptools import find_packages, setup


def get_version() -> str:
    namespace: dict = {}
    with open(osp.join('mmseg_aicsd', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


MIM_FILES = [
    '.mim/model-index.yml',
    '.mim/configs/**/*.py',
    '.mim/configs/**/*.md',
    '.mim/configs/**/*.yaml',
]

setup(
    name='mmseg_aicsd',
    version=get_version(),
    description='AICSD knowledge distillation for semantic segmentation, '
    'as an MMSegmentation 1.x plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(
        exclude=('configs', 'tools', 'tools.*', 'tests', 'tests.*',
                 'benchmarks', 'benchmarks.*', 'studies', 'studies.*')),
    # The configs and metafiles travel inside the package, as mmseg's do, so
    # that `mmseg_aicsd::aicsd/...py` resolves after any install (mmengine
    # looks for them in <package>/.mim/). In the source tree .mim/configs and
    # .mim/model-index.yml are symlinks to ../../configs and
    # ../../model-index.yml; a wheel or sdist holds copies of the files.
    package_data={'mmseg_aicsd': MIM_FILES},
    python_requires='>=3.8',
    # Ranges an existing mmseg 1.x setup satisfies, so installing the plugin
    # never replaces torch, mmcv or mmseg. mmcv must be built with its ops.
    install_requires=[
        'torch>=1.8',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmengine>=0.10.0,<1.0.0',
        'mmsegmentation>=1.0.0,<2.0.0',
        'ftfy',  # imported by mmseg.utils
        'regex',  # imported by mmseg.utils
        'numpy',
    ],
    extras_require={
        'tests': [
            'pytest>=7',
            'pytest-xdist>=3',
            'hypothesis>=6',
            # the linters of .ci/run and .pre-commit-config.yaml
            'flake8==7.1.1',
            'isort==5.13.2',
            'yapf==0.40.2'
        ],
        'benchmarks': ['matplotlib>=3.5'],
        'analysis': ['pandas>=2', 'tabulate'],
    },
    zip_safe=False,
)
