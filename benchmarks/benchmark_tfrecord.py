"""TFRecord reading speed and memory: hda-ssd (no TensorFlow) vs TensorFlow's tf.data.

    python benchmarks/benchmark_tfrecord.py [--records 2000] [--work-dir /tmp/hda_tfrecord_bench]
        [--tf-python /path/to/python-with-tensorflow] [--rss-sizes 100 10000]

1. Writes SSD-Tensorflow-schema shards (200 records each) of synthetic HDA frames
   (640x480 and 1280x800 JPEGs, a few person boxes each).
2. hda-ssd: ``SSDTFRecordDataset`` built from scratch (offset index + CRC + annotation
   parse; once per training run, timed apart), then for every record
   ``mmengine.fileio.get`` + ``decode_bgr`` (libjpeg-turbo through simplejpeg, as
   ``LoadImageFast``) and its pixel boxes. One process, one thread.
3. TensorFlow (when an interpreter with it is given or importable), as its users run it:
   ``tf.data.TFRecordDataset(files).map(parse)`` in graph mode, ``parse`` being
   ``tf.io.parse_single_example`` + ``tf.io.decode_jpeg`` and the pixel boxes; twice: one
   map call with one intra-op and one inter-op thread (the figure hda-ssd's one process is
   compared with), and TensorFlow's default threading with ``num_parallel_calls=AUTOTUNE``.
4. Peak RSS of step 2 in a fresh process, for one shard of each size in ``--rss-sizes``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

TF_SNIPPET = r'''
import glob, sys, time
import tensorflow as tf
mode = sys.argv[2]  # 'one': one map call, one intra-op and inter-op thread; 'default'
if mode == 'one':
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
files = sorted(glob.glob(sys.argv[1]))
spec = {'image/encoded': tf.io.FixedLenFeature([], tf.string),
        'image/object/bbox/xmin': tf.io.VarLenFeature(tf.float32),
        'image/object/bbox/ymin': tf.io.VarLenFeature(tf.float32),
        'image/object/bbox/xmax': tf.io.VarLenFeature(tf.float32),
        'image/object/bbox/ymax': tf.io.VarLenFeature(tf.float32),
        'image/object/bbox/label': tf.io.VarLenFeature(tf.int64)}

def parse(rec):  # traced once: graph mode, as SSD-Tensorflow's slim provider runs it
    ex = tf.io.parse_single_example(rec, spec)
    img = tf.io.decode_jpeg(ex['image/encoded'], channels=3)
    shape = tf.cast(tf.shape(img), tf.float32)
    h, w = shape[0], shape[1]
    boxes = tf.stack([tf.sparse.to_dense(ex['image/object/bbox/' + k]) for k in
                      ('xmin', 'ymin', 'xmax', 'ymax')], axis=1) * tf.stack([w, h, w, h])
    return img, boxes, tf.sparse.to_dense(ex['image/object/bbox/label'])

calls = 1 if mode == 'one' else tf.data.AUTOTUNE
ds = tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=calls)
t0 = time.perf_counter()
n = 0
for img, boxes, labels in ds:
    img.numpy(), boxes.numpy(), labels.numpy()
    n += 1
print(n, time.perf_counter() - t0, tf.__version__)
'''

OURS_SNIPPET = r'''
import resource, sys, time

def rss_mb():  # current resident set, from the kernel
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024

from mmengine.fileio import get
from hda_plugin.datasets import SSDTFRecordDataset
from hda_plugin.fileio.jpeg import decode_bgr
rss_start = rss_mb()
t0 = time.perf_counter()
ds = SSDTFRecordDataset(data_root=None, file_pattern=sys.argv[1], test_mode=True,
                        index_cache_dir=sys.argv[2])
t_index = time.perf_counter() - t0
n = 0
for i in range(len(ds)):
    info = ds.get_data_info(i)
    img = decode_bgr(get(info['img_path']))  # what LoadImageFast does
    boxes = [x['bbox'] for x in info['instances']]
    n += 1
dt = time.perf_counter() - t0
print(n, dt, t_index, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      round(rss_start, 1), round(rss_mb(), 1))
'''


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--records', type=int, default=2000)
    p.add_argument('--work-dir', default='/tmp/hda_tfrecord_bench')
    p.add_argument('--tf-python', help='python with tensorflow (default: this one, if it has it)')
    p.add_argument('--rss-sizes', type=int, nargs='*', default=[100, 10000])
    return p.parse_args()


def frame_pool(work_dir):
    """A pool of encoded synthetic HDA frames and their boxes (the decode cost is real)."""
    from hda_plugin.datasets import HDADataset
    from hda_plugin.datasets.frames import extract_release
    from hda_plugin.testing import make_synthetic_hda
    root = osp.join(work_dir, 'release')
    if not osp.isdir(osp.join(root, 'hda_frames')):
        make_synthetic_hda(root, [17, 50], frames=10, seed=1, progress=False)
        extract_release(root, [17, 50], progress=False)
    ds = HDADataset(data_root=root, cameras=[17, 50], test_mode=True)
    pool = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        with open(info['img_path'], 'rb') as f:
            pool.append((info, f.read()))
    return pool


def write_shards(pool, out_dir, name, n, per_shard=200):
    from tfrecord.writer import TFRecordWriter

    from hda_plugin.fileio.tf_example import ssd_example
    os.makedirs(out_dir, exist_ok=True)
    w = None
    for i in range(n):
        if i % per_shard == 0:
            if w:
                w.close()
            w = TFRecordWriter(osp.join(out_dir, f'{name}_{i // per_shard:03d}.tfrecord'))
        info, data = pool[i % len(pool)]
        inst = info['instances']
        w.write(ssd_example(info['width'], info['height'], [i['bbox'] for i in inst],
                            [i['ignore_flag'] for i in inst], data, 15))
    w.close()
    return osp.join(out_dir, f'{name}_*.tfrecord')


def run(python, snippet, *argv):
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([python, '-c', snippet, *argv], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return out.stdout.strip().splitlines()[-1].split()


def main():
    args = parse_args()
    pool = frame_pool(args.work_dir)
    pattern = write_shards(pool, osp.join(args.work_dir, 'speed'), 'hda_train', args.records)
    size_mb = sum(osp.getsize(osp.join(args.work_dir, 'speed', f)) for f in
                  os.listdir(osp.join(args.work_dir, 'speed')) if f.endswith('.tfrecord')) / 2**20
    cache = osp.join(args.work_dir, 'index_cache')
    for f in (os.listdir(cache) if osp.isdir(cache) else []):
        os.remove(osp.join(cache, f))  # index built from scratch inside the timing
    n, dt, t_index, *_ = run(sys.executable, OURS_SNIPPET, pattern, cache)
    # read + decode of every record (the loop, as TensorFlow's); building the dataset (offset
    # index, CRC, annotations) happens once per run, not per epoch, and is reported apart
    ours = int(n) / (float(dt) - float(t_index))
    cold = int(n) / float(dt)
    result = dict(records=int(n), shards_mb=round(size_mb, 1),
                  ours_records_per_s=round(ours, 1),
                  ours_dataset_build_s=round(float(t_index), 2),
                  ours_records_per_s_with_build=round(cold, 1))
    tf_python = args.tf_python or sys.executable
    try:
        for mode in ('one', 'default'):
            n_tf, dt_tf, tf_version = run(tf_python, TF_SNIPPET, pattern, mode)
            rate = int(n_tf) / float(dt_tf)
            result.update({'tensorflow': tf_version, f'tf_map_{mode}_records_per_s':
                           round(rate, 1), f'ratio_ours_over_tf_map_{mode}': round(ours / rate, 2),
                           f'ratio_ours_with_build_over_tf_map_{mode}': round(cold / rate, 2)})
    except RuntimeError as e:
        result['tensorflow'] = f'not measured ({str(e).strip().splitlines()[-1]})'
    rss = {}
    for size in args.rss_sizes:
        d = osp.join(args.work_dir, f'rss_{size}')
        if not osp.isdir(d):
            write_shards(pool, d, 'one', size, per_shard=size)
        p = osp.join(d, 'one_*.tfrecord')
        *_, maxrss_kb, rss_start, rss_end = run(sys.executable, OURS_SNIPPET, p,
                                                osp.join(d, 'cache'))
        rss[size] = dict(shard_mb=round(osp.getsize(osp.join(d, 'one_000.tfrecord')) / 2**20, 1),
                         peak_rss_mb=round(int(maxrss_kb) / 1024, 1),
                         rss_before_dataset_mb=float(rss_start),
                         rss_after_reading_all_mb=float(rss_end))
    result['peak_rss'] = rss
    if len(rss) >= 2:
        lo, hi = rss[min(rss)]['peak_rss_mb'], rss[max(rss)]['peak_rss_mb']
        result['rss_growth_percent'] = round(100 * (hi - lo) / lo, 1)
        a = rss[max(rss)]['rss_after_reading_all_mb'] - rss[max(rss)]['rss_before_dataset_mb']
        b = rss[min(rss)]['rss_after_reading_all_mb'] - rss[min(rss)]['rss_before_dataset_mb']
        result['rss_added_by_dataset_mb'] = {min(rss): round(b, 1), max(rss): round(a, 1)}
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
