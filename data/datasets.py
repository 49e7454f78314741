"""Where each --dataset lives (downloaded on first use where it can be), and its splits.

Every dataset is a train/<class>/* and val/<class>/* tree (data/folders.py), except
ImageNet, which is also read from its official archives or Kaggle's copy (data/imagenet.py).

    split = load_split("folder", "train", data_dir="…/imagenette2-224sq")
    split.paths[0], split.labels[0], split.names[split.labels[0]]
"""
import os
import socket
import tarfile
import urllib.error
from pathlib import Path

from data import imagenet
from data.folders import DataError, Split, list_split

# The fast.ai archives; md5 sums as torchvision.datasets.Imagenette checks them.
FASTAI = "https://s3.amazonaws.com/fast-ai-imageclas/"
IMAGENETTE_ARCHIVES = {
    "imagenette": (FASTAI + "imagenette2.tgz", "fe2fc210e6bb7c5664d602c3cd71e612"),
    "imagenette-320": (FASTAI + "imagenette2-320.tgz", "3df6f0d01a2c9592104656642f5e78a3"),
    "imagenette-160": (FASTAI + "imagenette2-160.tgz", "e793b78cc4c9e9a4ccc0c1155377a412"),
}

DATASETS = (*IMAGENETTE_ARCHIVES, "imagenet", "folder", "sample")

# The committed sample travels beside this module (in Bazel's runfiles tree too).
SAMPLE_DIR = Path(__file__).parent / "sample"

DEFAULT_DATA_DIR = Path(os.environ.get("ALEXNET_DATA", Path.home() / ".cache" / "alexnet" / "data"))


def dataset_root(dataset: str, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The folder holding train/ and val/ for a dataset, downloading Imagenette if needed."""
    if dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    if dataset == "sample":
        return Path(data_dir) if data_dir else SAMPLE_DIR
    if dataset in ("folder", "imagenet"):
        if not data_dir:
            layout = "train/<class>/* and val/<class>/*"
            if dataset == "imagenet":
                layout = ("ILSVRC-2012's official archives, Kaggle's copy (ILSVRC/ and LOC_val_solution.csv) "
                          "or train/<wnid>/ and val/<wnid>/")
            raise DataError(f"--dataset={dataset} needs --data-dir, a folder with {layout}")
        if not Path(data_dir).is_dir():
            raise DataError(f"--data-dir {data_dir} is not a folder")
        return Path(data_dir)
    return _imagenette_root(dataset, Path(data_dir) if data_dir else DEFAULT_DATA_DIR, download)


def _imagenette_root(dataset: str, data_dir: Path, download: bool) -> Path:
    url, md5 = IMAGENETTE_ARCHIVES[dataset]
    if (data_dir / "train").is_dir() and (data_dir / "val").is_dir():
        return data_dir  # --data-dir points straight at an extracted copy
    extracted = data_dir / Path(url).name.removesuffix(".tgz")
    if extracted.is_dir():
        return extracted
    if not download:
        raise DataError(f"{dataset} is not in {data_dir}; download {url} or point --data-dir at a copy")
    return _download_and_extract(url, md5, data_dir, extracted)


def _download_and_extract(url: str, md5: str, data_dir: Path, extracted: Path) -> Path:
    from torchvision.datasets.utils import check_integrity, download_url

    archive = data_dir / Path(url).name
    data_dir.mkdir(parents=True, exist_ok=True)
    if not check_integrity(str(archive), md5):
        previous_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(60)  # a silent network fails in a minute instead of hanging
        try:
            download_url(url, str(data_dir), md5=md5)  # progress bar, retries, md5 check
        except (urllib.error.URLError, OSError) as error:
            raise DataError(
                f"could not download {url} ({error}). Without network, copy the extracted archive "
                f"somewhere and pass --data-dir pointing at the folder that holds train/ and val/"
            ) from None
        finally:
            socket.setdefaulttimeout(previous_timeout)
        if not check_integrity(str(archive), md5):
            raise DataError(f"{archive} does not match its md5 {md5}; delete it and run again")
    safe_extract(archive, extracted)
    return extracted


def safe_extract(archive: Path, target: Path) -> None:
    """Extracts a tar archive's single top folder to target, refusing members that escape it."""
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or member.issym() or member.islnk():
                raise DataError(f"{archive} holds an unsafe member {member.name!r}; refusing to extract it")
        # The members are checked above; the "data" filter (Python 3.11.4+, not the pinned
        # 3.11.2) is a second guard where the interpreter has it.
        tar.extractall(partial, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    tops = list(partial.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise DataError(f"{archive} should hold one top folder, found {[p.name for p in tops]}")
    tops[0].rename(target)
    partial.rmdir()


def load_split(dataset: str, split: str, data_dir: str | Path | None = None, download: bool = True) -> Split:
    if split not in ("train", "val"):
        raise DataError(f"split must be 'train' or 'val', got {split!r}")
    root = dataset_root(dataset, data_dir, download)
    if dataset == "imagenet":
        return imagenet.load_split(root, split)
    return list_split(root, split)
