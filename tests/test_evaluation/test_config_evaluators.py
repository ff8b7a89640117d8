"""Every config's evaluators build, and name their protocols as the README says."""
import glob
import os.path as osp

import pytest
from mmdet.registry import METRICS
from mmengine.config import Config

import hda_plugin  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*.py')))


#: the metrics a config's test set is scored with: each data set its own protocol(s)
OWN_METRICS = {
    'HDADataset': {'HDABenchmarkMetric', 'CaltechMetric', 'CameraVOCMetric'},
    'SSDTFRecordDataset': {'CaltechMetric', 'CameraVOCMetric'},
    'CaltechDataset': {'CaltechMetric'},
    'INRIAPersonDataset': {'CaltechMetric'},
    'CityPersonsDataset': {'CityPersonsMetric'},
    'CrowdHumanPersonDataset': {'CrowdHumanMetric'},
}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_evaluators_build_with_named_protocols(path):
    cfg = Config.fromfile(path)
    metrics = [METRICS.build(dict(e)) for e in cfg.test_evaluator]
    test_set = cfg.test_dataloader.dataset.type
    # each test set is scored by its own protocols only (the HDA metrics would fail on
    # another set's samples), one class per protocol, no MissRateMetric alias
    assert {type(m).__name__ for m in metrics} == OWN_METRICS[test_set]
    assert not any(e['type'] == 'MissRateMetric' for e in cfg.test_evaluator)
    miss = {m.protocol: m for m in metrics if hasattr(m, 'protocol')}
    if 'CaltechMetric' in OWN_METRICS[test_set]:
        assert miss['caltech'].prefix == 'caltech' and miss['caltech'].aspect_ratio == 0.41
        assert 'Reasonable' in miss['caltech'].settings
    if test_set == 'HDADataset':
        assert miss['hda-benchmark'].prefix == 'hda'
        assert 'Occ=heavy' in miss['caltech'].settings
    if test_set in ('HDADataset', 'CaltechDataset', 'CityPersonsDataset'):
        # the test pipeline carries the visible fractions the settings need
        steps = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
        assert 'LoadHDAAnnotations' in steps and steps[-1] == 'PackHDADetInputs'
    if test_set == 'CityPersonsDataset':
        assert list(miss['citypersons'].setups) == ['Reasonable', 'Small', 'Heavy', 'All']


def test_offline_tools_build_the_configs_metric_as_the_test_run_does():
    """plot_curves/browse_dataset take the config's caltech metric through the registry,
    aliases included (an option of the other protocol at its default is accepted there)."""
    from hda_plugin.evaluation.metrics.caltech_metric import CaltechMetric
    from hda_plugin.evaluation.results import metric_from_config
    cfg = Config(dict(test_evaluator=[
        dict(type='HDABenchmarkMetric'),
        dict(type='MissRateMetric', protocol='caltech', aspect_ratio=0.41, pool_exclude=[2],
             settings=['Reasonable'])]))
    m = metric_from_config(cfg)
    assert isinstance(m, CaltechMetric) and m.aspect_ratio == 0.41
    assert list(m.settings) == ['Reasonable']
    assert type(metric_from_config(Config(dict(test_evaluator=[])))) is CaltechMetric
