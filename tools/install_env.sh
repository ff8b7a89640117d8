#!/usr/bin/env bash
# Installs what hda-ssd needs into a virtual environment, skipping what is already there.
#
#   bash tools/install_env.sh [VENV_DIR]      (default: .venv; `make demo` / `make test` call it)
#
# CPU machines (and CI): pinned torch 2.14.1 + torchvision 0.29.1, mmengine 0.10.7,
# mmcv 2.1.0 built from source with its compiled ops (no wheel exists on PyPI; about
# 12 minutes on 2 cores, cached by pip afterwards), mmdet 3.3.0, then this project with
# its test and infer extras (.[test,infer]).
# GPU users: see README "Installing on a GPU server".
set -euo pipefail

VENV="${1:-.venv}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

log() { printf '[install] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP="$PY -m pip --disable-pip-version-check"
CONSTRAINTS="$ROOT/tools/constraints.txt"

have() {  # have DIST==VERSION  -> 0 when that exact version is installed
  "$PY" - "$1" <<'PYEOF'
import sys
from importlib import metadata
name, _, want = sys.argv[1].partition('==')
try:
    got = metadata.version(name)
except metadata.PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if (not want or got == want) else 1)
PYEOF
}

if ! have torch==2.14.1 || ! have torchvision==0.29.1; then
  log "torch 2.14.1 + torchvision 0.29.1 (pinned: an open range may pull a newer CUDA build)"
  $PIP install -q torch==2.14.1 torchvision==0.29.1
fi

# pkg_resources must stay importable (mmengine 0.10.7, mmcv's setup.py): see tools/constraints.txt.
if ! "$PY" -c "import pkg_resources" 2>/dev/null || ! have wheel || ! have ninja; then
  log "build tools (setuptools>=77.0.3,<82, wheel, ninja)"
  $PIP install -q -c "$CONSTRAINTS" "setuptools>=77.0.3,<82" wheel ninja
fi

if ! have mmengine==0.10.7; then
  log "mmengine 0.10.7"
  $PIP install -q -c "$CONSTRAINTS" mmengine==0.10.7
fi

if ! have mmcv==2.1.0 || ! "$PY" -c "from mmcv.ops import nms" 2>/dev/null; then
  log "mmcv 2.1.0 from source with compiled ops (CPU build; ~12 min on 2 cores the first time)"
  # torch >= 2.10 headers need C++20 but mmcv 2.1.0's setup.py hard-codes -std=c++17;
  # compile through a wrapper that rewrites the flag (see ../shared/docs/stack-notes.md).
  WRAP_DIR="$(mktemp -d)"
  cat > "$WRAP_DIR/cxx20" <<'WEOF'
#!/usr/bin/env bash
args=()
for a in "$@"; do
  if [ "$a" = "-std=c++17" ] || [ "$a" = "-std=c++14" ]; then a="-std=c++20"; fi
  args+=("$a")
done
exec g++ "${args[@]}"
WEOF
  chmod +x "$WRAP_DIR/cxx20"
  # Build tools of the venv (ninja) must be on PATH for torch's BuildExtension.
  PATH="$VENV/bin:$PATH" CXX="$WRAP_DIR/cxx20" MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
    $PIP install -c "$CONSTRAINTS" --no-build-isolation mmcv==2.1.0
  "$PY" -c "from mmcv.ops import nms, batched_nms; print('[install] mmcv ops OK')"
fi

if ! have mmdet==3.3.0; then
  log "mmdet 3.3.0"
  $PIP install -q -c "$CONSTRAINTS" mmdet==3.3.0
fi

# [infer]: PyAV, SAHI, ONNX (the optional inference extras; the tests run every feature)
log "hda-ssd (pip install -e .) with its test and infer extras"
$PIP install -q -c "$CONSTRAINTS" --no-build-isolation -e "$ROOT[test,infer]"

"$PY" - <<'PYEOF'
import torch, mmengine, mmcv, mmdet, hda_plugin
from mmcv.ops import batched_nms  # noqa: F401  (mmdet needs the compiled ops)
print(f'[install] ready: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, hda_plugin {hda_plugin.__version__}')
PYEOF
