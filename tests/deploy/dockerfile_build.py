"""Replays the Dockerfile's build stage without a Docker engine.

Builds the context the way the engine does (the repository filtered by .dockerignore: patterns in
order, `!` re-includes, the last pattern matching a path or one of its parents wins), then runs the
build stage's WORKDIR / COPY / RUN instructions inside a temporary root, mapping absolute paths into
it, and checks that the final stage's `COPY --from=<build>` source holds the ENTRYPOINT's dll. This
proves the restore layer works from the project files alone and the allow-list lets in all the
build needs.

  dockerfile_build.py REPO_ROOT TEMP_ROOT
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve()
TEMP = Path(sys.argv[2]).resolve()


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def instructions(text):
    lines = text.replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        yield word.upper(), rest.strip()


def pattern_regex(pattern):
    # Go filepath.Match plus `**`, as the engine's pattern matcher uses.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile("^" + out + "$")


def load_dockerignore():
    rules = []
    path = ROOT / ".dockerignore"
    if not path.exists():
        return rules
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        line = line.lstrip("!").strip()
        line = os.path.normpath(line).lstrip("/")
        rules.append((pattern_regex(line), exclude))
    return rules


def included(rel, rules):
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for regex, exclude in rules:
        if any(regex.match(c) for c in candidates):
            excluded = exclude
    return not excluded


def context_files(rules):
    files = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        dirnames[:] = [d for d in dirnames if d != ".git" or rel_dir != "."]
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if included(rel, rules):
                files.add(rel)
    return files


def map_path(path, workdir):
    return TEMP / path.lstrip("/") if path.startswith("/") else workdir / path


def main():
    text = (ROOT / "Dockerfile").read_text()
    stages, current = [], None
    for word, rest in instructions(text):
        if word == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            current = {"image": match.group(1), "name": match.group(2), "steps": []}
            stages.append(current)
        elif current is not None:
            current["steps"].append((word, rest))
    if len(stages) < 2:
        fail("the Dockerfile is not multi-stage")
    build, final = stages[0], stages[-1]
    files = context_files(load_dockerignore())
    print(f"context: {len(files)} files after .dockerignore")
    for required in ("Directory.Build.props", "Directory.Packages.props", "global.json"):
        if required not in files:
            fail(f"{required} is not in the build context")
    if any("/bin/" in f or "/obj/" in f or f.startswith(("tests/", ".git/")) for f in files):
        fail("build output, tests or .git leak into the build context")

    workdir = TEMP
    for word, rest in build["steps"]:
        if word == "WORKDIR":
            workdir = map_path(rest, workdir)
            workdir.mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            *sources, dest = args
            target = map_path(dest, workdir)
            for source in sources:
                source = os.path.normpath(source)
                members = sorted(f for f in files if f == source or f.startswith(source + "/"))
                if not members:
                    fail(f"COPY {source}: not in the build context (missing, or excluded by .dockerignore)")
                for member in members:
                    if member == source:
                        out = target / Path(member).name if dest.endswith("/") else target
                    else:
                        out = target / os.path.relpath(member, source)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / member, out)
            print(f"COPY {' '.join(sources)} -> {dest}")
        elif word == "RUN":
            command = " ".join(shlex.quote(str(map_path(t, workdir)) if t.startswith("/") else t)
                               for t in shlex.split(rest))
            print(f"RUN {rest}")
            result = subprocess.run(["bash", "-c", command], cwd=workdir, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=900)
            if result.returncode != 0:
                print(result.stdout[-4000:], file=sys.stderr)
                fail(f"RUN {rest} exited {result.returncode}")
        elif word in ("ARG", "ENV", "LABEL"):
            fail(f"{word} in the build stage is not replayed by this check; extend dockerfile_build.py")

    entry = None
    copied_from_build = None
    for word, rest in final["steps"]:
        if word == "COPY" and re.search(r"--from=" + re.escape(build["name"] or "0") + r"\b", rest):
            copied_from_build = [a for a in shlex.split(rest) if not a.startswith("--")][0]
        if word == "ENTRYPOINT":
            entry = rest
    if copied_from_build is None:
        fail("the final stage copies nothing from the build stage")
    dll = re.findall(r'"([^"]+\.dll)"', entry or "")
    published = TEMP / copied_from_build.lstrip("/")
    if not dll or not (published / dll[0]).is_file():
        fail(f"{copied_from_build} from the build stage lacks the ENTRYPOINT's {dll}")
    print(f"final stage: {copied_from_build} holds {dll[0]} ({sum(1 for _ in published.iterdir())} entries)")


main()
