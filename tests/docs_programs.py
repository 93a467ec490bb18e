"""Runs every fenced code block of README.md and docs/*.md that is marked as a complete program, so
that the documentation cannot go stale. Standard library only.

A block is marked by the word ``program`` after its language: ```` ```python program ```` or
```` ```csharp program ```` (renderers show the language and ignore the rest; docs/contributing.md
says so). A Python program runs with this interpreter and ``PYTHONPATH=python`` (the source
checkout's package, as built by ``./run.sh``); a C# program runs as a .NET 10 file-based app
(``dotnet run file.cs``) that references the repository's packable library projects (what a user
gets from NuGet). Each must exit with status 0 within its time limit. README.md must mark at least
its three examples.

    python3 tests/docs_programs.py     # prints "docs programs: N run, N passed" last; exit status 1 on a failure
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAM = re.compile(r"^(?P<fence>```|~~~)(?P<language>python|csharp)[ \t]+program[ \t]*\n(?P<code>.*?)^(?P=fence)[ \t]*$",
                     re.M | re.S)
TIMEOUT = 300  # seconds a program may take, its build included
README_PROGRAMS = 3


def programs():
    """(page, line, language, code) of every marked block, README.md first."""
    for page in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in PROGRAM.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield page.relative_to(ROOT), line, match["language"], match["code"]


def library_projects():
    """The packable projects under src: what a C# user references (as NuGet packages)."""
    return sorted(path for path in (ROOT / "src").glob("*/*.csproj")
                  if "<IsPackable>true</IsPackable>" in path.read_text(encoding="utf-8"))


def command(language, code, directory):
    if language == "python":
        path = directory / "program.py"
        path.write_text(code, encoding="utf-8")
        return [sys.executable, str(path)]
    # A file-based app: the directives reference the projects; PublishAot is on by default for these,
    # and the runtime-hosted CPython (pythonnet) generates code at run time.
    directives = "".join(f"#:project {project}\n" for project in library_projects())
    path = directory / "program.cs"
    path.write_text(directives + "#:property PublishAot=false\n" + code, encoding="utf-8")
    return ["dotnet", "run", str(path)]


def run(language, code):
    """(passed, output) of one program."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), DOTNET_CLI_TELEMETRY_OPTOUT="1",
               DOTNET_NOLOGO="1")
    with tempfile.TemporaryDirectory(prefix="cs_futures-docs-") as directory:
        try:
            result = subprocess.run(command(language, code, pathlib.Path(directory)), cwd=directory, env=env,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as timeout:
            return False, f"did not finish in {TIMEOUT} s\n{timeout.stdout or ''}{timeout.stderr or ''}"
    return result.returncode == 0, f"exit status {result.returncode}\n{result.stdout}{result.stderr}"


def main():
    found = list(programs())
    in_readme = sum(1 for page, *_ in found if str(page) == "README.md")
    failed = 0
    if in_readme < README_PROGRAMS:
        print(f"README.md marks {in_readme} programs, fewer than its {README_PROGRAMS} examples")
        failed += 1
    passed_count = 0
    for page, line, language, code in found:
        passed, output = run(language, code)
        print(f"{page}:{line} ({language}): {'passed' if passed else 'FAILED'}")
        if passed:
            passed_count += 1
        else:
            failed += 1
            print("   " + "\n   ".join(output.strip().splitlines()[-25:]))
    print(f"docs programs: {len(found)} run, {passed_count} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
