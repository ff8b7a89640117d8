"""PersonConcatDataset: person sets of different releases mix in MMDetection 3.3, where
MMEngine's ConcatDataset fails on their metainfo (open-mmlab/mmdetection #10474)."""
import pytest
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset

import hda_plugin  # noqa: F401  (registers the data sets)
from hda_plugin.datasets import PERSON_METAINFO, PersonConcatDataset, PersonDataset
from hda_plugin.datasets.person import LoadSummary, person_instance


def _hda(root, cams):
    return dict(type='HDADataset', data_root=root, cameras=cams, test_mode=True, pipeline=[])


@DATASETS.register_module(force=True)
class _TwoClassSet(BaseDetDataset):
    METAINFO = dict(classes=('person', 'car'))

    def load_data_list(self):
        return [dict(img_path='x.jpg', img_id=0, height=10, width=10, instances=[])]


@pytest.fixture(scope='module')
def two_releases(synthetic_release, tmp_path_factory):
    """The synthetic release and a copy of it under another root: two HDA sources whose
    metainfo differs in data_root only."""
    import shutil
    other = str(tmp_path_factory.mktemp('release_copy') / 'hda')
    shutil.copytree(synthetic_release, other)
    return synthetic_release, other


def test_mmengine_concat_fails_where_person_concat_mixes(two_releases):
    a, b = two_releases
    with pytest.raises(ValueError, match='meta information'):
        ConcatDataset([_hda(a, [17]), _hda(b, [19])])  # the upstream failure, still there
    mixed = PersonConcatDataset([_hda(a, [17]), dict(type='RepeatDataset', times=2,
                                                    dataset=_hda(b, [19, 50]))])
    n17 = len(DATASETS.build(_hda(a, [17])))
    n_other = len(DATASETS.build(_hda(b, [19, 50])))
    assert len(mixed) == n17 + 2 * n_other
    assert mixed.metainfo['classes'] == PERSON_METAINFO['classes']
    assert [s['data_root'] for s in mixed.metainfo['sources']] == [a, b]
    assert [s['type'] for s in mixed.metainfo['sources']] == ['HDADataset', 'HDADataset']
    # samples come from each source in order
    assert mixed.get_data_info(0)['img_path'].startswith(a)
    assert mixed.get_data_info(len(mixed) - 1)['img_path'].startswith(b)


def test_person_concat_refuses_another_label_map(synthetic_release):
    with pytest.raises(ValueError, match=r"data set 1 \(_TwoClassSet\).*\('person', 'car'\)"):
        PersonConcatDataset([_hda(synthetic_release, [17]), dict(type='_TwoClassSet')])


def test_person_concat_leaves_out_unset_roots_and_says_so(synthetic_release):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine')  # print_log(logger='current') needs one
    mixed = PersonConcatDataset([
        dict(type='RepeatDataset', times=3, dataset=_hda('unset', [17])),
        _hda(synthetic_release, [17])])
    assert mixed.skipped == ['HDADataset']
    assert len(mixed) == len(DATASETS.build(_hda(synthetic_release, [17])))
    with pytest.raises(ValueError, match='every data set was left out'):
        PersonConcatDataset([_hda('', [17])])
    # without skip_missing an empty root is the data set's own error
    with pytest.raises(Exception):
        PersonConcatDataset([_hda('', [17])], skip_missing=False)


def test_person_instance_box_rule():
    counts = dict(zero_area=0, outside=0, clipped=0)
    assert person_instance([1, 1, 0, 5], 10, 10, counts, False) is None
    assert person_instance([20, 1, 5, 5], 10, 10, counts, False) is None
    clipped = person_instance([-2, 1, 5, 5], 10, 10, counts, True, visibility=0.5)
    kept = person_instance([-2, 1, 5, 5], 10, 10, counts, False, clip=False)
    assert counts == dict(zero_area=1, outside=1, clipped=2)
    assert clipped == dict(bbox=[0.0, 1.0, 3.0, 6.0], bbox_label=0, ignore_flag=1,
                           visibility=0.5)
    assert kept == dict(bbox=[-2.0, 1.0, 3.0, 6.0], bbox_label=0, ignore_flag=0)


def test_load_summary_counts_and_refuses_unknown_columns():
    s = LoadSummary(['images', 'persons'], ['persons: regular'])
    s.count('a', 'images')
    s.count('a', 'persons', 3)
    s.count('b', 'persons')
    assert s.total() == dict(images=1, persons=4)
    lines = s.lines('title', 'video')
    assert lines[0] == 'title' and lines[-2].split() == ['total', '1', '4']
    with pytest.raises(KeyError, match="no column 'people'"):
        s.count('a', 'people')


def test_every_person_set_declares_the_one_label_map():
    import hda_plugin.datasets as ds
    person_sets = [getattr(ds, n) for n in ds.__all__
                   if isinstance(getattr(ds, n), type) and issubclass(getattr(ds, n),
                                                                       BaseDetDataset)]
    assert ds.HDADataset in person_sets
    for cls in person_sets:
        assert cls.METAINFO == PERSON_METAINFO, cls
    for cls in person_sets:
        if cls.__name__ not in ('HDADataset', 'SSDTFRecordDataset'):
            assert issubclass(cls, PersonDataset), cls
