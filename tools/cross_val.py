"""K-fold cross-validation over the cameras of an HDA release: every camera scored by a
model that never saw it, pooled into one detector folder the HDA benchmark scores.

    python tools/cross_val.py CONFIG --folds 3 --work-dir work_dirs/cv [--seeds 0 1 2]
        [--val-cameras 1] [--cameras 17 18 ...] [--name NAME] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm] [--gpus N] [--fold I ...] [--dry-run] [--collect]

Each fold x seed is an ordinary MMEngine run in ``DIR/seed{S}/fold{i}/`` (its config dumped
there): ``tools/train.py`` on the training cameras, the checkpoint chosen by ``hda/MR-2`` on
the validation cameras (``save_best``), then ``tools/test.py --hda-detections NAME_seedS``
on the test cameras. The test cameras' ``allD.txt`` are pooled per seed into
``DIR/hda_detections/NAME_seedS/cameraNN/Detections/allD.txt`` (``DIR`` links the release's
``hda_annotations``, so ``tools/analysis/hda_benchmark.py DIR --detector NAME_seedS`` and
dbEval.m score it), scored, and written to ``DIR/summary.json``. A run started again skips
the finished folds and resumes the others from their checkpoints. docs/cross_validation.md.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from hda_plugin.engine.work_dir_lock import WorkDirInUseError, work_dir_lock  # noqa: E402
from hda_plugin.evaluation.bootstrap import BootstrapSettings  # noqa: E402
from hda_plugin.evaluation.cross_validation import (  # noqa: E402
    FOLD_RULE,
    PLAN_FILE,
    SELECTION_KEY,
    SUMMARY_FILE,
    VAL_RULE,
    CrossValError,
    best_checkpoint,
    caltech_pool,
    caltech_table,
    camera_overrides,
    check_record,
    config_fingerprint,
    default_cameras,
    find_hda_datasets,
    fold_complete,
    link_release,
    make_folds,
    mean_std,
    parse_cameras,
    people_frames,
    pool_detections,
    read_json,
    release_root_of,
    score_pool,
    summary_table,
    write_json,
)
from hda_plugin.evaluation.protocols import HDA_BENCHMARK  # noqa: E402
from hda_plugin.fileio.alld import alld_path, read_detector_record  # noqa: E402
from hda_plugin.fileio.hda_layout import HDA_LAYOUT, camera_name  # noqa: E402
from hda_plugin.utils.cli import DictAction, config_from_args  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402

TOOLS = osp.dirname(osp.abspath(__file__))
FOLD_RECORD = 'cross_val_fold.json'  # the fold's plan, written before it trains
TRAINED = 'cross_val_trained.json'  # training finished, checkpoint chosen
DONE = 'cross_val_done.json'  # tested: the fold is finished
PLAN_KEYS = ('fingerprint', 'cameras', 'folds_k', 'val_cameras_n', 'name', 'release')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f'Fold rule: {FOLD_RULE}.\nValidation rule: {VAL_RULE}.\nCheckpoint: the one '
        f'with the lowest {SELECTION_KEY} on the validation cameras (MMEngine\'s save_best).')
    p.add_argument('config', help='an HDA config (HDADataset in train, val and test)')
    p.add_argument('--folds', type=int, required=True, metavar='K', help='number of test folds')
    p.add_argument('--work-dir', required=True, metavar='DIR',
                   help='root of the folds\' work dirs, the pooled detections, summary.json')
    p.add_argument('--seeds', type=int, nargs='+', metavar='S',
                   help='training seeds (randomness.seed), each a full cross-validation '
                   '(default 0; --collect: the seeds of the plan)')
    p.add_argument('--val-cameras', type=int, default=1, metavar='N',
                   help='validation cameras per fold (default %(default)s)')
    p.add_argument('--cameras', nargs='+',
                   help='cameras to split (default: every camera of the release but 02, the '
                   'benchmark\'s pool)')
    p.add_argument('--bootstrap', type=int, default=1000, metavar='N',
                   help='resamples of the pooled MR-2\'s interval per seed (blocks of '
                   'frames within each camera, as hda_benchmark.py --bootstrap; 0: none; '
                   'default %(default)s)')
    p.add_argument('--name', help='detector name; folders NAME_seedS (default: the config\'s '
                   'file name)')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                   help='passed to every fold\'s training and test (checked as tools/train.py '
                   'checks them); the cameras, randomness.seed and save_best are set per fold')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                   help='none: tools/train.py; pytorch: tools/dist_train.sh/dist_test.sh with '
                   '--gpus; slurm: srun tools/train.py --launcher slurm (inside a job)')
    p.add_argument('--gpus', type=int, default=1, help='processes per fold (--launcher pytorch)')
    p.add_argument('--fold', type=int, nargs='+', metavar='I',
                   help='run only these folds (0-based; e.g. one Slurm array task each)')
    p.add_argument('--dry-run', action='store_true',
                   help='print the plan and one command line per fold x seed; run nothing')
    p.add_argument('--collect', action='store_true',
                   help='pool and score folds run elsewhere; list those missing (exit 1)')
    return p.parse_args(argv)


def user_options(raw):
    """``--cfg-options`` as a dict (for loading) and as given (for the folds' commands)."""
    ns = argparse.Namespace(opts=None)
    if raw:
        DictAction(option_strings=[], dest='opts')(None, ns, raw)
    return ns.opts or {}, list(raw or [])


def check_user_options(opts, fixed):
    """The keys cross-validation sets per fold are refused in --cfg-options."""
    for key in opts:
        k = key.lstrip('+')
        for f in fixed:
            if k == f or f.startswith(k + '.') or k.startswith(f + '.'):
                raise CrossValError(
                    f'--cfg-options {key}: cross_val.py sets {f} in every fold (cameras: '
                    '--cameras/--val-cameras and the fold rule; seed: --seeds; checkpoint '
                    'selection: save_best); leave it out of --cfg-options.')


def show(cmd):
    """``cmd`` as one shell line; a ``"$(...)"`` item (a checkpoint found when the line
    runs, :func:`fold_line`) is left to the shell."""
    return ' '.join(c if c.startswith('"$(') else shlex.quote(c) for c in cmd)


class CrossVal:
    """The plan of one cross-validation folder and the commands of its folds."""

    def __init__(self, args):
        self.args = args
        opts, self.raw_opts = user_options(args.cfg_options)
        cfg = config_from_args(argparse.Namespace(config=args.config, cfg_options=opts))
        self.cfg = cfg
        self.config = args.config
        self.datasets = find_hda_datasets(cfg, args.config)
        self.release = release_root_of(self.datasets, args.config)
        ckpt = cfg.get('default_hooks', {}).get('checkpoint', {})
        self.best_opts = [
            f'{"" if "save_best" in ckpt else "+"}default_hooks.checkpoint.save_best='
            f'{SELECTION_KEY}',
            f'{"" if "rule" in ckpt else "+"}default_hooks.checkpoint.rule=less']
        self.seed_key = ('' if 'seed' in (cfg.get('randomness') or {}) else '+') + \
            'randomness.seed'
        evaluators = cfg.get('val_evaluator')
        evaluators = evaluators if isinstance(evaluators, (list, tuple)) else [evaluators]
        if not any(str((e or {}).get('type', '')).endswith('HDABenchmarkMetric')
                   for e in evaluators):
            raise CrossValError(f'{args.config}: val_evaluator has no HDABenchmarkMetric, so '
                                f'no {SELECTION_KEY} to choose each fold\'s checkpoint on '
                                '(configs/_base_/hda_runtime.py adds it).')
        fixed = [f'{path}.cameras' for path, _ in self.datasets.values()] + \
            ['randomness.seed', 'default_hooks.checkpoint.save_best',
             'default_hooks.checkpoint.rule']
        check_user_options(opts, fixed)
        cams = parse_cameras(args.cameras) if args.cameras else default_cameras(self.release)
        self.people = people_frames(self.release, cams)
        self.folds = make_folds(self.people, args.folds, args.val_cameras, self.release)
        self.name = args.name or osp.splitext(osp.basename(args.config))[0]
        self.root = args.work_dir
        self.plan = dict(
            config=osp.abspath(args.config), fingerprint=config_fingerprint(cfg.to_dict()),
            cfg_options=self.raw_opts, release=osp.abspath(self.release), name=self.name,
            cameras=list(self.people), folds_k=args.folds, val_cameras_n=args.val_cameras,
            people_frames={camera_name(c): n for c, n in self.people.items()},
            fold_rule=FOLD_RULE, val_rule=VAL_RULE,
            selection=f'lowest {SELECTION_KEY} on the validation cameras (save_best)',
            folds=[f.to_dict() for f in self.folds])

    # ---- paths and commands ------------------------------------------------------------
    def fold_dir(self, seed, i):
        return osp.join(self.root, f'seed{seed}', f'fold{i}')

    def detector(self, seed):
        return f'{self.name}_seed{seed}'

    def _tool(self, name, python):
        path = osp.join(TOOLS, name)
        rel = osp.relpath(path)
        return rel if not rel.startswith('..') else path

    def train_cmd(self, seed, fold, resume, python=sys.executable):
        a, wd = self.args, self.fold_dir(seed, fold.fold)
        opts = self.raw_opts + [f'{k}=[{",".join(map(str, v))}]' for k, v in
                                camera_overrides(self.datasets, fold, 'train').items()]
        opts += [f'{self.seed_key}={seed}'] + self.best_opts
        rest = ['--work-dir', wd] + (['--resume'] if resume else []) + ['--cfg-options'] + opts
        if a.launcher == 'pytorch':
            return ['bash', self._tool('dist_train.sh', python), self.config, str(a.gpus)] + rest
        cmd = [python, self._tool('train.py', python), self.config] + rest
        return (['srun'] + cmd + ['--launcher', 'slurm']) if a.launcher == 'slurm' else cmd

    def test_cmd(self, seed, fold, ckpt, python=sys.executable):
        a, wd = self.args, self.fold_dir(seed, fold.fold)
        opts = self.raw_opts + [f'{k}=[{",".join(map(str, v))}]' for k, v in
                                camera_overrides(self.datasets, fold, 'test').items()]
        # its own work dir: MMEngine dumps the config there, the training's dump stays
        rest = ['--work-dir', osp.join(wd, 'test'), '--hda-detections', self.detector(seed),
                '--hda-out', wd,
                '--cfg-options'] + opts
        if a.launcher == 'pytorch':
            return ['bash', self._tool('dist_test.sh', python), self.config, ckpt,
                    str(a.gpus)] + rest
        cmd = [python, self._tool('test.py', python), self.config, ckpt] + rest
        return (['srun'] + cmd + ['--launcher', 'slurm']) if a.launcher == 'slurm' else cmd

    # ---- plan ---------------------------------------------------------------------------
    def check_plan(self, seeds, write):
        path = osp.join(self.root, PLAN_FILE)
        old = read_json(path)
        check_record(path, old, self.plan, PLAN_KEYS)
        summary = osp.join(self.root, SUMMARY_FILE)
        check_record(summary, read_json(summary), self.plan, PLAN_KEYS)
        known = sorted(set((old or {}).get('seeds', [])) | set(seeds))
        if write and (old is None or old.get('seeds') != known):
            write_json(dict(self.plan, seeds=known), path)
        return known

    def print_plan(self, prefix=''):
        cams = ', '.join(camera_name(c) for c in self.people)
        print(f'{prefix}cross-validation of {self.config} on {self.release}: '
              f'{len(self.folds)} folds over cameras {cams}')
        print(f'{prefix}  fold rule: {FOLD_RULE}')
        print(f'{prefix}  validation rule: {VAL_RULE}')
        rows = [(f.fold, ' '.join(map(str, f.test_cameras)), f.people_frames,
                 ' '.join(map(str, f.val_cameras)), ' '.join(map(str, f.train_cameras)))
                for f in self.folds]
        print('\n'.join(prefix + line for line in format_table(
            ('fold', 'test cameras', 'frames with people', 'val cameras', 'train cameras'),
            rows, align='rlrll')))


def _die_with_parent():
    """Children get SIGTERM when this process dies (Linux), so a killed cross-validation
    leaves no training running that would hold its fold's work dir."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_logged(cmd, log_path, what):
    print(f'    {show(cmd)}\n    log: {log_path}', flush=True)
    env = dict(os.environ)
    env.setdefault('PYTHON', sys.executable)  # tools/dist_*.sh
    with open(log_path, 'a', encoding='utf-8') as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                             preexec_fn=_die_with_parent if sys.platform == 'linux' else None)
    if rc != 0:
        with open(log_path, encoding='utf-8', errors='replace') as f:
            tail = f.read()[-3000:]
        raise CrossValError(f'{what} failed (exit status {rc}); its log {log_path} ends:\n'
                            f'{tail}\nFix the cause and run the same command again: finished '
                            'folds are skipped, this one resumes.')


def newest_test_metrics(fold_dir, since):
    """The metrics tools/test.py logged (MMEngine's ``<work_dir>/<stamp>/<stamp>.json``) in
    a run started after ``since``; None when there is none."""
    best = None
    for stamp in os.listdir(fold_dir) if osp.isdir(fold_dir) else ():
        path = osp.join(fold_dir, stamp, f'{stamp}.json')
        if osp.isfile(path) and osp.getmtime(path) >= since and \
                (best is None or osp.getmtime(path) > osp.getmtime(best)):
            best = path
    if best is None:
        return None
    try:
        with open(best, encoding='utf-8') as f:
            d = json.load(f)
    except ValueError:
        return None
    return {k: v for k, v in d.items() if isinstance(v, (int, float)) and '/' in k}


def run_fold(cv, seed, fold, k):
    wd, det = cv.fold_dir(seed, fold.fold), cv.detector(seed)
    head = f'fold {fold.fold + 1}/{k} seed {seed}'
    expected = dict(cv.plan, seed=seed, fold=fold.to_dict(), detector=det)
    rec_path = osp.join(wd, FOLD_RECORD)
    check_record(rec_path, read_json(rec_path), expected, ('fingerprint', 'fold', 'detector'))
    done = read_json(osp.join(wd, DONE))
    if done and fold_complete(wd, det, fold.test_cameras)[0]:
        print(f'{head}: finished before (test cameras {fold.test_cameras}), skipped', flush=True)
        return done
    os.makedirs(wd, exist_ok=True)
    if not osp.isfile(rec_path):
        write_json(dict(fingerprint=cv.plan['fingerprint'], config=cv.plan['config'],
                        seed=seed, fold=fold.to_dict(), detector=det), rec_path)
    trained = read_json(osp.join(wd, TRAINED))
    if trained and not osp.isfile(str(trained.get('checkpoint'))):
        print(f'{head}: the chosen checkpoint {trained.get("checkpoint")} is gone: training '
              'again (resumed)', flush=True)
        trained = None
    if not trained:
        resume = osp.isfile(osp.join(wd, 'last_checkpoint')) or any(
            n.endswith('.pth') for n in os.listdir(wd))
        print(f'{head}: training on cameras {fold.train_cameras}, validating on '
              f'{fold.val_cameras}' + (' (resumed from its checkpoint)' if resume else ''),
              flush=True)
        run_logged(cv.train_cmd(seed, fold, resume), osp.join(wd, 'cross_val_train.log'),
                   f'{head}: training')
        ckpt = best_checkpoint(wd)
        selection = f'best {SELECTION_KEY} on cameras {fold.val_cameras}'
        if ckpt is None:
            # MMEngine writes no best file when training resumed past its last validation
            with open(osp.join(wd, 'last_checkpoint'), encoding='utf-8') as f:
                ckpt = f.read().strip()
            selection = ('last checkpoint: no best checkpoint (the run resumed after its last '
                         'validation)')
            print(f'{head}: warning: {selection}: {ckpt}', flush=True)
        trained = dict(checkpoint=ckpt, selection=selection)
        write_json(trained, osp.join(wd, TRAINED))
    print(f'{head}: testing {osp.basename(trained["checkpoint"])} on cameras '
          f'{fold.test_cameras}', flush=True)
    t0 = time.time() - 1
    run_logged(cv.test_cmd(seed, fold, trained['checkpoint']),
               osp.join(wd, 'cross_val_test.log'), f'{head}: testing')
    ok, why = fold_complete(wd, det, fold.test_cameras)
    if not ok:
        raise CrossValError(f'{head}: tools/test.py exited 0 but {why}.')
    done = dict(trained, test_cameras=fold.test_cameras,
                test_metrics=newest_test_metrics(osp.join(wd, 'test'), t0))
    write_json(done, osp.join(wd, DONE))
    return done


def fold_status(cv, seeds):
    """``(finished {(seed, fold): record}, missing [(seed, fold, why)])``."""
    finished, missing = {}, []
    for seed in seeds:
        for f in cv.folds:
            wd, det = cv.fold_dir(seed, f.fold), cv.detector(seed)
            ok, why = fold_complete(wd, det, f.test_cameras)
            if ok and osp.isfile(osp.join(wd, TRAINED)) and not osp.isfile(osp.join(wd, DONE)):
                # this tool trained the fold and its test has not finished since: the
                # detections there may be an earlier test's (of an earlier checkpoint)
                ok, why = False, (f'{osp.join(wd, TRAINED)} is there but not '
                                  f'{osp.join(wd, DONE)}: its test did not finish after its '
                                  f'training (run --fold {f.fold} --seeds {seed} to test it)')
            if ok:
                rec = read_json(osp.join(wd, DONE)) or {}
                if not rec:
                    info = read_detector_record(osp.join(wd, HDA_LAYOUT['detections'], det))
                    rec = dict(checkpoint=info.get('checkpoint'), test_metrics=None)
                finished[seed, f.fold] = rec
            else:
                state = 'unfinished' if osp.isdir(wd) else 'missing'
                missing.append((seed, f, f'{state}: {why}'))
    return finished, missing


def fold_line(cv, seed, fold):
    """One line that runs one fold x seed: its training, then its test on the checkpoint
    save_best kept (found when the line runs, by :func:`best_checkpoint`: MMEngine names it
    after its iteration)."""
    find = ('from hda_plugin.evaluation.cross_validation import best_checkpoint as b; '
            f'print(b({cv.fold_dir(seed, fold.fold)!r}))')
    ckpt = f'"$(python -c {shlex.quote(find)})"'
    return (f'{show(cv.train_cmd(seed, fold, True, "python"))} && '
            f'{show(cv.test_cmd(seed, fold, ckpt, "python"))}')


def collect(cv, seeds, finished):
    """Pools each seed's folds, scores them, writes summary.json and prints the table."""
    link_release(cv.root, cv.release, own=[cv.detector(s) for s in seeds])
    boot = BootstrapSettings(resamples=cv.args.bootstrap) if cv.args.bootstrap > 0 else None
    runs = []
    for seed in seeds:
        sources = {}
        for f in cv.folds:
            for c in f.test_cameras:
                sources[c] = alld_path(cv.fold_dir(seed, f.fold), cv.detector(seed), c)
        pool_detections(cv.root, cv.detector(seed), sources,
                        dict(config=cv.plan['config'], fingerprint=cv.plan['fingerprint'],
                             seed=seed, folds=[f.to_dict() for f in cv.folds]))
        metrics, _, pool = score_pool(cv.root, cv.detector(seed), list(cv.people),
                                      bootstrap=boot)
        caltech = caltech_pool(cv.cfg, cv.root, cv.detector(seed), list(cv.people))
        runs.append(dict(seed=seed, detector=cv.detector(seed), pool_cameras=pool, **metrics,
                         **caltech))
    mean, std = mean_std(runs)
    folds = []
    for f in cv.folds:
        d = f.to_dict()
        d['work_dir'] = cv.fold_dir('{seed}', f.fold)
        d['work_dirs'] = {str(s): cv.fold_dir(s, f.fold) for s in seeds}
        d['checkpoints'] = {str(s): finished[s, f.fold].get('checkpoint') for s in seeds}
        d['test_metrics'] = {str(s): finished[s, f.fold].get('test_metrics') for s in seeds}
        folds.append(d)
    bench = (f'python tools/analysis/hda_benchmark.py {shlex.quote(cv.root)} --detector '
             + ' '.join(cv.detector(s) for s in seeds)
             + ' --cameras ' + ' '.join(map(str, runs[0]['pool_cameras'])))
    if boot is not None:  # the intervals too, from the same resamples
        bench += (f' --bootstrap {boot.resamples} --ci {boot.ci} --seed {boot.seed} '
                  f'--block-frames {boot.block_frames}')
    summary = dict({k: v for k, v in cv.plan.items() if k != 'folds'}, seeds=list(seeds),
                   folds=folds, runs=runs, mean=mean, std=std, benchmark_command=bench,
                   bootstrap=asdict(boot) if boot is not None else None,
                   note='hda/MR-2: protocol hda-benchmark (dbEval.m) on the pooled allD.txt; '
                   'caltech/<setting>/MR-2: protocol caltech (the config\'s CaltechMetric) '
                   'on the same pooled detections and the test set\'s vbb ground truth; '
                   'folds[].test_metrics: each fold\'s own test run')
    write_json(summary, osp.join(cv.root, SUMMARY_FILE))
    print('=' * 72)
    print(f'{cv.name}: log-average miss rate, protocol hda-benchmark (dbEval.m: '
          f'GT {HDA_BENCHMARK["gt"]}), {len(cv.folds)}-fold cross-validation over cameras, '
          f'seeds {list(seeds)}; pool = cameras {runs[0]["pool_cameras"]}')
    print('\n'.join(summary_table(runs, mean, std, list(cv.people))))
    print('log-average miss rate, protocol caltech (Dollár\'s settings on the vbb annotations, '
          'the same pooled detections), pool of all cameras:')
    print('\n'.join(caltech_table(runs, mean, std)))
    print(f'pooled detections: {osp.join(cv.root, "hda_detections")}/{cv.name}_seed*/')
    print(f'same figure: {bench}')
    print(f'summary: {osp.join(cv.root, SUMMARY_FILE)}')
    print('=' * 72)
    return summary


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.dry_run and args.collect:
            raise CrossValError('--dry-run and --collect: choose one.')
        if args.gpus < 1:
            raise CrossValError(f'--gpus {args.gpus}: at least 1.')
        cv = CrossVal(args)
        bad = [i for i in args.fold or () if not 0 <= i < len(cv.folds)]
        if bad:
            raise CrossValError(f'--fold {bad}: folds are 0..{len(cv.folds) - 1}.')
        if args.collect:
            seeds = args.seeds or cv.check_plan([], write=False)
            cv.check_plan(seeds, write=False)
            if not seeds:
                raise CrossValError(f'--collect: no {osp.join(cv.root, PLAN_FILE)} and no '
                                    '--seeds: nothing to collect.')
            finished, missing = fold_status(cv, seeds)
            if missing:
                lines = [f'  seed {s} fold {f.fold} (test cameras {f.test_cameras}): {why}\n'
                         f'    {fold_line(cv, s, f)}' for s, f, why in missing]
                raise CrossValError(f'--collect: {len(missing)} of {len(seeds) * len(cv.folds)} '
                                    'folds are not finished; run them, then --collect again:\n'
                                    + '\n'.join(lines))
            collect(cv, seeds, finished)
            return 0
        seeds = args.seeds or [0]
        cv.check_plan(seeds, write=True)
        cv.print_plan('# ' if args.dry_run else '')
        folds = [f for f in cv.folds if args.fold is None or f.fold in args.fold]
        if args.dry_run:
            print(f'# one line per fold x seed ({len(seeds) * len(folds)}); then: '
                  f'python tools/cross_val.py {show([args.config])} --folds {args.folds} '
                  f'--work-dir {shlex.quote(cv.root)} --collect ...')
            for seed in seeds:
                for f in folds:
                    print(fold_line(cv, seed, f))
            return 0
        with work_dir_lock(cv.root):
            done = {}
            for seed in seeds:
                for f in folds:
                    done[seed, f.fold] = run_fold(cv, seed, f, len(cv.folds))
            if args.fold is not None:
                print(f'folds {args.fold} finished; --collect pools them once all are.')
                return 0
            collect(cv, seeds, done)
        return 0
    except (ValueError, OSError, WorkDirInUseError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
