"""configs/ssd512_pedestrians-to-hda.py: Caltech, CityPersons, CrowdHuman and INRIA read as
distributed (tiny releases in the real formats) plus HDA's training cameras, mixed in one
training set, train 2 iterations of SSD-512 (shrunk input, random VGG) on CPU through
tools/train.py; tools/test.py then scores the checkpoint on a held-out HDA camera."""
import os
import os.path as osp
import re
import subprocess
import sys

from conftest import ROOT, run_env
from mmengine import Config

from hda_plugin.testing.caltech_release import make_caltech_release
from hda_plugin.testing.citypersons_release import make_citypersons_release
from hda_plugin.testing.crowdhuman_release import make_crowdhuman_release
from hda_plugin.testing.inria_release import make_inria_release

CFG = osp.join(ROOT, 'configs', 'ssd512_pedestrians-to-hda.py')
SCALE = (320, 320)


def _run(cmd, env):
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, f'{cmd}\nstdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-6000:]}'
    return p.stdout + p.stderr


def _shrunk(pipeline):
    for step in pipeline:
        if step['type'] in ('SSDRandomCropResize', 'Resize'):
            step['scale'] = SCALE
    return pipeline


def test_four_pedestrian_sets_and_hda_mix_train_and_score_on_hda(synthetic_release, tmp_path,
                                                                  monkeypatch):
    roots = dict(CALTECH_ROOT=str(tmp_path / 'caltech'),
                 CITYPERSONS_ROOT=str(tmp_path / 'citypersons'),
                 CROWDHUMAN_ROOT=str(tmp_path / 'crowdhuman'))
    make_caltech_release(roots['CALTECH_ROOT'], {(0, 0): 12, (1, 0): 9})
    make_citypersons_release(roots['CITYPERSONS_ROOT'])
    make_crowdhuman_release(roots['CROWDHUMAN_ROOT'])
    roots['INRIA_ROOT'] = make_inria_release(str(tmp_path / 'inria'))
    for k, v in roots.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv('HDA_ROOT', synthetic_release)
    cfg = Config.fromfile(CFG)
    mix = cfg.train_dataloader.dataset
    assert mix.type == 'PersonConcatDataset'
    assert [d.dataset.type for d in mix.datasets] == [
        'CaltechDataset', 'CityPersonsDataset', 'CrowdHumanPersonDataset', 'INRIAPersonDataset']
    assert [d.dataset.data_root for d in mix.datasets] == [
        roots[k] for k in ('CALTECH_ROOT', 'CITYPERSONS_ROOT', 'CROWDHUMAN_ROOT', 'INRIA_ROOT')]
    mix.datasets[0].dataset.sets = [0, 1]  # the tiny release has two of Caltech's sets
    # ... plus HDA's training cameras, as a user adds their own target data
    mix.datasets.append(dict(type='RepeatDataset', times=1, dataset=dict(
        type='HDADataset', data_root=synthetic_release, cameras=[17, 50],
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=mix.datasets[0].dataset.pipeline)))
    for d in mix.datasets:
        d['times'] = 1
        _shrunk(d['dataset']['pipeline'])
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False)
    cfg.model.backbone.init_cfg = None
    test = cfg.test_dataloader
    test.update(num_workers=0, persistent_workers=False)
    test.dataset.update(cameras=[19], frame_step=2)
    _shrunk(test.dataset.pipeline)
    cfg_file = str(tmp_path / 'mixed.py')
    cfg.dump(cfg_file)

    env = run_env()
    work = str(tmp_path / 'work')
    out = _run([sys.executable, 'tools/train.py', cfg_file, '--work-dir', work], env)
    # every set was read as distributed and counted, then mixed
    for name in ('CaltechDataset', 'CityPersonsDataset', 'CrowdHumanPersonDataset',
                 'INRIAPersonDataset', 'HDADataset'):
        assert f'{name} load summary' in out, name
    assert 'PersonConcatDataset: left out' not in out
    assert re.search(r'Iter\(train\)\s+\[2/2\]', out), out[-3000:]
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)

    out = _run([sys.executable, 'tools/test.py', cfg_file, ckpt, '--work-dir', work], env)
    mr2 = re.search(r'hda/MR-2: (\S+)', out)
    assert mr2 and 0.0 <= float(mr2.group(1)) <= 1.0, out[-3000:]
    assert 'voc/AP50' in out


def test_sets_not_given_are_left_out_and_reported(synthetic_release, tmp_path, monkeypatch):
    """Only INRIA given: the three others are unset and left out, named in the log."""
    from mmdet.registry import DATASETS
    from mmengine.logging import MMLogger

    import hda_plugin  # noqa: F401
    for k in ('CALTECH_ROOT', 'CITYPERSONS_ROOT', 'CROWDHUMAN_ROOT'):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('INRIA_ROOT', make_inria_release(str(tmp_path / 'inria')))
    cfg = Config.fromfile(CFG)
    logger = MMLogger.get_instance('mix-test', log_file=str(tmp_path / 'log.txt'))
    assert logger is MMLogger.get_current_instance()
    mixed = DATASETS.build(cfg.train_dataloader.dataset)
    assert mixed.skipped == ['CaltechDataset', 'CityPersonsDataset', 'CrowdHumanPersonDataset']
    assert [s['type'] for s in mixed.metainfo['sources']] == ['INRIAPersonDataset']
    assert len(mixed) == 10 * len(mixed.datasets[0].dataset)
    log = open(str(tmp_path / 'log.txt')).read()
    assert "left out ['CaltechDataset', 'CityPersonsDataset', 'CrowdHumanPersonDataset']" in log
    assert os.environ.get('CALTECH_ROOT') is None
