"""A run set: replicates of one scenario, one run directory each, under one folder with its manifest.

```
SET/
  runset.json      manifest: scenario, root seed, one entry per replicate (index, seed, directory)
  rep-000/         a finished run directory (run.json, events/, ...), seed = the first replicate's
  rep-001/
  ...
```
The replicate seeds come from the root seed and the replicate index only, never from the scenario:
two run sets made with the same root seed use the same seed for the same replicate index, so their
differences are paired (common random numbers). The set is written under a hidden temporary name and
renamed into place when every replicate is finished, like a run: a half-written set never looks done.
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path

from parcours.errors import RunDirError
from parcours.output.manifest import RunSetManifest, replicate_dir, with_path
from parcours.output.paths import written_by_parcours
from parcours.output.reader import Run
from parcours.output.rundir import MANIFEST, is_run

RUNSET = "runset.json"
__all__ = ["replicate_dir"]  # here before output/manifest.py


def is_runset(path: Path) -> bool:
    return (path / RUNSET).is_file()


class RunSet:
    """A finished run set: its manifest and its replicates, in replicate order."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise RunDirError(f"{self.path}: no such run set")
        if not is_runset(self.path):
            raise RunDirError(f"{self.path}: not a finished parcours run set (no {RUNSET})")
        self.manifest = RunSetManifest.read(self.path / RUNSET)
        self._check_folders()

    def _check_folders(self) -> None:
        """The replicate folders are those the manifest lists, no more and no fewer."""
        listed = {r.path for r in self.manifest.runs}
        for entry in sorted(self.path.iterdir()):
            if entry.name.startswith("rep-") and entry.name not in listed:
                raise RunDirError(
                    f"{entry}: a replicate folder {self.path / RUNSET} does not list "
                    f"({len(listed)} replicate(s)); move it out of the set"
                )
        for r in self.manifest.runs:
            if not (self.path / r.path).is_dir():
                raise RunDirError(
                    f"{self.path / r.path}: missing; {self.path / RUNSET} lists it as a replicate"
                )

    @property
    def scenario(self) -> str:
        return self.manifest.scenario_name or self.manifest.scenario or self.path.name

    @property
    def root_seed(self) -> int:
        return self.manifest.root_seed

    @property
    def seeds(self) -> list[int]:
        return self.manifest.seeds

    @cached_property
    def runs(self) -> list[Run]:
        """Every replicate's run directory, opened (a missing or unfinished one fails here)."""
        return [Run(self.path / r.path) for r in self.manifest.runs]


def open_runs(path: str | Path) -> Run | RunSet:
    """A run directory or a run set, whichever ``path`` is."""
    path = Path(path)
    return RunSet(path) if is_runset(path) else Run(path)


def write_manifest(folder: Path, manifest: RunSetManifest, final: Path | None = None) -> None:
    """Make ``folder``, whose ``rep-NNN`` runs are finished, a run set: ``runset.json`` written last.
    ``final``: where the folder will be moved, for the replicates' own manifests."""
    for run in manifest.runs:
        with_path(folder / run.path / MANIFEST, str((final or folder) / run.path))
    manifest.write(folder / RUNSET)


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of a run set parcours did not write: its manifest, replicate runs and reports are its own."""
    own = {RUNSET}
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in own and not (p.name.startswith("rep-") and is_run(p)) and not written_by_parcours(p)
    )


def check_set_dir(out: Path, *, overwrite: bool) -> None:
    """Refuse a run set's folder that would damage something already on disk."""
    if out.is_file():
        raise RunDirError(f"{out}: exists and is a file, not a run set folder")
    if out.is_dir() and any(out.iterdir()):
        if is_run(out):
            raise RunDirError(f"{out}: a single run is there, not a run set; choose another --out")
        if not is_runset(out):
            raise RunDirError(f"{out}: exists and is not a parcours run set; choose another --out")
        if not overwrite:
            raise RunDirError(f"{out}: a run set is already there; pass --overwrite to replace it")
        foreign = _foreign_entries(out)
        if foreign:
            raise RunDirError(
                f"--overwrite: {out / foreign[0]} was not written by parcours; move it out of the set first"
            )
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"{parent}: cannot create the output's parent directory ({exc.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunDirError(f"{parent}: not writable")


class RunSetWriter:
    """A run set being written: a hidden temporary folder until ``finish``; removed if aborted."""

    def __init__(self, out: Path, *, overwrite: bool = False) -> None:
        check_set_dir(out, overwrite=overwrite)
        self.out = out
        self.tmp = out.absolute().parent / f".{out.name}.partial-{os.getpid()}"
        try:
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            self.tmp.mkdir(parents=True)
        except OSError as exc:
            raise RunDirError(f"{out}: cannot write here ({exc.strerror})") from None

    def replicate(self, index: int) -> Path:
        """Where replicate ``index`` is written while the set is unfinished."""
        return self.tmp / replicate_dir(index)

    def finish(self, manifest: RunSetManifest) -> Path:
        """Write the manifest last, point each replicate's run.json at its final place, move into place."""
        write_manifest(self.tmp, manifest, final=self.out)
        old = None
        if self.out.exists():
            old = self.out.absolute().parent / f".{self.out.name}.old-{os.getpid()}"
            self.out.rename(old)
        self.tmp.rename(self.out)
        if old is not None:
            shutil.rmtree(old)
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> RunSetWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.abort()
