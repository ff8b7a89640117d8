"""The README stays short and every page it (or a docs page) links exists."""
import os
import os.path as osp
import re

from conftest import ROOT

LINK = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')


def _links(path):
    text = open(path, encoding='utf-8').read()
    return [m for m in LINK.findall(text) if not re.match(r'[a-z]+://', m)]


def test_readme_is_short_and_links_the_docs_pages():
    readme = osp.join(ROOT, 'README.md')
    assert os.path.getsize(readme) <= 12 * 1024 + 512
    linked = {osp.normpath(osp.join(ROOT, p)) for p in _links(readme)}
    for page in ('install', 'data', 'weights', 'evaluation', 'diagnostics', 'failure_gallery',
                 'reliability',
                 'tools', 'upstream_defects', 'benchmarks', 'demo', 'inference'):
        assert osp.join(ROOT, 'docs', f'{page}.md') in linked, page


def test_every_relative_link_resolves():
    pages = [osp.join(ROOT, 'README.md')] + [
        osp.join(ROOT, 'docs', f) for f in os.listdir(osp.join(ROOT, 'docs')) if f.endswith('.md')]
    missing = [(osp.relpath(p, ROOT), link) for p in pages for link in _links(p)
               if not osp.exists(osp.normpath(osp.join(osp.dirname(p), link)))]
    assert not missing, missing
