"""supadeploy's reading of a git checkout (commands/gitobjects.py) against git itself: loose objects, packs
with offset and reference deltas, packed refs, a shallow clone of a pull request's merge commit, a
worktree. No database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from supadeploy.commands.gitobjects import GitError, Repository, blob_id

FOLDER = "supabase/migrations"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=dev@example.com", "-c", "user.name=dev",
                           "-c", "init.defaultBranch=main", *args], capture_output=True, text=True,
                          check=True).stdout


def listing(repo: Path, commit: str) -> dict[str, str]:
    """git's own answer: the files of FOLDER at a commit, name → blob id."""
    found = {}
    for line in git(repo, "ls-tree", commit, f"{FOLDER}/").splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            found[path.rsplit("/", 1)[-1]] = sha
    return found


def history(repo: Path) -> None:
    """main with three commits of similar, growing files (deltas), a branch with two more, merged --no-ff."""
    (repo / FOLDER).mkdir(parents=True)
    git(repo, "init", "-q")
    body = "".join(f"create table public.t{i} (id bigint primary key, note text);\n" for i in range(300))
    for step in range(3):
        (repo / FOLDER / f"2024010{step}000000_m{step}.sql").write_text(body + f"-- step {step}\n")
        (repo / FOLDER / "20240100000000_m0.sql").write_text(body + f"-- edited at {step}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"main {step}")
    git(repo, "checkout", "-q", "-b", "feature")
    for step in range(2):
        (repo / FOLDER / f"2024020{step}000000_pr{step}.sql").write_text(body.replace("note", f"n{step}"))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"pr {step}")
    git(repo, "checkout", "-q", "main")
    (repo / FOLDER / "20240103000000_late.sql").write_text("select 1;\n")  # main moves on after the branch
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main later")
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")


def agree(repo: Path) -> None:
    """Every commit's folder, parents and merge base, as git says."""
    found = Repository.find(repo / FOLDER)
    assert found is not None
    head = git(repo, "rev-parse", "HEAD").strip()
    assert found.resolve("HEAD") == head
    assert found.resolve("HEAD^1") == git(repo, "rev-parse", "HEAD^1").strip()
    assert found.resolve("HEAD^2") == git(repo, "rev-parse", "HEAD^2").strip()
    assert found.resolve("feature") == git(repo, "rev-parse", "feature").strip()
    for commit in git(repo, "rev-list", "--all").split():
        assert found.folder(commit, FOLDER) == listing(repo, commit), commit
    assert found.merge_base(found.resolve("HEAD^1") or "", found.resolve("feature") or "") == \
        git(repo, "merge-base", "HEAD^1", "feature").strip()


def test_loose_objects(tmp_path):
    history(tmp_path)
    agree(tmp_path)
    found = Repository.find(tmp_path)
    assert found is not None
    head = found.resolve("HEAD") or ""
    assert found.folder(head, ".") == found.folder(head, "") == {}  # the top holds only the folder supabase/


@pytest.mark.parametrize("offsets", [True, False], ids=["offset deltas", "reference deltas"])
def test_packs_with_deltas_and_packed_refs(tmp_path, offsets):
    history(tmp_path)
    git(tmp_path, "-c", f"repack.useDeltaBaseOffset={'true' if offsets else 'false'}", "repack", "-adf", "-q",
        "--depth=50", "--window=50")
    git(tmp_path, "pack-refs", "--all")
    assert not list((tmp_path / ".git" / "objects").glob("??/*"))  # everything is in the pack now
    agree(tmp_path)


def test_a_shallow_clone_of_the_merge_commit_has_its_base_and_nothing_older(tmp_path):
    origin = tmp_path / "origin"
    history(origin)
    git(origin, "branch", "-q", "merged", "HEAD")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", "--branch", "merged", f"file://{origin}", str(clone)],
                   check=True)
    found = Repository.find(clone / FOLDER)
    assert found is not None and found.shallow
    base = found.resolve("HEAD^1")
    assert base == git(origin, "rev-parse", "HEAD^1").strip()
    assert found.folder(base, FOLDER) == listing(origin, base)
    assert found.parents(base) == []  # the boundary: nothing older was fetched
    with pytest.raises(GitError):
        found.folder(git(origin, "rev-parse", "HEAD~3").strip(), FOLDER)


def test_a_worktree_reads_the_common_objects(tmp_path):
    history(tmp_path / "repo")
    git(tmp_path / "repo", "worktree", "add", "-q", "--detach", str(tmp_path / "wt"), "feature")
    found = Repository.find(tmp_path / "wt" / FOLDER)
    assert found is not None and found.top == tmp_path / "wt"
    assert found.resolve("HEAD") == git(tmp_path / "repo", "rev-parse", "feature").strip()


def test_blob_ids_are_gits(tmp_path):
    path = tmp_path / "f.sql"
    for data in (b"", b"select 1;\n", "é\r\n".encode() * 1000):
        path.write_bytes(data)
        assert blob_id(data) == git(tmp_path, "hash-object", str(path)).strip()
