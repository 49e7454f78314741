"""//data:preprocess builds complete caches with their statistics, and never a half one."""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from data import prepare, preprocess
from data.cache import CacheError, open_split, read_stats
from data.datasets import load_split


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache")
    assert preprocess.main(["--dataset=sample", f"--out={out}", "--workers=2"]) == 0
    return out


def test_cache_holds_every_sample_image_with_its_label(cache):
    train, source = open_split(cache / "train"), load_split("sample", "train")
    assert train.images.shape == (120, 256, 256, 3) and train.images.dtype == np.uint8
    assert train.labels.tolist() == source.labels
    assert train.classes == source.classes and train.names[0] == "tench"
    assert len(open_split(cache / "val")) == 80


def test_sources_list_a_sha256_per_image(cache):
    rows = (cache / "train" / "sources.tsv").read_text().splitlines()
    assert len(rows) == 120 and all(len(row.split("\t")[1]) == 64 for row in rows)


def test_stats_describe_the_train_pixels(cache):
    stats = read_stats(cache)
    images = open_split(cache / "train").images
    np.testing.assert_allclose(stats["mean"], images.reshape(-1, 3).mean(0), rtol=1e-6)
    vectors = np.array(stats["eigenvectors"])
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-9)
    assert stats["eigenvalues"] == sorted(stats["eigenvalues"], reverse=True)
    assert not (cache / "mean_image.npy").exists()  # the trainer normalises by channel, as it reads no mean image


def test_rerun_keeps_a_finished_cache(cache, capsys):
    assert preprocess.main(["--dataset=sample", f"--out={cache}"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cache_of_another_source_is_not_overwritten(cache, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(Path(load_split("sample", "train").paths[0]).parents[2], other)
    assert preprocess.main(["--dataset=folder", f"--data-dir={other}", f"--out={cache}"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_unfinished_split_is_not_taken_for_a_cache(tmp_path):
    (tmp_path / "train.partial").mkdir()
    with pytest.raises(CacheError, match="interrupted run"):
        open_split(tmp_path / "train")


def test_cache_of_another_source_is_refused(cache, tmp_path, capsys):
    assert preprocess.main(["--dataset=folder", f"--data-dir={tmp_path}", f"--out={cache}"]) == 2
    assert f"{cache / 'train'} already holds a uint8 cache of" in capsys.readouterr().err


@pytest.fixture
def tree_with_bad_file(tmp_path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(Path(load_split("sample", "train").paths[0]).parents[2], tree)
    (tree / "train" / "n01440764" / "broken.JPEG").write_bytes(b"\xff\xd8\xff\xe0garbage")
    return tree


def test_bad_file_is_skipped_and_counted(tree_with_bad_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert preprocess.main(["--dataset=folder", f"--data-dir={tree_with_bad_file}", f"--out={out}",
                            "--splits=train", "--workers=1"]) == 0
    printed = capsys.readouterr().out
    assert "  skipped " in printed and "broken.JPEG: " in printed  # named on the console, with its reason
    train = open_split(out / "train")
    assert len(train) == 120 and len(train.manifest["skipped"]) == 1
    assert train.manifest["skipped"][0]["path"].endswith("broken.JPEG")
    assert train.labels.tolist() == load_split("sample", "train").labels


def test_bad_file_fails_the_run_when_asked(tree_with_bad_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert preprocess.main(["--dataset=folder", f"--data-dir={tree_with_bad_file}", f"--out={out}",
                            "--splits=train", "--on-bad-image=fail"]) == 2
    assert "broken.JPEG" in capsys.readouterr().err
    assert not (out / "train").exists()


def test_many_skipped_files_are_listed_up_to_twenty(capsys, tmp_path):
    skipped = [{"path": f"img{i}.JPEG", "reason": "truncated"} for i in range(23)]
    prepare.print_skipped(skipped, tmp_path / "manifest.json")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 21 and lines[0] == "  skipped img0.JPEG: truncated"
    assert lines[-1] == f"  and 3 more, listed in {tmp_path / 'manifest.json'}"


def test_a_split_done_in_no_time_reports_no_absurd_rate():
    assert prepare.speed(120, 0.0) == "0.0 s"
    assert prepare.speed(800, 2.0) == "2.0 s (400 img/s)"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
