"""Scan files for personal identifiers: the check that runs before every study, on its own.

    python -m study.privacy scan qa.jsonl docs/
    python -m study.privacy scan qa.jsonl --patterns 'record_number=\\bRN-\\d{6}\\b' --names staff-names.txt
    python -m study.privacy scan qa.jsonl --space search_spaces/my.yaml    # the space's privacy.patterns and names

Finds Swedish personnummer and samordningsnummer (checksum-valid, with or without century and
separator), e-mail addresses, telephone numbers, dates of birth next to words that say so, IP
addresses, the team's own patterns and, with a list, names of people (not without one). Prints
one line per finding (file:line, kind, the value masked; at most 10, then a count) and exits
with 2; exits with 0 when nothing is found.
"""

from __future__ import annotations

import argparse
import sys

from study.cli import EXIT_USAGE, entry_point


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.privacy", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="scan files and folders (.jsonl .json .txt .md .csv .tsv)")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    scan.add_argument("--patterns", action="append", default=[], metavar="NAME=REGEX|FILE.yaml",
                      help="a pattern of your own, or a YAML file of name: regex (repeatable)")
    scan.add_argument("--names", metavar="FILE", help="names of people to look for, one a line")
    scan.add_argument("--space", metavar="NAME|PATH", help="also use this search space's privacy.patterns and names")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from study.core.personal_data import Scanner, files_to_scan, report_lines

    patterns, names = list(args.patterns), args.names
    if args.space:
        from search_spaces import load_space

        privacy = load_space(args.space).config({}).privacy
        patterns += list(privacy.patterns or ())
        names = names or privacy.names
    scanner = Scanner.build(patterns, names, where="command line" if not args.space else f"--space {args.space}")
    files = files_to_scan(args.paths)
    findings = scanner.scan_paths(files)
    if findings:
        print("\n".join(report_lines(findings)))
        return EXIT_USAGE
    print(f"no personal identifiers found in {len(files)} file{'s' if len(files) != 1 else ''}"
          + ("" if names else " (names of people are looked for only with --names FILE)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
